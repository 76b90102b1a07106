"""選挙人名簿管理 on PostgreSQL: 定時登録 of a city of N residents (issue target: 1,000,000).

    .venv/bin/python -m benchmarks.electoral_roll_bench --n 100000
    .venv/bin/python -m benchmarks.electoral_roll_bench --n 1000000

A scratch database is created (and dropped afterwards) with the module's tables; the 投票区
table is loaded through the use case. The register *as of* the base date — what the 全件 pages
of 庁内データ連携 would deliver — is generated in memory, lazily, as feed records (dicts of
strings, the provider's shape), so the figures are the module's own work, not HTTP:

- `judge`: `domain.judge_all` over the N records (the pure rules; only persons on the roll kept);
- `register_write`: `service.register_roll` with that judgement, as the application role
  `kikan_app` (RLS in force): roll entries, the living register, its history (bulk INSERTs per
  5,000 persons), the digest and the access-log record, one transaction, committed. The
  register is empty before the roll (a first 定時登録): the one read of its states is trivial;
- `roll` : the two together (what `POST /rolls` does after the feed is read);
- `select_entries` (baseline): a plain `SELECT *` of the roll's entries just written, same
  role, same run. Ratios are per-row throughput against that SELECT.

Peak memory: the process's max RSS before and after the roll (`resource.getrusage`), and the
Python heap peak of a second, traced judging pass (`tracemalloc`; not timed).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.calendar import RegisterDate
from kikan.electoral_roll import domain, service
from kikan.models import upgrade
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.ids import make_atena_number
from kikan.platform.uow import Database, Scope

TENANT = "992011"
ACTOR = audit.Actor(kind="staff", id="bench", terminal="BENCH-01", place="本庁舎")
BASE_DATE = date(2026, 9, 1)
FAMILY = [("佐藤", "サトウ"), ("髙橋", "タカハシ"), ("𠮷田", "ヨシダ"), ("渡邉", "ワタナベ"),
          ("山﨑", "ヤマザキ"), ("中村", "ナカムラ"), ("森", "モリ")]  # fmt: skip
GIVEN = [
    ("太郎", "タロウ", "1"),
    ("花子", "ハナコ", "2"),
    ("健", "ケン", "1"),
    ("葵", "アオイ", "2"),
]
TOWNS = [f"松町{i}丁目" for i in range(1, 10)] + [f"桜台{i}丁目" for i in range(1, 10)]


def feed(n: int, seed: int = 2026) -> Iterator[dict[str, str]]:
    """N 全件 records as of the base date, in households of 1–5: ~18% under 18, ~2% moved in
    less than 3 months ago, ~2% 転出 within 4 months (表示), ~1% 外国人住民."""
    rng = random.Random(seed)
    serial = household = 0
    while serial < n:
        household += 1
        hh = make_atena_number(household, 15)
        fam, fam_kana = rng.choice(FAMILY)
        town, banchi = rng.choice(TOWNS), f"{rng.randint(1, 40)}番地"
        for _ in range(min(rng.choice([1, 1, 2, 2, 3, 3, 4, 5]), n - serial)):
            serial += 1
            given, given_kana, sex = rng.choice(GIVEN)
            born = date(1930, 1, 1) + timedelta(days=rng.randint(0, 35000))
            roll = rng.random()
            moved_in = BASE_DATE - timedelta(days=40 if roll < 0.02 else 3000)
            record = {
                "atena_number": make_atena_number(serial, 15),
                "resident_kind": "2" if roll > 0.99 else "1",
                "status": "10",
                "birth_date": RegisterDate.from_date(born).to_storage(),
                "became_resident_date": RegisterDate.from_date(moved_in).to_storage(),
                "family_name": fam, "given_name": given,
                "family_name_kana": fam_kana, "given_name_kana": given_kana,
                "sex": sex, "household_number": hh, "prefecture": "架空県", "city": "日和市",
                "town": town, "banchi": banchi,
            }  # fmt: skip
            if 0.02 <= roll < 0.04:
                out = BASE_DATE - timedelta(days=rng.randint(1, 100))
                record |= {"status": "20", "removal_reason": "21",
                           "removal_date": RegisterDate.from_date(out).to_storage()}  # fmt: skip
            yield record


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--n", type=int, default=100_000, help="residents (issue target: 1,000,000)"
    )
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
        "electoral_roll", dataset={"residents": args.n},
        database="postgresql (kikan_app, RLS on)",
    )  # fmt: skip
    ctx = Context(actor=ACTOR, now=datetime(2026, 11, 20, 3, tzinfo=UTC))
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner_db = Database(owner_url)
        with owner_db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市")
            uow.commit()
        owner_db.dispose()
        db = Database(
            owner.set(username="kikan_app", password=None).render_as_string(hide_password=False)
        )
        table = tuple(
            domain.DistrictRange(f"{i // 2 + 1:02d}", f"第{i // 2 + 1}投票区", town)
            for i, town in enumerate(TOWNS)
        )
        with db.unit_of_work(TENANT) as uow:
            service.load_districts(uow, ctx, service.LoadDistricts(table))
            uow.commit()

        rss_before = _maxrss_mib()
        t0 = time.perf_counter()
        judged = domain.judge_all(feed(args.n), base_date=BASE_DATE, election_day=BASE_DATE)
        judge_s = time.perf_counter() - t0
        bench.add(Case("judge", seconds=judge_s, items=args.n, unit="records"))
        t1 = time.perf_counter()
        with db.unit_of_work(TENANT) as uow:
            view = service.register_roll(uow, ctx, service.RegisterRoll(BASE_DATE, None, judged))
            uow.commit()
        write_s = time.perf_counter() - t1
        bench.add(Case("register_write", seconds=write_s, items=args.n, unit="records"))
        bench.add(Case("roll", seconds=judge_s + write_s, items=args.n, unit="records"))
        rss_after = _maxrss_mib()
        on_roll = view.registered + view.marked
        del judged

        base = Case("select_entries", items=0, unit="rows")
        t0 = time.perf_counter()
        with db.unit_of_work(TENANT) as uow:
            rows = uow.session.execute(
                text("SELECT * FROM electoral_roll_roll_entries WHERE roll_id = :r"),
                {"r": view.id},
            ).fetchall()
        base.seconds, base.items = time.perf_counter() - t0, len(rows)
        del rows
        bench.add(base, baseline=True)

        tracemalloc.start()
        traced = domain.judge_all(feed(args.n), base_date=BASE_DATE, election_day=BASE_DATE)
        _current, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del traced
        db.dispose()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bench.dataset |= {"on_roll": on_roll, "registered": view.registered, "marked": view.marked,
                      "not_on_roll": dict(view.not_on_roll)}  # fmt: skip
    bench.note(
        f"max RSS: {rss_before:.0f} MiB before the roll, {rss_after:.0f} MiB after"
        f" (+{rss_after - rss_before:.0f} MiB)"
    )
    bench.note(f"judging heap peak (tracemalloc, second pass): {heap_peak / 2**20:.0f} MiB")
    bench.note("ratio = per-row throughput relative to SELECT * of the roll's entries, same run")
    bench.note(
        "register_write: roll entries + register rows + history, bulk INSERT per 5,000 persons,"
        " one commit"
    )
    bench.finish()


if __name__ == "__main__":
    main()
