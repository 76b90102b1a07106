"""Valid sample files generated from a layout (for tests, the benchmark and vendors).

Why in the package and not only in the tests: a vendor adapting an export wants to see what a
conforming file looks like, and the benchmark needs millions of rows in the same shape the
tests check. Everything is derived from the layout file (types, lengths, code tables, check
digits), so a layout revision changes the samples without touching this module; only the key
structure of 住民記録 (世帯 → 個人 → 住所・異動履歴・支援措置) is spelled out here.

Deterministic for a given seed. Generation streams: rows are produced one at a time.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path

from kikan.platform import ids
from kikan.standard.codes import code_table
from kikan.standard.layouts import Group, Item, Layout, layout
from kikan.standard.zokugara import from_code

__all__ = [
    "residents_rows",
    "sample_row",
    "sample_value",
    "write_group_csv",
    "write_residents_sample",
]

FAMILY_NAMES = ("佐藤", "鈴木", "髙橋", "田中", "渡邉", "伊藤", "山本", "中村", "𠮷田", "山﨑")
GIVEN_NAMES = ("太郎", "花子", "一郎", "陽子", "翔太", "美咲", "蓮", "結衣", "さくら", "湊")
KANA = ("サトウ", "スズキ", "タカハシ", "タナカ", "ワタナベ", "タロウ", "ハナコ", "ミサキ")
TOWNS = ("日和町", "本町一丁目", "霞が関", "元本郷町", "中之島", "天神")
# Members of a household by 続柄 code: 妻, 子, 子, 父, 妻の子, 同居人.
MEMBER_ZOKUGARA = ("12", "21", "21", "31", "1221", "92")
_EPOCH = date(1930, 1, 1)
_DAYS = (date(2024, 12, 31) - _EPOCH).days
_UNKNOWN_FORMS = ("R5-??-??!about", "令和5年頃", "年月日不詳", "S50-04-??", "平成2年3月上旬")
_WIDE_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def _rng(seed: int) -> random.Random:
    """Sample data, not secrets: a seeded, reproducible generator is what we want."""
    return random.Random(seed)  # noqa: S311


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _identifier(item: Item, rng: random.Random) -> str:
    kind = item.check_digit
    if kind == "個人番号":
        body = _digits(rng, 11)
        return body + str(ids.my_number_check_digit(body))
    if kind == "住民票コード":
        body = _digits(rng, 10)
        return body + str(ids.juminhyo_code_check_digit(body))
    if kind == "団体コード":
        body = rng.choice(("13101", "01100", "14100", "27100", "23100"))
        return body + str(ids.local_government_code_check_digit(body))
    width = item.length or 15
    return ids.make_atena_number(rng.randrange(1, 10 ** min(width - 1, 9)), width, item=kind or "")


def _text(item: Item, rng: random.Random) -> str:
    if item.type == "Ｎ":
        pool: tuple[str, ...] = FAMILY_NAMES
        suffixes: tuple[str, ...] = GIVEN_NAMES
        if "フリガナ" in item.name or "振り仮名" in item.name:
            pool = suffixes = KANA
        elif item.name in ("町字", "本籍（町字）"):
            pool, suffixes = TOWNS, ("",)
        text = rng.choice(pool) + ("" if rng.random() < 0.5 else rng.choice(suffixes))
        text = text.translate(_WIDE_DIGITS)
    else:
        text = rng.choice(("1-2-3", "101", "A-12", "ABC Heights 201", "3番地"))
    limit = item.length or len(text)
    return text[:limit]


def _coded(item: Item, rng: random.Random) -> str | None:
    """A value for items whose values come from a list (codes, 続柄), else None."""
    if item.code_table is not None:
        return rng.choice(code_table(item.code_table).codes)
    if item.values:
        return rng.choice(list(item.values))
    if item.validator is not None:
        code = rng.choice(("01", *MEMBER_ZOKUGARA))
        return code if item.validator == "zokugara_code" else from_code(code).display
    return None


def sample_value(item: Item, rng: random.Random) -> str:
    """A valid value for ``item`` (any form the checker accepts without an error)."""
    if item.check_digit is not None:
        return _identifier(item, rng)
    coded = _coded(item, rng)
    if coded is not None:
        return coded
    if item.type == "DATE":
        if item.unknown_allowed and rng.random() < 0.1:
            return rng.choice(_UNKNOWN_FORMS)
        return (_EPOCH + timedelta(days=rng.randrange(_DAYS))).isoformat()
    if item.type == "9":
        n = item.length if item.exact else rng.randint(1, item.length or 1)
        return _digits(rng, n or 1)
    return _text(item, rng)


def sample_row(
    group: Group,
    rng: random.Random,
    *,
    fill: float = 0.5,
    fixed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A valid row (item code → value): required items always, others with probability
    ``fill``, ``fixed`` values as given, and items whose ``required_when`` holds filled in."""
    row: dict[str, str] = {}
    for item in group:
        if item.required or rng.random() < fill:
            row[item.code] = sample_value(item, rng)
        else:
            row[item.code] = ""
    row.update(fixed or {})
    for _ in range(len(group)):  # required_when can chain (種別 → 区分 → 在留資格)
        changed = False
        for item in group:
            if row[item.code] or not item.required_when:
                continue
            if all(row.get(other) in values for other, values in item.required_when.items()):
                row[item.code] = sample_value(item, rng)
                changed = True
        if not changed:
            break
    return row


