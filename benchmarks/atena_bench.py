"""宛名管理: candidate search among 1,000,000 residents + 200,000 住登外者 vs a primary-key read.

    .venv/bin/python -m benchmarks.atena_bench --residents 1000000 --jutogai 200000

A scratch PostgreSQL database is created (and dropped afterwards); `atena_states` is COPY-loaded
with one current state per person (residents as delivered by 庁内データ連携, 住登外者 as
registered) plus a former name/address for one person in ten (dataset preparation, not
measured). Names are drawn from common family and given names, so a name key matches many
persons, as in a real city. Then, as the application role `kikan_app` (RLS in force), in one
unit of work each:

- `pk_select` (baseline): `session.get(StateRow, id)` of a random row;
- `search_same`: `search.find` for a random person's own facts (the 付番 search of someone known);
- `search_moved`: the same person with another address and a 異体字 family name (髙 → 高);
- `search_new`: a person nobody is (random name and birthday): mostly empty answers.

p50/p95 per query; the aim of issue 18 is search p95 ≤ 10× the primary-key read.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta

import psycopg
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.atena import domain
from kikan.atena.service import search
from kikan.atena.store import StateRow
from kikan.models import upgrade
from kikan.platform import audit, tenancy
from kikan.platform.uow import Database, Scope

TENANT = "131016"
ACTOR = audit.Actor(kind="system", id="bench")
FAMILY = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("髙橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡邉", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
]  # fmt: skip
GIVEN = [
    ("一郎", "イチロウ"), ("花子", "ハナコ"), ("健", "ケン"), ("美咲", "ミサキ"),
    ("翔太", "ショウタ"), ("陽菜", "ヒナ"), ("大輔", "ダイスケ"), ("結衣", "ユイ"),
    ("拓也", "タクヤ"), ("さくら", "サクラ"), ("直樹", "ナオキ"), ("愛", "アイ"),
    ("隆", "タカシ"), ("恵子", "ケイコ"), ("誠", "マコト"), ("由美", "ユミ"),
    ("浩", "ヒロシ"), ("真由美", "マユミ"), ("剛", "ツヨシ"), ("裕子", "ユウコ"),
    ("和也", "カズヤ"), ("明美", "アケミ"), ("修", "オサム"), ("智子", "トモコ"),
    ("悟", "サトル"), ("久美子", "クミコ"), ("勇気", "ユウキ"), ("舞", "マイ"),
    ("亮", "リョウ"), ("香織", "カオリ"),
]  # fmt: skip
TOWNS = ["霞が関一丁目", "丸の内二丁目", "大手町一丁目", "神田三丁目", "本郷四丁目", "梅田一丁目"]
BASE = date(1930, 1, 1)

Person = tuple[int, domain.Facts]  # (state id, facts)


#: given names: the common ones, and two-character names from a pool of name kanji (so that one
#: full name is shared by tens of persons at 1.2M, not thousands)
KANA_OF = {
    "一": "イチ",
    "二": "ニ",
    "三": "サン",
    "太": "タ",
    "郎": "ロウ",
    "次": "ジ",
    "花": "ハナ",
    "美": "ミ",
    "和": "ワ",
    "明": "アキ",
    "真": "マ",
    "由": "ユ",
    "智": "トモ",
    "恵": "エ",
    "健": "ケン",
    "翔": "ショウ",
    "陽": "ヨウ",
    "大": "ダイ",
    "拓": "タク",
    "直": "ナオ",
    "隆": "タカ",
    "誠": "マコト",
    "修": "オサム",
    "悟": "サトル",
    "亮": "リョウ",
    "勇": "ユウ",
    "香": "カオリ",
    "織": "マイ",
    "舞": "アイ",
    "愛": "ユイ",
    "結": "イ",
    "衣": "ナ",
    "菜": "ナ",
    "奈": "コ",
}
NAME_KANJI = list(KANA_OF)


def _given(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.3:
        return rng.choice(GIVEN)
    a, b = rng.choice(NAME_KANJI), rng.choice(NAME_KANJI)
    return a + b, KANA_OF[a] + KANA_OF[b]


def _facts(rng: random.Random, *, family: tuple[str, str] | None = None) -> domain.Facts:
    f = family or rng.choice(FAMILY)
    g = _given(rng)
    birth = BASE + timedelta(days=rng.randint(0, 32000))
    return domain.Facts(
        name=f"{f[0]}　{g[0]}",
        kana=f"{f[1]}　{g[1]}",
        birth=f"AD{birth.year}-{birth.month:02d}-{birth.day:02d}",
        sex=rng.choice("12"),
        address=f"東京都千代田区{rng.choice(TOWNS)}{rng.randint(1, 30)}番{rng.randint(1, 20)}号",
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load(owner_url: str, residents: int, jutogai: int, rng: random.Random) -> list[Person]:
    """COPY the states; returns a sample of (id, facts) of current states to search for."""
    dsn = make_url(owner_url).set(drivername="postgresql").render_as_string(hide_password=False)
    sample: list[Person] = []
    buf = io.StringIO()
    state_id = 0
    total = residents + jutogai
    for serial in range(1, total + 1):
        source = "1" if serial <= residents else "2"
        facts = _facts(rng)
        atena = f"{serial:014d}0"
        rows = [(facts, True)]
        if serial % 10 == 0:
            rows.insert(0, (_facts(rng), False))  # a former name/address
        for f, current in rows:
            state_id += 1
            buf.write(
                "\t".join(
                    _escape(v)
                    for v in (
                        str(state_id), TENANT, atena, source, "1", "\\N",
                        "t" if current else "f", "2026-01-01 00:00:00+00", "bench", "bench",
                        f.name, f.kana, f.birth, f.sex, f.address, f.name_key, f.kana_key,
                        f.birth_day, "{}",
                    )
                ).replace("\\\\N", "\\N")
                + "\n"
            )  # fmt: skip
            if current and rng.random() < 2000 / total:
                sample.append((state_id, f))
    with psycopg.connect(dsn) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY atena_states (id, tenant_code, atena_number, source, version, valid_from,"
                " current, recorded_at, operator, reason, name, kana, birth, sex, address,"
                " name_key, kana_key, birth_day, items) FROM STDIN"
            ) as copy,
        ):
            copy.write(buf.getvalue())
        conn.execute("SELECT setval('atena_states_id_seq', %s)", (state_id,))
        conn.execute("ANALYZE atena_states")
        conn.commit()
    return sample


def timed(samples: list[float], fn: Callable[[], object]) -> None:
    t0 = time.perf_counter()
    fn()
    samples.append(time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--jutogai", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=500)
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
        "atena",
        dataset={"residents": args.residents, "jutogai": args.jutogai},
        database="postgresql 15 (kikan_app, RLS on)",
    )
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner_db = Database(owner_url)
        with owner_db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市")
            uow.commit()
        owner_db.dispose()
        t0 = time.perf_counter()
        people = load(owner_url, args.residents, args.jutogai, rng)
        bench.note(f"dataset load (COPY, not measured as a case): {time.perf_counter() - t0:.1f} s")
        db = Database(
            owner.set(username="kikan_app", password=None).render_as_string(hide_password=False)
        )
        top = args.residents + args.jutogai
        pk = Case("pk_select", items=args.queries, unit="queries")
        t0 = time.perf_counter()
        with db.unit_of_work(TENANT) as uow:
            for _ in range(pk.items):
                wanted = rng.randint(1, top)
                timed(pk.samples, lambda w=wanted: uow.session.get(StateRow, w))
                uow.session.expunge_all()
        pk.seconds = time.perf_counter() - t0
        bench.add(pk, baseline=True)

        def moved(f: domain.Facts) -> domain.Facts:
            return domain.Facts(f.name.replace("髙", "高").replace("邉", "辺"), f.kana, f.birth,
                                f.sex, "大阪府大阪市北区梅田一丁目1番1号")  # fmt: skip

        cases: list[tuple[str, Callable[[], domain.Facts]]] = [
            ("search_same", lambda: rng.choice(people)[1]),
            ("search_moved", lambda: moved(rng.choice(people)[1])),
            ("search_new", lambda: _facts(rng, family=("御手洗", "ミタライ"))),
        ]
        found_total = 0
        for case_name, pick in cases:
            case = Case(case_name, items=args.queries, unit="queries")
            t0 = time.perf_counter()
            with db.unit_of_work(TENANT) as uow:
                for _ in range(case.items):
                    facts = pick()
                    t1 = time.perf_counter()
                    found_total += len(search.find(uow, facts))
                    case.samples.append(time.perf_counter() - t1)
                    uow.session.expunge_all()
            case.seconds = time.perf_counter() - t0
            bench.add(case)
        bench.note(f"candidates returned in all: {found_total}")
        db.dispose()
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    bench.finish()


if __name__ == "__main__":
    main()
