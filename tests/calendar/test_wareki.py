"""和暦 conversion, parsing and formatting (kikan.calendar.wareki)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kikan.calendar import (
    DateError,
    format_era_code,
    format_seireki,
    format_wareki,
    format_wareki_abbr,
    from_wareki,
    parse_date,
    to_wareki,
)

FIRST = date(1873, 1, 1)
LAST = date(2099, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5060401", date(2024, 4, 1)),
        ("4310430", date(2019, 4, 30)),
        ("3640107", date(1989, 1, 7)),
        ("R06.04.01", date(2024, 4, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("h31.4.30", date(2019, 4, 30)),
        ("S64/1/7", date(1989, 1, 7)),
        ("R元.5.1", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("令和６年４月１日", date(2024, 4, 1)),
        ("Ｒ０６．０４．０１", date(2024, 4, 1)),
        ("令和六年四月一日", date(2024, 4, 1)),
        ("令和十年十月十日", date(2028, 10, 10)),
        ("平成二十年十二月三十一日", date(2008, 12, 31)),
        ("昭和三十一年二月二十九日", date(1956, 2, 29)),
        ("令和 6年 4月 1日", date(2024, 4, 1)),
        ("令6.4.1", date(2024, 4, 1)),
        ("㋿6年4月1日", date(2024, 4, 1)),
        ("㍻31年4月30日", date(2019, 4, 30)),
        ("2024-04-01", date(2024, 4, 1)),
        ("2024/4/1", date(2024, 4, 1)),
        ("２０２４／４／１", date(2024, 4, 1)),
        ("20240401", date(2024, 4, 1)),
        ("2024年4月1日", date(2024, 4, 1)),
        ("二〇二四年四月一日", date(2024, 4, 1)),
        ("明治6年1月1日", date(1873, 1, 1)),
    ],
)
def test_parse_accepts_real_world_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The era changed during these days, so the old era's last day is the new era's first.
        ("明治45年7月30日", date(1912, 7, 30)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("大正15年12月25日", date(1926, 12, 25)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
    ],
)
def test_era_boundaries(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(1873, 1, 1), "明治6年1月1日"),
        (date(2024, 4, 1), "令和6年4月1日"),
    ],
)
def test_format_wareki_at_boundaries(day: date, expected: str) -> None:
    assert format_wareki(day) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("平成31年5月1日", "outside_era"),
        ("昭和64年1月8日", "outside_era"),
        ("令和元年4月30日", "outside_era"),
        ("大正元年7月29日", "outside_era"),
        ("明治45年7月31日", "outside_era"),
        ("H31.05.01", "outside_era"),
        ("4310501", "outside_era"),
        ("令和5年2月29日", "nonexistent_date"),
        ("令和5年2月30日", "nonexistent_date"),
        ("2024-02-30", "nonexistent_date"),
        ("令和6年4月31日", "nonexistent_date"),
        ("令和6年13月1日", "out_of_range"),
        ("令和0年1月1日", "out_of_range"),
        ("6060401", "unknown_era"),
        ("X06.04.01", "unknown_era"),
        ("明治5年12月2日", "before_gregorian"),
        ("1872-12-31", "before_gregorian"),
        ("1873/1/1x", "unrecognized"),
        ("令和5年4月頃", "not_calendar_date"),
        ("年月日不詳", "not_calendar_date"),
        ("きのう", "unrecognized"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_parse_rejects(text: str, code: str) -> None:
    with pytest.raises(DateError) as info:
        parse_date(text, item="生年月日")
    assert info.value.code == code
    assert info.value.item == "生年月日"
    assert str(info.value) == info.value.message
    assert isinstance(info.value, ValueError)


def test_rejection_messages_are_japanese_and_say_why() -> None:
    with pytest.raises(DateError) as info:
        parse_date("平成31年5月1日")
    assert str(info.value) == "平成31年5月1日は存在しない日付です（平成は平成31年4月30日まで）"
    with pytest.raises(DateError) as info:
        parse_date("昭和64年1月8日")
    assert "昭和は昭和64年1月7日まで" in str(info.value)
    with pytest.raises(DateError) as info:
        parse_date("令和5年2月29日")
    assert "2023年は閏年ではない" in str(info.value)
    with pytest.raises(DateError) as info:
        parse_date("令和6年2月30日")
    assert "2月に30日はありません" in str(info.value)
    with pytest.raises(DateError) as info:
        parse_date("明治5年1月1日")
    assert "旧暦" in str(info.value)


def test_formats() -> None:
    d = date(2024, 4, 1)
    assert format_wareki(d, numerals="kanji") == "令和六年四月一日"
    assert format_wareki(date(2019, 5, 1), numerals="kanji") == "令和元年五月一日"
    assert format_wareki(date(2008, 12, 31), numerals="kanji") == "平成二十年十二月三十一日"
    assert format_wareki(d, zero_pad=True) == "令和06年04月01日"
    assert format_wareki(date(2019, 5, 1), zero_pad=True) == "令和元年05月01日"
    assert format_wareki_abbr(d) == "R06.04.01"
    assert format_era_code(d) == "5060401"
    assert format_seireki(d) == "2024年4月1日"


def test_to_and_from_wareki() -> None:
    w = to_wareki(date(2019, 5, 1))
    assert (w.era.name, w.year, w.month, w.day) == ("令和", 1, 5, 1)
    assert from_wareki("平成", 31, 4, 30) == date(2019, 4, 30)
    assert from_wareki("明治", 45, 7, 30) == date(1912, 7, 30)


def test_dates_before_1873_are_refused_everywhere() -> None:
    """明治1–5 were lunisolar: no Gregorian day is the day written on the documents."""
    for call in (
        lambda: format_wareki(date(1872, 12, 31)),
        lambda: to_wareki(date(1868, 10, 23)),
        lambda: from_wareki("明治", 5, 12, 2),
        lambda: parse_date("明治元年9月8日"),
        lambda: parse_date("1872-12-31"),
    ):
        with pytest.raises(DateError) as info:
            call()
        assert info.value.code == "before_gregorian"
    assert format_wareki(FIRST) == "明治6年1月1日"


def test_every_day_round_trips() -> None:
    """Every day 1873-01-01 … 2099-12-31 survives each format → parse_date."""
    day = FIRST
    count = 0
    one = timedelta(days=1)
    while day <= LAST:
        assert parse_date(format_wareki(day)) == day
        assert parse_date(format_wareki_abbr(day)) == day
        assert parse_date(format_era_code(day)) == day
        assert parse_date(day.isoformat()) == day
        day += one
        count += 1
    assert count == (LAST - FIRST).days + 1 > 82_000


@given(st.dates(min_value=FIRST, max_value=LAST), st.booleans())
def test_kanji_and_padded_round_trip(day: date, pad: bool) -> None:
    assert parse_date(format_wareki(day, numerals="kanji")) == day
    assert parse_date(format_wareki(day, zero_pad=pad)) == day


@given(st.text(max_size=20))
def test_parse_date_only_returns_dates_or_raises_date_error(text: str) -> None:
    try:
        result = parse_date(text)
    except DateError as exc:
        assert exc.code and exc.message
    else:
        assert result >= FIRST
