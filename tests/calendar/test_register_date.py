"""Register dates (住民記録 標準仕様 1.1.8): 不詳日, days not on the calendar, storage strings."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from kikan.calendar import DateError, Jun, RangeEnd, RegisterDate, Season

# (display text as the spec lists it, storage string, internal date)
SPEC_FORMS = [
    ("令和5年頃", "R5-??-??!about", date(2023, 1, 1)),
    ("令和5年4月頃", "R5-04-??!about", date(2023, 4, 1)),
    ("令和5年4月1日頃", "R5-04-01!about", date(2023, 4, 1)),
    ("推定令和5年4月1日", "R5-04-01!est", date(2023, 4, 1)),
    ("推定令和5年4月", "R5-04-??!est", date(2023, 4, 1)),
    ("令和5年春", "R5-??-??!spring", date(2023, 3, 1)),
    ("令和5年夏", "R5-??-??!summer", date(2023, 6, 1)),
    ("令和5年秋", "R5-??-??!autumn", date(2023, 9, 1)),
    ("令和5年冬", "R5-??-??!winter", date(2023, 12, 1)),
    ("令和5年4月上旬", "R5-04-??!early", date(2023, 4, 1)),
    ("令和5年4月中旬", "R5-04-??!mid", date(2023, 4, 11)),
    ("令和5年4月下旬", "R5-04-??!late", date(2023, 4, 21)),
    ("令和5年4月中旬頃", "R5-04-??!about,mid", date(2023, 4, 11)),
    ("年月日不詳", "?", date.min),
    ("令和5年 月日不詳", "R5-??-??", date(2023, 1, 1)),
    ("令和5年12月 日不詳", "R5-12-??", date(2023, 12, 1)),
    ("令和5年10月1日から11月3日頃までの間", "R5-10-01~11-03!end-about", date(2023, 10, 1)),
    ("令和5年10月推定1日から9日までの間", "R5-10-01~??-09!est", date(2023, 10, 1)),
    ("令和5年10月1日頃から9日頃までの間", "R5-10-01~??-09!about,end-about", date(2023, 10, 1)),
    # Days not on the calendar are allowed for register dates (clamped internally).
    ("令和5年2月29日", "R5-02-29", date(2023, 2, 28)),
    ("令和6年2月30日", "R6-02-30", date(2024, 2, 29)),
    ("令和6年4月31日", "R6-04-31", date(2024, 4, 30)),
    # Real days on which the era changed.
    ("明治45年7月30日", "M45-07-30", date(1912, 7, 30)),
    ("大正15年12月25日", "T15-12-25", date(1926, 12, 25)),
    # 西暦 values (foreign residents' birth dates are kept in 西暦).
    ("1990年 月日不詳", "AD1990-??-??", date(1990, 1, 1)),
    ("1990年4月1日", "AD1990-04-01", date(1990, 4, 1)),
    ("推定1990年", "AD1990-??-??!est", date(1990, 1, 1)),
]


@pytest.mark.parametrize(("text", "storage", "internal"), SPEC_FORMS)
def test_spec_forms(text: str, storage: str, internal: date) -> None:
    rd = RegisterDate.parse(text)
    assert rd.display() == text
    assert str(rd) == text
    assert rd.to_storage() == storage
    assert RegisterDate.from_storage(storage) == rd
    assert rd.internal_date == internal


@pytest.mark.parametrize(
    ("text", "display"),
    [
        ("令和五年四月中旬頃", "令和5年4月中旬頃"),
        ("令和５年　月日不詳", "令和5年 月日不詳"),
        ("令和5年月日不詳", "令和5年 月日不詳"),
        ("令和元年十二月 日不詳", "令和元年12月 日不詳"),
        ("令和5年4月推定1日", "推定令和5年4月1日"),
        ("平成三十一年四月三十日頃", "平成31年4月30日頃"),
        ("R06.04.01", "令和6年4月1日"),
        ("不詳", "年月日不詳"),
    ],
)
def test_parse_variants(text: str, display: str) -> None:
    assert RegisterDate.parse(text).display() == display


def test_real_day() -> None:
    rd = RegisterDate.parse("令和元年5月1日")
    assert rd.is_exact and rd.is_calendar_day and not rd.is_uncertain
    assert rd.to_date() == date(2019, 5, 1)
    assert rd == RegisterDate.from_date(date(2019, 5, 1))
    assert RegisterDate.from_date(date(2019, 5, 1), seireki=True).display() == "2019年5月1日"
    assert RegisterDate.of("令", 1, 5, 1).era == "令和"


def test_not_calendar_days_are_held_but_not_dates() -> None:
    rd = RegisterDate.parse("令和5年2月29日")
    assert rd.is_exact and not rd.is_calendar_day
    with pytest.raises(DateError) as info:
        rd.to_date()
    assert info.value.code == "not_calendar_date"
    with pytest.raises(DateError):
        RegisterDate.parse("令和5年4月頃").to_date()


def test_internal_date_is_clamped_into_the_era() -> None:
    assert RegisterDate.parse("令和元年頃").internal_date == date(2019, 5, 1)
    assert RegisterDate.parse("令和元年 月日不詳").internal_date == date(2019, 5, 1)
    assert RegisterDate.parse("大正元年 月日不詳").internal_date == date(1912, 7, 30)
    assert RegisterDate.parse("平成31年冬").internal_date == date(2019, 4, 30)
    assert RegisterDate.parse("昭和64年 月日不詳").internal_date == date(1989, 1, 1)


def test_sorting_by_internal_date() -> None:
    texts = ["令和5年春", "年月日不詳", "令和5年2月29日", "令和5年頃", "令和5年4月上旬"]
    ordered = sorted((RegisterDate.parse(t) for t in texts), key=lambda r: r.internal_date)
    assert [r.display() for r in ordered] == [
        "年月日不詳",
        "令和5年頃",
        "令和5年2月29日",
        "令和5年春",
        "令和5年4月上旬",
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("平成31年5月1日", "outside_era"),  # not a day that was ever written in 平成
        ("昭和64年1月8日", "outside_era"),
        ("平成31年5月 日不詳", "outside_era"),
        ("令和元年4月頃", "outside_era"),
        ("平成31年4月25日から5月5日までの間", "outside_era"),
        ("明治5年頃", "before_gregorian"),
        ("明治5年12月2日", "before_gregorian"),
        ("令和5年13月 日不詳", "out_of_range"),
        ("令和5年4月32日", "out_of_range"),
        ("令和5年4月10日から4月1日までの間", "out_of_range"),
        ("令和5年", "unrecognized"),  # 不詳 must be said explicitly
        ("令和5年4月", "unrecognized"),
        ("推定令和5年4月推定1日", "unrecognized"),
        ("令和5年4月1日から10日までの間頃", "unrecognized"),
        ("令和5年頃頃", "unrecognized"),
        ("そのうち", "unrecognized"),
        ("", "empty"),
    ],
)
def test_rejects(text: str, code: str) -> None:
    with pytest.raises(DateError) as info:
        RegisterDate.parse(text, item="異動日")
    assert info.value.code == code
    assert info.value.item == "異動日"


@pytest.mark.parametrize(
    "storage",
    ["", "R5", "R5-4-1", "R5-04-01!", "R5-04-01!bogus", "R5-04-??!mid,about", "R05-04-01",
     "X5-04-01", "R5-04-01~??-??", "r5-04-01", "AD1990-04-01!about,est"],
)  # fmt: skip
def test_bad_storage_strings(storage: str) -> None:
    with pytest.raises(DateError) as info:
        RegisterDate.from_storage(storage)
    assert info.value.code in {"invalid_storage", "unknown_era", "out_of_range"}


def test_invalid_combinations() -> None:
    with pytest.raises(DateError):
        RegisterDate("令和", 5, 4, None, season=Season.SPRING)
    with pytest.raises(DateError):
        RegisterDate("令和", 5, None, None, jun=Jun.EARLY)
    with pytest.raises(DateError):
        RegisterDate("令和", 5, 4, None, until=RangeEnd(day=3))
    with pytest.raises(DateError):
        RegisterDate(None, None, 4, 1)
    with pytest.raises(DateError):
        RegisterDate("令和", 5, 4, 1, about=True, estimated=True)


# --------------------------------------------------------------------------- properties

_ERA_YEARS = {"明治": (6, 45), "大正": (1, 15), "昭和": (1, 64), "平成": (1, 31), "令和": (1, 30)}


@st.composite
def register_dates(draw: st.DrawFn) -> RegisterDate:
    """Any valid RegisterDate (invalid draws are filtered by the constructor's own checks)."""
    if draw(st.integers(0, 30)) == 0:
        return RegisterDate.unknown()
    seireki = draw(st.booleans())
    if seireki:
        era, year = None, draw(st.integers(1873, 2099))
    else:
        era = draw(st.sampled_from(sorted(_ERA_YEARS)))
        year = draw(st.integers(*_ERA_YEARS[era]))
    level = draw(st.sampled_from(["year", "month", "day", "range"]))
    month = None if level == "year" else draw(st.integers(1, 12))
    day = draw(st.integers(1, 31)) if level in ("day", "range") else None
    qualifier = draw(st.sampled_from(["none", "about", "est", "season", "jun", "jun-about"]))
    season = draw(st.sampled_from(list(Season))) if qualifier == "season" else None
    jun = draw(st.sampled_from(list(Jun))) if qualifier.startswith("jun") else None
    until = None
    if level == "range":
        until = RangeEnd(
            day=draw(st.integers(1, 31)),
            month=draw(st.none() | st.integers(1, 12)),
            about=draw(st.booleans()),
        )
    try:
        return RegisterDate(
            era,
            year,
            month,
            day,
            about=qualifier in ("about", "jun-about"),
            estimated=qualifier == "est",
            season=season,
            jun=jun,
            until=until,
        )
    except DateError:
        reject()


@given(register_dates())
def test_storage_and_display_round_trip(rd: RegisterDate) -> None:
    storage = rd.to_storage()
    assert storage.isascii()
    assert RegisterDate.from_storage(storage) == rd
    assert RegisterDate.from_storage(storage).to_storage() == storage
    assert RegisterDate.parse(rd.display()) == rd
    internal = rd.internal_date
    assert isinstance(internal, date)
    if rd.is_calendar_day:
        assert rd.to_date() == internal
