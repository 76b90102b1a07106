"""The era table is data: a new era is a data change plus tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kikan.calendar import (
    DateError,
    EraTable,
    RegisterDate,
    default_era_table,
    format_era_code,
    format_wareki,
    format_wareki_abbr,
    load_era_table,
    parse_date,
)

BUNDLED = Path(__file__).resolve().parents[2] / "kikan" / "calendar" / "data" / "eras.toml"

# A fictional era 架空 (code 6, letter K) starting 2040-01-01; 令和 ends the day before.
FICTIONAL = (
    BUNDLED.read_text("utf-8")
    .replace(
        'abbr = "R"\nstart = 2019-05-01\n',
        'abbr = "R"\nstart = 2019-05-01\nlast_day = 2039-12-31\n\n'
        '[[era]]\ncode = 6\nname = "架空"\nabbr = "K"\nstart = 2040-01-01\n',
    )
    .replace('version = "2019.1"', 'version = "test.1"')
)


@pytest.fixture
def fictional(tmp_path: Path) -> EraTable:
    path = tmp_path / "eras.toml"
    path.write_text(FICTIONAL, "utf-8")
    return load_era_table(path)


def test_bundled_table() -> None:
    table = default_era_table()
    assert table.version == "2019.1"
    assert table.gregorian_from == date(1873, 1, 1)
    assert [(e.code, e.name, e.abbr) for e in table.eras] == [
        (1, "明治", "M"),
        (2, "大正", "T"),
        (3, "昭和", "S"),
        (4, "平成", "H"),
        (5, "令和", "R"),
    ]
    assert table.eras[-1].last_day is None


def test_new_era_is_a_data_change(fictional: EraTable) -> None:
    assert fictional.version == "test.1"
    assert format_wareki(date(2040, 1, 1), table=fictional) == "架空元年1月1日"
    assert format_wareki(date(2039, 12, 31), table=fictional) == "令和21年12月31日"
    assert format_wareki_abbr(date(2041, 2, 3), table=fictional) == "K02.02.03"
    assert format_era_code(date(2041, 2, 3), table=fictional) == "6020203"
    assert parse_date("架空元年1月1日", table=fictional) == date(2040, 1, 1)
    assert parse_date("架空二年二月三日", table=fictional) == date(2041, 2, 3)
    assert parse_date("K02.02.03", table=fictional) == date(2041, 2, 3)
    assert parse_date("6020203", table=fictional) == date(2041, 2, 3)
    with pytest.raises(DateError) as info:
        parse_date("令和22年1月1日", table=fictional)
    assert info.value.code == "outside_era"
    rd = RegisterDate.parse("架空2年春", table=fictional)
    assert rd.to_storage() == "K2-??-??!spring"
    assert RegisterDate.from_storage("K2-??-??!spring", table=fictional) == rd
    # The bundled table is untouched: 2040 is still 令和.
    assert format_wareki(date(2040, 1, 1)) == "令和22年1月1日"
    with pytest.raises(DateError):
        parse_date("架空元年1月1日")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("last_day = 1989-01-07", "last_day = 1989-01-05"),  # gap before 平成
        ('abbr = "H"', 'abbr = "S"'),  # duplicate letter
        ("code = 4", "code = 3"),  # duplicate code
        ("last_day = 2019-04-30\n", ""),  # only the current era may be open
        ('abbr = "H"', 'abbr = "h"'),
        ('name = "大正"', 'name = "明正"'),  # 明 alone would be ambiguous
        ("start = 1989-01-08", 'start = "1989-01-08"'),
    ],
)
def test_inconsistent_tables_are_rejected(tmp_path: Path, old: str, new: str) -> None:
    text = BUNDLED.read_text("utf-8")
    assert old in text
    path = tmp_path / "eras.toml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(DateError) as info:
        load_era_table(path)
    assert info.value.code == "invalid_era_table"
