"""Cost of name search keys, address keys and date parsing against a plain NFKC pass.

    .venv/bin/python -m benchmarks.text_bench --n 1000000

Three reports (each with its own baseline over the same generated texts, deterministic seed):

- ``text-names``: N names (kanji with variants such as 髙橋, 渡邉+IVS, 𠮷田; kana in full-width,
  half-width and hiragana; full-width and ASCII spaces). Cases: ``nfkc`` (baseline,
  ``unicodedata.normalize('NFKC', s)``) and ``search_key``.
- ``text-addresses``: N addresses (kanji numerals, full-width digits, hyphen variants, 大字/字).
  Cases: ``nfkc`` (baseline) and ``address_key``.
- ``text-dates``: N date texts in the forms files and forms contain (令和6年4月1日,
  令和六年四月一日, R06.04.01, 5060401, 2024-04-01, 2024/4/1, full-width digits).
  Cases: ``nfkc`` (baseline), ``parse_date`` and ``RegisterDate.parse``.

Generation is not timed. The first names warm the lazily built kanji fold table; that cost is
inside ``search_key`` (it is paid once per process in production too).
"""

from __future__ import annotations

import argparse
import random
import unicodedata
from datetime import date, timedelta

from benchmarks.runner import Benchmark
from kikan.calendar import (
    RegisterDate,
    format_era_code,
    format_wareki,
    format_wareki_abbr,
    parse_date,
)
from kikan.moji import address_key, search_key

SURNAMES = [
    "佐藤", "鈴木", "高橋", "髙橋", "田中", "渡辺", "渡邉", "渡邊", "渡邉\U000e0110", "伊藤",
    "山本", "中村", "小林", "加藤", "吉田", "𠮷田", "山田", "佐々木", "山口", "松本",
    "井上", "木村", "林", "斎藤", "齋藤", "齊藤", "清水", "山崎", "山﨑", "森",
    "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川", "前田", "岡田",
    "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本", "斉藤", "福田",
    "太田", "西村", "藤井", "金子", "岡本", "藤原", "中野", "三浦", "原田", "松田",
    "濱田", "澤田", "廣瀬", "國分", "櫻井", "冨田", "神田", "\ufa19田",
]  # fmt: skip
GIVEN = [
    "太郎", "花子", "一郎", "陽子", "翔太", "美咲", "大輔", "由美", "健一", "裕子",
    "蓮", "陽翔", "結衣", "葵", "湊", "凛", "悠真", "さくら", "ひなた", "みすゞ",
]  # fmt: skip
KANA = [
    "サトウ タロウ", "ｻﾄｳ ﾀﾛｳ", "さとう たろう", "タカハシ ユーコ", "ﾀｶﾊｼ ﾕｰｺ", "ワタナベ ケンイチ",
    "ヴィクトル・ペトロフ", "ビクトル ペトロフ", "ジャン＝ポール", "キャサリン", "ｷｬｻﾘﾝ",
    "ヤマザキ ショウタ", "やまざき しょうた", "イトウ　ヒナタ", "ﾆｼﾑﾗ ｻｸﾗ",
]  # fmt: skip
SEPARATORS = ["", " ", "\u3000"]

PLACES = [
    "東京都千代田区霞が関", "東京都千代田区霞ヶ関", "東京都八王子市元本郷町",
    "大阪府大阪市北区中之島",
    "北海道札幌市中央区北一条西", "茨城県龍ケ崎市大字佐貫町字西", "福岡県福岡市中央区天神",
    "愛知県名古屋市中区三の丸", "宮城県仙台市青葉区国分町", "神奈川県横浜市中区日本大通",
]  # fmt: skip
KANJI_DIGITS = "〇一二三四五六七八九"
FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def kanji_number(n: int) -> str:
    if n < 10:
        return KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (
        ("" if tens == 1 else KANJI_DIGITS[tens]) + "十" + ("" if ones == 0 else KANJI_DIGITS[ones])
    )


def make_names(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        if rng.random() < 0.3:
            out.append(rng.choice(KANA))
        else:
            out.append(rng.choice(SURNAMES) + rng.choice(SEPARATORS) + rng.choice(GIVEN))
    return out


def make_addresses(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        place = rng.choice(PLACES)
        a, b, c = rng.randint(1, 9), rng.randint(1, 40), rng.randint(1, 30)
        style = rng.randrange(4)
        if style == 0:
            out.append(f"{place}{kanji_number(a)}丁目{kanji_number(b)}番{kanji_number(c)}号")
        elif style == 1:
            out.append(f"{place}{a}-{b}-{c}".translate(FULLWIDTH))
        elif style == 2:
            out.append(f"{place} {a}丁目{b}番地{c}")
        else:
            out.append(f"{place}{a}ー{b}ー{c}")
    return out


def make_dates(rng: random.Random, n: int) -> list[str]:
    first = date(1873, 1, 1)
    span = (date(2099, 12, 31) - first).days
    out = []
    for _ in range(n):
        d = first + timedelta(days=rng.randrange(span + 1))
        style = rng.randrange(7)
        if style == 0:
            out.append(format_wareki(d))
        elif style == 1:
            out.append(format_wareki(d, numerals="kanji"))
        elif style == 2:
            out.append(format_wareki_abbr(d))
        elif style == 3:
            out.append(format_era_code(d))
        elif style == 4:
            out.append(d.isoformat())
        elif style == 5:
            out.append(f"{d.year}/{d.month}/{d.day}")
        else:
            out.append(format_wareki(d).translate(FULLWIDTH))
    return out


def nfkc_all(texts: list[str]) -> int:
    normalize = unicodedata.normalize
    return sum(len(normalize("NFKC", t)) for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20240401)
    args = parser.parse_args()
    n = args.n

    rng = random.Random(args.seed)
    names = make_names(rng, n)
    addresses = make_addresses(rng, n)
    dates = make_dates(rng, n)

    bench = Benchmark("text-names", dataset={"names": n, "seed": args.seed})
    with bench.case("nfkc", items=n, unit="names", baseline=True):
        nfkc_all(names)
    with bench.case("search_key", items=n, unit="names"):
        keys = [search_key(t) for t in names]
    bench.note(f"distinct names {len(set(names)):,} → distinct keys {len(set(keys)):,}")
    bench.finish()

    bench = Benchmark("text-addresses", dataset={"addresses": n, "seed": args.seed})
    with bench.case("nfkc", items=n, unit="addresses", baseline=True):
        nfkc_all(addresses)
    with bench.case("address_key", items=n, unit="addresses"):
        keys = [address_key(t) for t in addresses]
    bench.note(f"distinct addresses {len(set(addresses)):,} → distinct keys {len(set(keys)):,}")
    bench.finish()

    bench = Benchmark("text-dates", dataset={"dates": n, "seed": args.seed})
    with bench.case("nfkc", items=n, unit="dates", baseline=True):
        nfkc_all(dates)
    with bench.case("parse_date", items=n, unit="dates"):
        for t in dates:
            parse_date(t)
    with bench.case("RegisterDate.parse", items=n, unit="dates"):
        for t in dates:
            RegisterDate.parse(t)
    bench.finish()


if __name__ == "__main__":
    main()
