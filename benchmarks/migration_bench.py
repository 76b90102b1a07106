"""移行 on PostgreSQL: legacy import throughput against raw COPY, and synthesis of a big city.

    .venv/bin/python -m benchmarks.migration_bench --rows 1000000 --synth 3770000

A scratch database is created (and dropped afterwards) and migrated; the application connects as
`kikan_app` (RLS in force, as in production). A synthetic city of `--rows` persons is written as
a legacy UTF-8 CSV export (preparation, timed separately), then, each case in a fresh child
process so that its peak memory (max RSS) is its own:

- `raw_copy` (baseline): COPY of the same CSV rows into an unindexed table of text columns,
  the fastest anything can put those rows into PostgreSQL;
- `import`: `kikan import legacy` on that file (decoding, 外字, validation of every item,
  numbering, encryption of My Numbers, history + projection + name keys + households through
  the residents bulk API, the batch ledger, one audit record and one outbox event per batch);
- `synth_db`: `kikan synth` of `--synth` persons (Yokohama: 3,770,000) straight into the
  register through the same bulk path.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import psutil
import psycopg
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.migration.importer import import_file
from kikan.migration.legacy import load_mapping
from kikan.migration.parallel import default_workers
from kikan.migration.synth import synth_to_db, synth_to_files
from kikan.models import upgrade
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.uow import Database, Scope

TENANT_IMPORT = "992011"
TENANT_SYNTH = "992003"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _TreeMemory:
    """Samples the RSS of this process's descendants (the preparation workers, started through
    the forkserver, so RUSAGE_CHILDREN does not see them) every 0.2 s; keeps the peak of the
    largest worker and of the whole tree (this process included)."""

    def __init__(self) -> None:
        self.worker_peak = 0
        self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            sizes = []
            for child in me.children(recursive=True):
                try:
                    sizes.append(child.memory_info().rss)
                except psutil.Error:
                    continue
            if sizes:
                self.worker_peak = max(self.worker_peak, *sizes)
            self.tree_peak = max(self.tree_peak, me.memory_info().rss + sum(sizes))


def _raw_copy(owner_url: str, csv_path: str, columns: int) -> dict[str, Any]:
    cols = ", ".join(f"c{i} text" for i in range(columns))
    with psycopg.connect(_dsn(owner_url)) as conn:
        conn.execute(f"CREATE UNLOGGED TABLE IF NOT EXISTS legacy_raw ({cols})")
        conn.execute("TRUNCATE legacy_raw")
        conn.commit()
        t0 = time.perf_counter()
        sql = "COPY legacy_raw FROM STDIN WITH (FORMAT csv, HEADER true)"
        with conn.cursor() as cur, Path(csv_path).open("rb") as fh, cur.copy(sql) as copy:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - t0
        rows = conn.execute("SELECT count(*) FROM legacy_raw").fetchone()
    return {"seconds": seconds, "items": rows[0] if rows else 0, "maxrss_mib": _maxrss_mib()}


def _context(keyfile: str) -> Any:

    actor = audit.Actor(kind="operator", id="bench", terminal="bench")
    return Context(actor=actor, keyring=KeyRing.from_config(None, Path(keyfile), None))


def _import(app_url: str, csv_path: str, mapping_path: str, keyfile: str) -> dict[str, Any]:

    db = Database(app_url)
    t0 = time.perf_counter()
    with _TreeMemory() as mem:
        outcome = import_file(
            db,
            TENANT_IMPORT,
            Path(csv_path),
            load_mapping(Path(mapping_path)),
            ctx=_context(keyfile),
        )
    seconds = time.perf_counter() - t0
    db.dispose()
    return {
        "seconds": seconds,
        "items": outcome.total,
        "imported": outcome.imported,
        "rejected": outcome.rejected,
        "maxrss_mib": _maxrss_mib(),
        "worker_maxrss_mib": mem.worker_peak / 2**20,
        "tree_mib": mem.tree_peak / 2**20,
    }


def _synth(app_url: str, population: int, keyfile: str) -> dict[str, Any]:

    db = Database(app_url)
    t0 = time.perf_counter()
    with _TreeMemory() as mem:
        n = synth_to_db(db, TENANT_SYNTH, population, 2026, ctx=_context(keyfile), chunk=5000)
    seconds = time.perf_counter() - t0
    db.dispose()
    return {
        "seconds": seconds,
        "items": n,
        "maxrss_mib": _maxrss_mib(),
        "worker_maxrss_mib": mem.worker_peak / 2**20,
        "tree_mib": mem.tree_peak / 2**20,
    }


def _in_child(fn: Any, *args: Any) -> dict[str, Any]:
    """Run one case in a fresh process (its own peak RSS) and print it at once: a long run
    that is interrupted later still shows the cases it finished. A ProcessPoolExecutor child,
    not a multiprocessing.Pool one: the import and synth start worker processes of their own,
    which a daemonic Pool worker may not."""
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
    rate = result["items"] / result["seconds"] if result["seconds"] else 0.0
    workers = result.get("worker_maxrss_mib")
    print(
        f"{fn.__name__.strip('_')}: {result['items']:,} in {result['seconds']:,.1f} s"
        f" = {rate:,.0f}/s, peak RSS {result['maxrss_mib']:,.0f} MiB"
        + (f" (largest worker {workers:,.0f} MiB)" if workers else ""),
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="legacy rows to import")
    parser.add_argument("--synth", type=int, default=3_770_000, help="persons to synthesize")
    parser.add_argument("--batch", type=int, default=5000, help="import batch size")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()

    name = f"kikan_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(args.postgres_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner_url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
    app_url = (
        make_url(owner_url)
        .set(username="kikan_app", password=None)
        .render_as_string(hide_password=False)
    )
    bench = Benchmark(
        "migration",
        dataset={"import_rows": args.rows, "synth_persons": args.synth, "batch": args.batch},
        database="postgresql",
    )
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner = Database(owner_url)
        with owner.unit_of_work(Scope.host()) as uow:
            actor = audit.Actor(kind="operator", id="bench")
            for code in (TENANT_IMPORT, TENANT_SYNTH):
                tenancy.create_tenant(
                    uow, actor, code=code, name=f"計測市{code}", mayor_name="計測"
                )
            uow.commit()
        owner.dispose()
        with tempfile.TemporaryDirectory() as tmp:
            keyfile = Path(tmp) / "mynumber.keys"
            KeyRing.generate_key_file(keyfile, "k1")
            with bench.case("prepare_legacy_csv", items=args.rows, unit="rows"):
                data, mapping = synth_to_files(
                    Path(tmp) / "legacy",
                    TENANT_IMPORT,
                    args.rows,
                    7,
                    legacy_format="utf8-csv",
                    today=date.today(),
                )
            text = mapping.read_text("utf-8").replace("size = 2000", f"size = {args.batch}")
            mapping.write_text(text, "utf-8")
            bench.note(f"legacy CSV: {data.stat().st_size / 1e6:,.1f} MB")
            columns = len(data.open(encoding="utf-8").readline().split(","))
            raw = _in_child(_raw_copy, owner_url, str(data), columns)
            bench.add(Case("raw_copy", raw["seconds"], raw["items"], "rows"), baseline=True)
            bench.note(f"raw_copy peak RSS {raw['maxrss_mib']:,.0f} MiB")
            imp = _in_child(_import, app_url, str(data), str(mapping), str(keyfile))
            bench.add(Case("import", imp["seconds"], imp["items"], "rows"))
            bench.note(
                f"import: {imp['imported']:,} imported + {imp['rejected']:,} rejected;"
                f" {default_workers()} preparation workers; peak RSS writer"
                f" {imp['maxrss_mib']:,.0f} MiB,"
                f" largest worker {imp['worker_maxrss_mib']:,.0f} MiB,"
                f" all processes together ≤ {imp['tree_mib']:,.0f} MiB"
            )
            if args.synth:
                syn = _in_child(_synth, app_url, args.synth, str(keyfile))
                bench.add(Case("synth_db", syn["seconds"], syn["items"], "persons"))
                bench.note(
                    f"synth_db peak RSS writer {syn['maxrss_mib']:,.0f} MiB,"
                    f" largest worker {syn['worker_maxrss_mib']:,.0f} MiB,"
                    f" all processes together ≤ {syn['tree_mib']:,.0f} MiB"
                )
        bench.finish()
    finally:
        with psycopg.connect(_dsn(args.postgres_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