def residents_rows(
    households: int, *, seed: int = 0, fill: float = 0.5, lay: Layout | None = None
) -> dict[str, Iterator[dict[str, str]]]:
    """Generators of coherent 住民記録 rows per group code: every household has one 世帯主 and
    0–3 members; every person has a 住所 row and one 異動履歴 row; one person in a hundred has a
    支援措置. Keys are sequential 宛名番号 / 世帯番号 with check digits."""
    lay = lay or layout("residents")

    def people() -> Iterator[tuple[int, int, str]]:
        rng = _rng(seed)
        person = 0
        for household in range(1, households + 1):
            for zokugara in ("01", *rng.sample(MEMBER_ZOKUGARA, rng.randint(0, 3))):
                person += 1
                yield household, person, zokugara

    def numbers(household: int, person: int) -> tuple[str, str]:
        return (
            ids.make_atena_number(person, 15),
            ids.make_atena_number(household, 15, item="世帯番号"),
        )

    def household_rows() -> Iterator[dict[str, str]]:
        rng = _rng(seed + 1)
        group = lay.group("household")
        for household in range(1, households + 1):
            number = ids.make_atena_number(household, 15, item="世帯番号")
            yield sample_row(group, rng, fill=fill, fixed={"household_number": number})

    def person_rows() -> Iterator[dict[str, str]]:
        rng = _rng(seed + 2)
        group = lay.group("person")
        for household, person, zokugara in people():
            atena, household_number = numbers(household, person)
            kind = "2" if rng.random() < 0.05 else "1"
            fixed = {
                "atena_number": atena,
                "household_number": household_number,
                "zokugara_code": zokugara,
                "zokugara": from_code(zokugara).display,
                "status": "10",
                "resident_kind": kind,
            }
            if kind == "1":
                for code in ("nationality", "article_30_45", "status_of_residence"):
                    fixed[code] = ""
            yield sample_row(group, rng, fill=fill, fixed=fixed)

    def keyed(code: str, offset: int, extra: Mapping[str, str]) -> Iterator[dict[str, str]]:
        rng = _rng(seed + offset)
        group = lay.group(code)
        for _household, person, _z in people():
            atena = ids.make_atena_number(person, 15)
            yield sample_row(group, rng, fill=fill, fixed={"atena_number": atena, **extra})

    def history_rows() -> Iterator[dict[str, str]]:
        rng = _rng(seed + 4)
        group = lay.group("history")
        for household, person, _z in people():
            atena, household_number = numbers(household, person)
            fixed = {"atena_number": atena, "household_number": household_number, "history_no": "1"}
            yield sample_row(group, rng, fill=fill, fixed=fixed)

    def support_rows() -> Iterator[dict[str, str]]:
        rng = _rng(seed + 5)
        group = lay.group("support_measure")
        for _household, person, _z in people():
            if person % 100 == 1:
                atena = ids.make_atena_number(person, 15)
                yield sample_row(group, rng, fill=fill, fixed={"atena_number": atena})

    return {
        "household": household_rows(),
        "person": person_rows(),
        "address": keyed("address", 3, {"address_kind": "1"}),
        "history": history_rows(),
        "support_measure": support_rows(),
    }


def write_group_csv(
    path: Path,
    group: Group,
    rows: Iterable[Mapping[str, str]],
    *,
    bom: bool = False,
    crlf: bool = False,
    header: str = "name",
) -> int:
    """Write rows as a conforming CSV (UTF-8, header of Japanese item names or, with
    ``header="code"``, code names); returns the number of data rows."""
    count = 0
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
        writer.writerow([i.name if header == "name" else i.code for i in group])
        codes = [i.code for i in group]
        for row in rows:
            writer.writerow([row.get(code, "") for code in codes])
            count += 1
    return count


def write_residents_sample(
    directory: Path,
    households: int = 10,
    *,
    seed: int = 0,
    fill: float = 0.5,
    bom: bool = False,
    crlf: bool = False,
) -> dict[str, Path]:
    """Write one valid CSV per 住民記録 group into ``directory`` (``person.csv`` …)."""
    lay = layout("residents")
    paths = {}
    for code, rows in residents_rows(households, seed=seed, fill=fill, lay=lay).items():
        path = directory / f"{code}.csv"
        write_group_csv(path, lay.group(code), rows, bom=bom, crlf=crlf)
        paths[code] = path
    return paths
