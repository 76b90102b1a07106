"""Random valid values and rows, built from the layout file, always pass."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kikan.calendar import RegisterDate
from kikan.conformance import check_files
from kikan.conformance.cells import compile_item
from kikan.conformance.samples import write_group_csv
from kikan.platform import ids
from kikan.standard.codes import code_table
from kikan.standard.layouts import Item, layout
from kikan.standard.zokugara import from_code

LAYOUT = layout("residents")
# Full-width characters known to be in MJ / JIS X 0213 (kanji incl. 髙 﨑 𠮷, kana, 全角数字).
ZENKAKU = "山田太郎花子髙橋﨑𠮷渡邉辺斎藤鈴木佐藤アイウエオカキクケコサシスセソタチツテトヴー０１２３４５６７８９　ー・"
ZOKUGARA = (
    "01",
    "11",
    "12",
    "13",
    "14",
    "21",
    "1221",
    "2121",
    "21212121",
    "31",
    "4131",
    "91",
    "92",
)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def identifier(item: Item) -> st.SearchStrategy[str]:
    kind = item.check_digit
    if kind == "個人番号":
        return digits(11).map(lambda b: b + str(ids.my_number_check_digit(b)))
    if kind == "住民票コード":
        return digits(10).map(lambda b: b + str(ids.juminhyo_code_check_digit(b)))
    if kind == "団体コード":
        return digits(5).map(lambda b: b + str(ids.local_government_code_check_digit(b)))
    assert item.length is not None
    return st.integers(1, 10 ** (item.length - 1) - 1).map(
        lambda n: ids.make_atena_number(n, item.length or 15, item=kind or "")
    )


def real_dates() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31))


def unknown_dates() -> st.SearchStrategy[str]:
    """不詳 forms made by RegisterDate itself (year only, month only, 頃, 年月日不詳), written
    in its storage form or its display form."""

    def build(day: date, level: int, about: bool) -> RegisterDate:
        exact = RegisterDate.from_date(day)
        month = day.month if level >= 1 else None
        return RegisterDate(exact.era, exact.year, month, day.day if level == 2 else None, about)

    partial = st.builds(
        build,
        st.dates(min_value=date(1927, 1, 1), max_value=date(2030, 12, 31)),
        st.integers(0, 2),
        st.booleans(),
    )
    return st.one_of(partial, st.just(RegisterDate.unknown())).flatmap(
        lambda r: st.sampled_from([r.to_storage(), r.display()])
    )


def value(item: Item) -> st.SearchStrategy[str]:
    if item.check_digit is not None:
        return identifier(item)
    if item.code_table is not None:
        return st.sampled_from(code_table(item.code_table).codes)
    if item.values:
        return st.sampled_from(sorted(item.values))
    if item.validator is not None:
        codes = st.sampled_from(ZOKUGARA)
        return (
            codes
            if item.validator == "zokugara_code"
            else codes.map(lambda c: from_code(c).display)
        )
    if item.type == "DATE":
        real = real_dates().map(date.isoformat)
        return st.one_of(real, unknown_dates()) if item.unknown_allowed else real
    length = item.length or 1
    if item.type == "9":
        return st.integers(length if item.exact else 1, length).flatmap(digits)
    if item.type == "Ｎ":
        return st.text(alphabet=ZENKAKU, min_size=1, max_size=min(length, 20))
    # X: any printable ASCII, including the CSV's own quote and comma.
    return st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                   max_size=min(length, 30))  # fmt: skip


ITEMS = [item for group in LAYOUT.groups for item in group]


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_every_valid_value_passes_its_item_check(data: st.DataObject) -> None:
    item = data.draw(st.sampled_from(ITEMS))
    text = data.draw(value(item))
    assert compile_item(item)(text) is None, (item.name, text)


def person_rows() -> st.SearchStrategy[list[dict[str, str]]]:
    group = LAYOUT.group("person")

    def row(n: int) -> st.SearchStrategy[dict[str, str]]:
        cells = {
            item.code: value(item) if item.required else st.one_of(st.just(""), value(item))
            for item in group
        }
        cells["atena_number"] = st.just(ids.make_atena_number(n, 15))
        # One household per person keeps "one 世帯主 per 世帯" true whatever 続柄 is drawn.
        cells["household_number"] = st.just(ids.make_atena_number(n, 15, item="世帯番号"))
        return st.fixed_dictionaries(cells).map(_fill_conditions)

    return (
        st.integers(1, 8).flatmap(lambda k: st.tuples(*(row(n) for n in range(1, k + 1)))).map(list)
    )


def _fill_conditions(row: dict[str, str]) -> dict[str, str]:
    """Items required when another item has a value get a fixed valid value."""
    if row["resident_kind"] == "2":
        row["nationality"] = row["nationality"] or "156"
        row["article_30_45"] = row["article_30_45"] or "1"
    if row["article_30_45"] == "1":
        row["status_of_residence"] = row["status_of_residence"] or "207"
    return row


@given(person_rows())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_valid_rows_pass(rows: list[dict[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "person.csv"
        write_group_csv(path, LAYOUT.group("person"), rows)
        report = check_files("住民記録", [path])
    assert report.error_count == 0, report.findings
