"""Resident register on PostgreSQL at municipal scale: 異動 throughput, search and "as of" latency.

    .venv/bin/python -m benchmarks.residents_bench --n 1000000

A scratch database is created (and dropped afterwards); N residents in households of 1–5 are
bulk-loaded with COPY as the owner (dataset preparation, not measured), then the application
role `kikan_app` (RLS in force, as in production) runs:

- `pk_select` (baseline): a primary-key SELECT of one `residents_current` row;
- `search_kana`: `service.search` by a family-name kana prefix (page of 20 + total, audited);
- `as_of`: `service.as_of` for a random person and day (audited);
- `move_in_1` / `move_in_8`: `service.move_in` of a one-person household, each a full use case
  (validation, numbering, history, projection, outbox, audit) in its own transaction, from 1 and
  from 8 concurrent clients (threads, one connection each).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.calendar import RegisterDate
from kikan.models import upgrade
from kikan.moji import address_key, search_key
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.ids import make_atena_number
from kikan.platform.uow import Database, Scope
from kikan.residents import service
from kikan.residents.domain import Address, OtherAddress, PersonInput, Snapshot

TENANT = "992011"
FAMILY = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("髙橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡邉", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("𠮷田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山﨑", "ヤマザキ"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("森", "モリ"),
]
GIVEN = [
    ("太郎", "タロウ", "1"),
    ("花子", "ハナコ", "2"),
    ("健", "ケン", "1"),
    ("葵", "アオイ", "2"),
    ("翔", "ショウ", "1"),
    ("陽菜", "ヒナ", "2"),
    ("大輔", "ダイスケ", "1"),
    ("美咲", "ミサキ", "2"),
]
TOWNS = [f"松町{i}丁目" for i in range(1, 10)] + [f"桜台{i}丁目" for i in range(1, 10)]
ACTOR = audit.Actor(kind="staff", id="bench", terminal="BENCH-01", place="本庁舎")
BASE = date(2020, 4, 1)
COPY_COLUMNS = {
    "residents_current": (
        "(tenant_code, atena_number, history_no, version, household_number, status,"
        " resident_kind, full_name, full_kana, name_key, kana_key, address_key, address_text,"
        " birth_sort, birth_display, sex, zokugara, juminhyo_code, mynumber_index)"
    ),
    "residents_history": (
        "(tenant_code, atena_number, history_no, household_number, status, reason, valid_from,"
        " recorded_at, operator, terminal, place, note, snapshot)"
    ),
    "residents_households": "(tenant_code, household_number, head_atena, version, active)",
    "residents_name_keys": "(tenant_code, atena_number, kind, key)",
}


def _base_snapshot() -> dict[str, object]:
    return Snapshot(
        family_name="佐藤",
        given_name="太郎",
        sex="1",
        birth_date="H1-01-08",
        zokugara="世帯主",
        atena_number="0" * 15,
        household_number="0" * 15,
        address=Address(
            city_code="992011",
            town_code="0010001",
            prefecture="架空県",
            city="日和市",
            town="松町1丁目",
            banchi="1番地",
        ),
        became_resident_date="R2-04-01",
        address_set_date="R2-04-01",
    ).model_dump(mode="json")


def load_dataset(owner_url: str, n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """COPY n residents (with households) into the scratch database.

    Returns (宛名番号, family-name kana, family name) per resident."""
    template = _base_snapshot()
    dsn = make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
    people: list[tuple[str, str, str]] = []
    cur_buf, hist_buf, hh_buf, key_buf = io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()
    atena_serial = household_serial = 0
    with psycopg.connect(dsn) as conn:

        def flush() -> None:
            with conn.cursor() as cur:
                for table, buf in (
                    ("residents_current", cur_buf),
                    ("residents_history", hist_buf),
                    ("residents_households", hh_buf),
                    ("residents_name_keys", key_buf),
                ):
                    buf.seek(0)
                    cols = COPY_COLUMNS[table]
                    with cur.copy(f"COPY {table} {cols} FROM STDIN") as copy:
                        copy.write(buf.getvalue())
                    buf.seek(0)
                    buf.truncate()
            conn.commit()

        while atena_serial < n:
            household_serial += 1
            hh = make_atena_number(household_serial, 15)
            size = min(rng.choice([1, 1, 2, 2, 3, 3, 4, 5]), n - atena_serial)
            fam, fam_kana = rng.choice(FAMILY)
            town = rng.choice(TOWNS)
            banchi = f"{rng.randint(1, 40)}番地"
            head_atena = make_atena_number(atena_serial + 1, 15)
            for i in range(size):
                atena_serial += 1
                atena = make_atena_number(atena_serial, 15)
                given, given_kana, sex = rng.choice(GIVEN)
                born = date(1930, 1, 1) + timedelta(days=rng.randint(0, 33000))
                birth = RegisterDate.from_date(born)
                zokugara = "世帯主" if i == 0 else ("妻" if i == 1 else "子")
                snap = dict(template)
                addr = {**template["address"], "town": town, "banchi": banchi}  # type: ignore[dict-item]
                snap.update(
                    family_name=fam,
                    given_name=given,
                    family_name_kana=fam_kana,
                    given_name_kana=given_kana,
                    sex=sex,
                    birth_date=birth.to_storage(),
                    zokugara=zokugara,
                    atena_number=atena,
                    household_number=hh,
                    address=addr,
                )
                address_text = f"架空県日和市{town}{banchi}"
                cur_buf.write(
                    "\t".join(
                        [
                            TENANT,
                            atena,
                            "1",
                            "1",
                            hh,
                            "resident",
                            "1",
                            f"{fam}　{given}",
                            f"{fam_kana}　{given_kana}",
                            search_key(fam + given),
                            search_key(fam_kana + given_kana),
                            address_key(address_text),
                            address_text,
                            born.isoformat(),
                            birth.display(),
                            sex,
                            zokugara,
                            "",
                            "",
                        ]
                    )
                    + "\n"
                )
                hist_buf.write(
                    "\t".join(
                        [
                            TENANT,
                            atena,
                            "1",
                            hh,
                            "resident",
                            "国内転入",
                            BASE.isoformat(),
                            "2020-04-01 00:00:00+00",
                            "bench",
                            "BENCH",
                            "本庁舎",
                            "",
                            json.dumps(snap, ensure_ascii=False).replace("\\", "\\\\"),
                        ]
                    )
                    + "\n"
                )
                key_buf.write(f"{TENANT}\t{atena}\tname\t{search_key(fam + given)}\n")
                key_buf.write(f"{TENANT}\t{atena}\tkana\t{search_key(fam_kana + given_kana)}\n")
                people.append((atena, fam_kana, fam))
            hh_buf.write(f"{TENANT}\t{hh}\t{head_atena}\t1\tt\n")
            if atena_serial % 50000 < 5:
                flush()
        flush()
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO platform_sequences (tenant_code, name, last_value) VALUES"
                " (%s, 'residents.atena', %s), (%s, 'residents.setai', %s)",
                (TENANT, atena_serial, TENANT, household_serial),
            )
            cur.execute("ANALYZE")
        conn.commit()
    return people


def timed(samples: list[float], fn: object) -> None:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    samples.append(time.perf_counter() - t0)


def mover(i: int) -> service.Mover:
    return service.Mover(
        PersonInput(
            family_name="計測",
            given_name=f"{i}",
            family_name_kana="ケイソク",
            given_name_kana="タロウ",
            sex="1",
            birth_date="平成2年2月2日",
            zokugara="世帯主",
        )
    )


def move_in_once(db: Database, i: int) -> None:
    ctx = Context(actor=ACTOR)
    with db.unit_of_work(TENANT) as uow:
        service.move_in(
            uow,
            ctx,
            service.MoveIn(
                movers=[mover(i)],
                address=Address(
                    prefecture="架空県", city="日和市", town="松町1丁目", banchi=f"{i % 50}番地"
                ),
                prior_address=OtherAddress(address=Address(prefecture="東京都", city="千代田区")),
                move_date=date.today() - timedelta(days=1),
            ),
        )
        uow.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--n", type=int, default=200_000, help="residents to load (issue target: 1,000,000)"
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--moves", type=int, default=400, help="move-ins per client configuration")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    rng = random.Random(2026)
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
        "residents", dataset={"residents": args.n}, database="postgresql 15 (kikan_app, RLS on)"
    )
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner_db = Database(owner_url)
        with owner_db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市")
            uow.commit()
        owner_db.dispose()
        t0 = time.perf_counter()
        people = load_dataset(owner_url, args.n, rng)
        bench.note(f"dataset load (COPY, not measured as a case): {time.perf_counter() - t0:.1f} s")
        db = Database(
            owner.set(username="kikan_app", password=None).render_as_string(hide_password=False),
            pool_size=10,
        )
        ctx = Context(actor=ACTOR)

        pk = Case("pk_select", items=args.queries * 4, unit="queries")
        t0 = time.perf_counter()
        with db.unit_of_work(TENANT) as uow:
            stmt = text(
                "SELECT * FROM residents_current WHERE tenant_code = :t AND atena_number = :a"
            )
            for _ in range(pk.items):
                atena = rng.choice(people)[0]
                timed(
                    pk.samples,
                    lambda a=atena: uow.session.execute(stmt, {"t": TENANT, "a": a}).one(),
                )
        pk.seconds = time.perf_counter() - t0
        bench.add(pk, baseline=True)

        for case_name, fn in (
            (
                "search_name",
                lambda uow: service.search(
                    uow, ctx, service.SearchCriteria(name=rng.choice(people)[2])
                ),
            ),
            (
                "search_kana",
                lambda uow: service.search(
                    uow, ctx, service.SearchCriteria(kana=rng.choice(people)[1])
                ),
            ),
            (
                "as_of",
                lambda uow: service.as_of(
                    uow,
                    ctx,
                    service.AsOfQuery(
                        atena_number=rng.choice(people)[0],
                        valid_on=BASE + timedelta(days=rng.randint(0, 2000)),
                    ),
                ),
            ),
        ):
            case = Case(case_name, items=args.queries, unit="queries")
            t0 = time.perf_counter()
            for _ in range(args.queries):

                def one(f: Callable[[Any], object] = fn) -> None:
                    with db.unit_of_work(TENANT) as uow:
                        f(uow)
                        uow.commit()

                timed(case.samples, one)
            case.seconds = time.perf_counter() - t0
            bench.add(case)

        counter = iter(range(10**9))
        lock = threading.Lock()
        for clients in (1, 8):
            case = Case(f"move_in_{clients}", items=args.moves, unit="異動")
            per_client = args.moves // clients

            def worker(samples: list[float], count: int = per_client) -> None:
                for _ in range(count):
                    with lock:
                        i = next(counter)
                    timed(samples, lambda i=i: move_in_once(db, i))

            sample_lists: list[list[float]] = [[] for _ in range(clients)]
            threads = [threading.Thread(target=worker, args=(s,)) for s in sample_lists]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            case.seconds = time.perf_counter() - t0
            case.items = per_client * clients
            case.samples = [x for s in sample_lists for x in s]
            bench.add(case)
        db.dispose()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bench.note(
        "ratio = throughput relative to a primary-key SELECT of residents_current in the same run"
    )
    bench.note(
        "search/as_of/move_in include their audit record;"
        " move_in also numbering, history and outbox"
    )
    bench.finish()


if __name__ == "__main__":
    main()
