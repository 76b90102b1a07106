"""個人住民税 on PostgreSQL: 賦課 of a 年度 for N taxpayers (issue target: 1,000,000).

    .venv/bin/python -m benchmarks.juminzei_bench --n 100000
    .venv/bin/python -m benchmarks.juminzei_bench --n 1000000

A scratch database is created (and dropped afterwards) with every table. The 賦課期日 list and
one 給与支払報告書 per taxpayer (already matched; 70 % 特別徴収, the rest 普通徴収; families and
insurance premiums varied) are loaded with COPY as the owner — not timed: intake is measured
apart. Then, as the application role `kikan_app` (RLS in force):

- `assess`: `assessment.assess_year` chunk after chunk (each committed, as `kikan juminzei
  assess` runs it): each taxpayer's records are read, turned into a case, calculated, and the
  assessment (with every step) and its 12 or 4 期割 are written;
- `engine`: the pure calculation alone (reading the JSON case and calculating) on the same
  cases, streamed from the stored assessments, for the share of the rules in the total;
- `select_income` (baseline): a plain `SELECT *` of the same income rows, same role, same run.
  Ratios are per-row throughput against it.

Peak memory: the process's max RSS before and after the run (`resource.getrusage`).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.juminzei import calc, domain, rules
from kikan.juminzei.service import assessment
from kikan.juminzei.service import commands as cmd
from kikan.models import upgrade
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.ids import make_atena_number
from kikan.platform.uow import Database, Scope

TENANT = "992011"
ACTOR = audit.Actor(kind="staff", id="bench", terminal="BENCH-01", place="本庁舎")
YEAR = 2026
ON = date(2026, 5, 20)
CHUNK = 2000


def _rows(n: int, seed: int = 2026, chunk: int = 50_000) -> Iterator[tuple[str, str]]:
    """COPY text of the 賦課期日 list and the income records, `chunk` persons at a time (the
    dataset is never whole in memory, so the RSS figures are the run's)."""
    rng = random.Random(seed)
    kijitsu, income = io.StringIO(), io.StringIO()
    for i in range(1, n + 1):
        if i % chunk == 0:
            yield kijitsu.getvalue(), income.getvalue()
            kijitsu, income = io.StringIO(), io.StringIO()
        atena = make_atena_number(i, 15)
        born = date(1940 + rng.randint(0, 64), rng.randint(1, 12), rng.randint(1, 28))
        name = f"課税　太郎{i}"
        key = domain.match_key(name, born.isoformat())
        kijitsu.write(
            f"{TENANT}\t{YEAR}\t{atena}\t{name}\tカゼイ タロウ\t{born.isoformat()}\t1\t"
            f"架空県日和市本町1番地\tH{i}\tf\t{key}\t\n"
        )
        salary = rng.choice([900_000, 1_500_000, 2_500_000, 3_600_000, 4_800_000, 6_600_000,
                             9_000_000, 15_000_000]) + rng.randint(0, 400) * 1000  # fmt: skip
        figures = {
            "collection": "1" if rng.random() < 0.7 else "2",
            "salary": salary,
            "social_insurance": salary * 14 // 100,
            "life_new": rng.choice([0, 40_000, 80_000]),
            "life_care": rng.choice([0, 30_000]),
            "earthquake_deduction": rng.choice([0, 20_000, 50_000]),
            "spouse": rng.random() < 0.3,
            "spouse_income": 0,
            "dep_other": rng.choice([0, 0, 1, 2]),
            "dep_under16": rng.choice([0, 0, 1]),
            "housing_loan_possible": 0,
            "housing_loan_used": 0,
        }
        person = {"name": name, "kana": "", "birth_date": born.isoformat(), "address": ""}
        income.write(
            f"{TENANT}\t{YEAR}\tkyuyo\t\\N\t{i}\t1234567890123\t日和工業\t"
            f"{json.dumps(person, ensure_ascii=False)}\tdup{i}\t"
            f"{json.dumps(figures)}\t{atena}\tmatched\t\tt\t\\N\t2026-03-01 00:00:00+00\tbench\n"
        )
    yield kijitsu.getvalue(), income.getvalue()


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="taxpayers (target 1,000,000)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    name = f"kikan_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = (
        make_url(args.postgres_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner = make_url(args.postgres_url).set(database=name)
    owner_url = owner.render_as_string(hide_password=False)
    bench = Benchmark(
        "juminzei", dataset={"taxpayers": args.n, "fiscal_year": YEAR},
        database="postgresql (kikan_app, RLS on)",
    )  # fmt: skip
    ctx = Context(actor=ACTOR, now=datetime(2026, 5, 20, 3, tzinfo=UTC))
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner_db = Database(owner_url)
        with owner_db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市")
            uow.commit()
        owner_db.dispose()
        owner_dsn = owner.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(owner_dsn) as conn, conn.cursor() as cur:
            for kijitsu, income in _rows(args.n):
                with cur.copy(
                    "COPY juminzei_kijitsu (tenant_code, fiscal_year, atena_number, name, kana,"
                    " birth_date, sex, address, household, protected, match_key, kana_key)"
                    " FROM STDIN"
                ) as copy:
                    copy.write(kijitsu)
                with cur.copy(
                    "COPY juminzei_income (tenant_code, fiscal_year, kind, batch_id, row_no,"
                    " payer_key, payer_name, person, dup_key, figures, atena_number,"
                    " match_state, match_note, active, supersedes, created_at, created_by)"
                    " FROM STDIN"
                ) as copy:
                    copy.write(income)
            cur.execute(
                "INSERT INTO juminzei_kijitsu_runs (tenant_code, fiscal_year, kijitsu, persons,"
                " taken_at, taken_by) VALUES (%s, %s, %s, %s, now(), 'bench')",
                (TENANT, YEAR, domain.kijitsu(YEAR), args.n),
            )
            cur.execute("ANALYZE")
            conn.commit()
        db = Database(
            owner.set(username="kikan_app", password=None).render_as_string(hide_password=False)
        )

        rss_before = _maxrss_mib()
        totals = {"assessed": 0, "errors": 0}
        after = ""
        t0 = time.perf_counter()
        while True:
            with db.unit_of_work(TENANT) as uow:
                report = assessment.assess_year(uow, ctx, cmd.AssessYear(YEAR, ON, after, CHUNK))
                uow.commit()
            totals["assessed"] += report.assessed
            totals["errors"] += len(report.errors)
            after = report.last
            if report.done:
                break
        assess_s = time.perf_counter() - t0
        rss_after = _maxrss_mib()
        bench.add(Case("assess", seconds=assess_s, items=args.n, unit="taxpayers"))

        book = rules.load_rules(YEAR)
        profile = calc.MunicipalityProfile()
        engine_s, engine_n = 0.0, 0
        with db.unit_of_work(TENANT) as uow:
            installments = uow.session.scalar(text("SELECT count(*) FROM juminzei_installments"))
            stored = uow.session.execute(text('SELECT "case" FROM juminzei_assessments')).yield_per(
                10_000
            )
            for (data,) in stored:  # streamed: the cases are never all in memory
                t0 = time.perf_counter()
                calc.assess(calc.parse_case(data), book, profile)
                engine_s += time.perf_counter() - t0
                engine_n += 1
        bench.add(Case("engine", seconds=engine_s, items=engine_n, unit="cases"))

        base = Case("select_income", items=0, unit="rows")
        t0 = time.perf_counter()
        with db.unit_of_work(TENANT) as uow:
            rows = uow.session.execute(
                text("SELECT * FROM juminzei_income WHERE fiscal_year = :y"), {"y": YEAR}
            ).fetchall()
        base.seconds, base.items = time.perf_counter() - t0, len(rows)
        del rows
        bench.add(base, baseline=True)
        db.dispose()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bench.dataset |= {"assessed": totals["assessed"], "errors": totals["errors"],
                      "installments": installments, "chunk": CHUNK}  # fmt: skip
    bench.note(
        f"max RSS: {rss_before:.0f} MiB before the run, {rss_after:.0f} MiB after"
        f" (+{rss_after - rss_before:.0f} MiB)"
    )
    bench.note("ratio = per-row throughput relative to SELECT * of the same income rows")
    bench.note(
        "assess: per chunk of 2,000 — read records, kijitsu and current versions (3 queries),"
        " build case, calculate, bulk INSERT assessments (RETURNING ids) and 期割, commit"
    )
    bench.finish()


if __name__ == "__main__":
    main()
