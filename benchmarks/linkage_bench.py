"""庁内データ連携 on PostgreSQL at municipal scale: export, checker, 全件 over HTTP, 差分 latency.

    .venv/bin/python -m benchmarks.linkage_bench --n 1000000

A scratch database is created (and dropped afterwards) and N residents are COPY-loaded with the
loader of `benchmarks.residents_bench` (dataset preparation, not measured). Then, as the
application role `kikan_app` (RLS in force):

- `pg_copy_out` (baseline): PostgreSQL `COPY (SELECT …) TO STDOUT` of the rows the export reads
  (each person's current row joined with its latest history snapshot, every history row, every
  household), streamed to /dev/null-like sink — the floor for "read everything";
- `export_standard`: `kikan export standard` (all 住民記録 groups as CSV + manifest), rows/s over
  the same person/history/household rows plus the address rows it derives;
- `checker`: the conformance checker (`kikan check`) on that export; it must pass;
- `full_pull_http`: 全件 `GET /api/v1/linkage/full/residents` over real HTTP against
  `kikan serve` (uvicorn, 1 worker, separate process), paging with `limit` until the end;
- `diff_poll_latency` / `diff_jetstream_latency`: commit-to-visible latency of a 差分 — a 転入
  is committed, and we time until a consumer polling `GET /changes` every `--poll-ms`, and a
  NATS JetStream subscriber fed by the relay (`kikan linkage push` loop, same interval), see
  its seq. p50/p99 over `--events` commits.

NATS (JetStream) must run at --nats-url (default nats://127.0.0.1:4222); the benchmark uses a
stream and subject prefix of its own and deletes the stream at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from benchmarks.residents_bench import ACTOR, TENANT, load_dataset, move_in_once
from benchmarks.runner import Benchmark, Case
from kikan.conformance.checker import check_files
from kikan.linkage import push
from kikan.linkage import service as linkage_service
from kikan.linkage.domain import client_assertion
from kikan.models import upgrade
from kikan.platform import tenancy
from kikan.platform.context import Context
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database, Scope
from kikan.residents.export import export_standard

BASELINE_SQL = {
    "persons": (
        "COPY (SELECT c.*, h.snapshot FROM residents_current c JOIN residents_history h"
        " ON h.tenant_code = c.tenant_code AND h.atena_number = c.atena_number"
        " AND h.history_no = c.history_no ORDER BY c.atena_number) TO STDOUT WITH (FORMAT csv)"
    ),
    "history": (
        "COPY (SELECT * FROM residents_history ORDER BY atena_number, history_no)"
        " TO STDOUT WITH (FORMAT csv)"
    ),
    "households": (
        "COPY (SELECT * FROM residents_households ORDER BY household_number)"
        " TO STDOUT WITH (FORMAT csv)"
    ),
}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def copy_out(app_url: str) -> tuple[int, int]:
    """The baseline: every row the export reads, through COPY TO STDOUT. Returns (rows, bytes)."""
    rows = size = 0
    with psycopg.connect(_dsn(app_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT set_config('kikan.tenant', %s, false)", (TENANT,))
        for sql in BASELINE_SQL.values():
            with cur.copy(sql) as copy:
                for chunk in copy:
                    size += len(chunk)
                    rows += bytes(chunk).count(b"\n")
    return rows, size


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(app_url: str, var_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KIKAN_DATABASE_URL": app_url,
        "KIKAN_VAR_DIR": str(var_dir),
        "KIKAN_LOG_LEVEL": "WARNING",
        "KIKAN_NATS_URL": "",  # the benchmark runs its own relay
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "kikan", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("kikan serve did not start")


def token(base: str, client_id: str, secret: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/api/v1/linkage/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(client_id, secret),
        },
        timeout=30,
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def full_pull(base: str, headers: dict[str, str], limit: int) -> tuple[int, int]:
    rows = pages = 0
    cursor: str | None = None
    with httpx.Client(base_url=base, headers=headers, timeout=300) as http:
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            r = http.get("/api/v1/linkage/full/residents", params=params)
            r.raise_for_status()
            page = r.json()
            rows += len(page["records"])
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                return rows, pages


def latency_run(
    db: Database,
    base: str,
    headers: dict[str, str],
    config: push.PushConfig,
    events: int,
    poll_s: float,
    rng: random.Random,
) -> tuple[list[float], list[float]]:
    """Commit `events` 転入; time until the polling consumer and the JetStream subscriber see
    each one's seq. Returns (polling latencies, JetStream latencies) in seconds."""
    committed: dict[int, float] = {}
    seen_poll: dict[int, float] = {}
    seen_js: dict[int, float] = {}
    stop = threading.Event()
    with db.unit_of_work(TENANT) as uow:
        start_seq = uow.session.scalar(select(func.max(OutboxEventRow.seq))) or 0

    def poller() -> None:
        cursor = start_seq
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while not stop.is_set():
                page = http.get("/api/v1/linkage/changes", params={"after": cursor}).json()
                now = time.perf_counter()
                for c in page["changes"]:
                    seen_poll.setdefault(c["seq"], now)
                cursor = page["next_cursor"]
                time.sleep(poll_s)

    relay_stop: asyncio.Event | None = None
    loop_ready = threading.Event()
    loop_holder: dict[str, Any] = {}

    def nats_side() -> None:
        async def main() -> None:
            nonlocal relay_stop
            relay_stop = asyncio.Event()
            nc = await nats.connect(config.url)
            js = nc.jetstream()
            await push.ensure_stream(js, config)

            async def on_msg(msg: Any) -> None:
                body = json.loads(msg.data)
                seen_js.setdefault(body["seq"], time.perf_counter())
                await msg.ack()

            await js.subscribe(
                push.subject_for(config.prefix, TENANT, ">"),
                cb=on_msg,
                stream=config.stream,
                deliver_policy=nats.js.api.DeliverPolicy.NEW,
            )
            loop_holder["loop"] = asyncio.get_running_loop()
            loop_ready.set()
            await push.run(db, config, relay_stop, interval=poll_s, tenants=[TENANT])
            await nc.drain()

        asyncio.run(main())

    t_poll = threading.Thread(target=poller, daemon=True)
    t_nats = threading.Thread(target=nats_side, daemon=True)
    t_nats.start()
    loop_ready.wait(30)
    # let the relay publish the backlog (the dataset load wrote no outbox events) and settle
    time.sleep(1.0)
    t_poll.start()
    for i in range(events):
        move_in_once(db, 10_000_000 + i)  # one 転入 = one outbox event, committed on return
        committed[start_seq + i + 1] = time.perf_counter()
        time.sleep(rng.uniform(0.1, 0.3))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        len(seen_poll) < len(committed) or len(seen_js) < len(committed)
    ):
        time.sleep(0.05)
    stop.set()
    if relay_stop is not None and "loop" in loop_holder:
        loop_holder["loop"].call_soon_threadsafe(relay_stop.set)
    t_poll.join(10)
    t_nats.join(15)
    poll = [seen_poll[s] - t for s, t in committed.items() if s in seen_poll]
    jet = [seen_js[s] - t for s, t in committed.items() if s in seen_js]
    return poll, jet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000, help="residents (target 1,000,000)")
    parser.add_argument("--page", type=int, default=5000, help="全件 page size")
    parser.add_argument("--events", type=int, default=60, help="commits for the latency cases")
    parser.add_argument("--poll-ms", type=float, default=100.0)
    parser.add_argument(
        "--nats-url", default=os.environ.get("KIKAN_NATS_URL") or "nats://127.0.0.1:4222"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    rng = random.Random(2026)
    name = f"kikan_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(args.postgres_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner = make_url(args.postgres_url).set(database=name)
    owner_url = owner.render_as_string(hide_password=False)
    app_url = owner.set(username="kikan_app", password=None).render_as_string(hide_password=False)
    bench = Benchmark(
        "linkage",
        dataset={"residents": args.n, "full_page": args.page, "latency_events": args.events},
        database="postgresql (kikan_app, RLS on)",
    )
    tag = uuid.uuid4().hex[:8]
    config = push.PushConfig(
        url=args.nats_url, prefix=f"kikanbench{tag}", stream=f"KIKANBENCH_{tag}"
    )
    work = Path(tempfile.mkdtemp(prefix="kikan-linkage-bench-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner_db = Database(owner_url)
        with owner_db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市")
            uow.commit()
        owner_db.dispose()
        t0 = time.perf_counter()
        load_dataset(owner_url, args.n, rng)
        bench.note(f"dataset load (COPY, not measured as a case): {time.perf_counter() - t0:.1f} s")
        db = Database(app_url, pool_size=5)

        t0 = time.perf_counter()
        base_rows, base_bytes = copy_out(app_url)
        bench.add(
            Case("pg_copy_out", seconds=time.perf_counter() - t0, items=base_rows, unit="rows"),
            baseline=True,
        )
        bench.note(f"COPY TO STDOUT: {base_rows:,} rows, {base_bytes / 1e6:,.0f} MB")

        out_dir = work / "export"
        t0 = time.perf_counter()
        manifest = export_standard(db, TENANT, out_dir, actor=ACTOR)
        seconds = time.perf_counter() - t0
        files = {f.group: f.rows for f in manifest.files}
        same_rows = files["person"] + files["history"] + files["household"]
        bench.add(Case("export_standard", seconds=seconds, items=same_rows, unit="rows"))
        bench.note(
            f"export files: {files} ({sum(f.bytes for f in manifest.files) / 1e6:,.0f} MB); "
            "export rows/s counts the person+history+household rows the baseline copies "
            f"(the {files['address']:,} derived address rows come on top)"
        )

        t0 = time.perf_counter()
        report = check_files("住民記録", sorted(out_dir.glob("*.csv")))
        checked = sum(files.values())
        bench.add(Case("checker", seconds=time.perf_counter() - t0, items=checked, unit="rows"))
        bench.note(
            f"kikan check on the export: {'PASS' if report.ok else 'FAIL'} "
            f"({len(report.findings)} findings)"
        )

        with db.unit_of_work(TENANT) as uow:
            client = linkage_service.register_client(
                uow,
                Context(actor=ACTOR),
                linkage_service.RegisterClient(name="bench", scopes=("residents.changed",)),
            )
            uow.commit()
        port = free_port()
        server = start_server(app_url, work, port)
        base = f"http://127.0.0.1:{port}"
        headers = token(base, client.client_id, client.client_secret)
        t0 = time.perf_counter()
        rows, pages = full_pull(base, headers, args.page)
        bench.add(Case("full_pull_http", seconds=time.perf_counter() - t0, items=rows, unit="rows"))
        bench.note(f"全件 over HTTP: {rows:,} records in {pages} pages of {args.page}")

        headers = token(base, client.client_id, client.client_secret)
        poll, jet = latency_run(db, base, headers, config, args.events, args.poll_ms / 1000, rng)
        bench.add(
            Case(
                "diff_poll_latency", seconds=sum(poll), items=len(poll), unit="events", samples=poll
            )
        )
        bench.add(
            Case(
                "diff_jetstream_latency",
                seconds=sum(jet),
                items=len(jet),
                unit="events",
                samples=jet,
            )
        )
        bench.note(
            f"latency: polling every {args.poll_ms:.0f} ms; relay checks the outbox every "
            f"{args.poll_ms:.0f} ms; seen {len(poll)}/{args.events} (poll), "
            f"{len(jet)}/{args.events} (JetStream); p50/p99 in the table (ms)"
        )
        for label, samples in (("poll", poll), ("jetstream", jet)):
            if samples:
                ordered = sorted(samples)
                p50 = ordered[len(ordered) // 2] * 1000
                p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
                bench.note(f"{label} latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        db.dispose()
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)

        async def drop_stream() -> None:
            try:
                nc = await nats.connect(config.url)
            except Exception:
                return
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(config.stream)
            await nc.close()

        asyncio.run(drop_stream())
        shutil.rmtree(work, ignore_errors=True)
        with psycopg.connect(_dsn(args.postgres_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bench.finish()


if __name__ == "__main__":
    main()
