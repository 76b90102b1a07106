"""Cost of the hash-chained access log against a plain INSERT of the same rows.

    .venv/bin/python -m benchmarks.audit_bench --n 20000                 # embedded SQLite
    .venv/bin/python -m benchmarks.audit_bench --n 20000 --postgres      # PostgreSQL

With --postgres a scratch database is created and dropped; the application role `kikan_app` is
used, so row-level security is in force as in production.

Cases (same N records, same column values):
- `plain_insert` (baseline): one executemany INSERT into an unindexed copy of the table;
- `append_one_transaction`: N `audit.append` calls in one unit of work (a batch step);
- `append_per_request`: N units of work with one append each (what N API requests cost),
  measured on a tenth of N, with per-request latency percentiles.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.models import upgrade
from kikan.platform import audit, tenancy
from kikan.platform.uow import Database, Scope

TENANT = "992011"
ACTOR = audit.Actor(kind="staff", id="madoguchi", terminal="PC-01", place="本庁舎1階 市民課")


def event(i: int) -> audit.AuditEvent:
    return audit.AuditEvent(
        category="operation",
        action="inquiry",
        function="住民照会",
        screen="住民詳細",
        subjects=[f"{i:015d}"],
        purpose="窓口での本人確認",
        detail={"fields": ["氏名", "住所"]},
    )


def run(db: Database, n: int, bench: Benchmark) -> None:
    with db.unit_of_work(Scope.host()) as uow:
        if not tenancy.tenant_exists(uow, TENANT):
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市")
            uow.commit()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_plain"))
        conn.execute(
            text(
                "CREATE TABLE bench_plain (tenant_code varchar(8), seq integer,"
                " recorded_at varchar(40), category varchar(20), action varchar(40),"
                " outcome varchar(10), actor varchar(100), terminal varchar(200),"
                " place varchar(100), function varchar(100), screen varchar(100),"
                " purpose varchar(200), subjects text, detail text, prev_hash varchar(64),"
                " hash varchar(64))"
            )
        )
    rows = [
        {
            "t": TENANT,
            "s": i,
            "r": "2026-11-23T10:00:00.000000Z",
            "c": "operation",
            "a": "inquiry",
            "o": "ok",
            "ac": ACTOR.id,
            "te": ACTOR.terminal,
            "p": ACTOR.place,
            "f": "住民照会",
            "sc": "住民詳細",
            "pu": "窓口での本人確認",
            "su": f'["{i:015d}"]',
            "d": '{"fields": ["氏名", "住所"]}',
            "ph": "0" * 64,
            "h": "f" * 64,
        }
        for i in range(n)
    ]
    with (
        bench.case("plain_insert", items=n, unit="records", baseline=True),
        db.engine.begin() as conn,
    ):
        conn.execute(
            text(
                "INSERT INTO bench_plain VALUES (:t, :s, :r, :c, :a, :o, :ac, :te, :p, :f, :sc,"
                " :pu, :su, :d, :ph, :h)"
            ),
            rows,
        )
    with (
        bench.case("append_one_transaction", items=n, unit="records"),
        db.unit_of_work(TENANT) as uow,
    ):
        for i in range(n):
            audit.append(uow, ACTOR, event(i))
        uow.commit()
    per_request = max(1, n // 10)
    case = Case("append_per_request", items=per_request, unit="requests")
    t0 = time.perf_counter()
    for i in range(per_request):
        s = time.perf_counter()
        with db.unit_of_work(TENANT) as uow:
            audit.append(uow, ACTOR, event(i))
            uow.commit()
        case.samples.append(time.perf_counter() - s)
    case.seconds = time.perf_counter() - t0
    bench.add(case)
    with db.unit_of_work(TENANT) as uow:
        t0 = time.perf_counter()
        result = audit.verify_chain(uow)
        verify = Case(
            "verify_chain", items=result.checked, unit="records", seconds=time.perf_counter() - t0
        )
    bench.add(verify)
    assert result.ok
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_plain"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument(
        "--postgres", action="store_true", help="run on PostgreSQL instead of SQLite"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    if args.postgres:
        name = f"kikan_bench_{uuid.uuid4().hex[:8]}"
        admin_dsn = (
            make_url(args.postgres_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        owner = make_url(args.postgres_url).set(database=name)
        try:
            upgrade(owner.render_as_string(hide_password=False), app_role="kikan_app")
            db = Database(
                owner.set(username="kikan_app", password=None).render_as_string(hide_password=False)
            )
            bench = Benchmark(
                "audit", dataset={"records": args.n}, database="postgresql (kikan_app, RLS on)"
            )
            # the scratch table is created by the owner and granted to the app role
            with Database(owner.render_as_string(hide_password=False)).engine.begin() as c:
                c.execute(text("CREATE TABLE IF NOT EXISTS bench_plain (x int)"))
                c.execute(text("GRANT ALL ON SCHEMA public TO kikan_app"))
                c.execute(text("DROP TABLE bench_plain"))
            run(db, args.n, bench)
            db.dispose()
        finally:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            db = Database(url)
            bench = Benchmark("audit", dataset={"records": args.n}, database="sqlite (WAL)")
            run(db, args.n, bench)
            db.dispose()
    bench.note("append_* include SHA-256 chaining, head-row locking and My Number scrubbing")
    bench.finish()


if __name__ == "__main__":
    main()
