"""Golden tests of the eligibility rules at every edge (pure: no database, no HTTP)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kikan.electoral_roll import domain
from kikan.electoral_roll.domain import (
    MARKED,
    REGISTERED,
    DistrictRange,
    DistrictTableError,
    Person,
    judge,
)


def person(**items: Any) -> Person:
    """A Japanese resident born 1990, here since 2020 (storage-form dates, as the feed sends)."""
    record = {
        "atena_number": "000000000000018",
        "resident_kind": "1",
        "status": "10",
        "birth_date": "H2-04-01",
        "became_resident_date": "R2-04-01",
        "family_name": "山田",
        "given_name": "太郎",
        "sex": "1",
        "town": "本町一丁目",
        "banchi": "1番地",
        **items,
    }
    return Person.of(record)


BASE = date(2026, 6, 1)


# ---------------------------------------------------------------- the rules as data


def test_the_rules_come_from_data_with_their_source() -> None:
    book = domain.rule_book()
    assert "公職選挙法" in book.source and "第21条" in book.source and "第28条" in book.source
    assert book.on(date(2016, 6, 18)).voting_age == 20
    assert book.on(date(2016, 6, 19)).voting_age == 18
    current = book.on(BASE)
    assert current.residence_months == 3 and current.removal_months_after_move_out == 4
    assert current.regular_months == (3, 6, 9, 12) and current.regular_day == 1
    assert domain.is_regular_base_date(date(2026, 9, 1), current)
    assert not domain.is_regular_base_date(date(2026, 9, 2), current)
    assert not domain.is_regular_base_date(date(2026, 7, 1), current)


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("start", "months", "years", "end"),
    [
        (date(2026, 3, 1), 3, 0, date(2026, 5, 31)),
        (date(2026, 3, 2), 3, 0, date(2026, 6, 1)),
        (date(2025, 11, 30), 3, 0, date(2026, 2, 28)),  # no 2/30: the month's last day
        (date(2025, 12, 1), 3, 0, date(2026, 2, 28)),
        (date(2008, 6, 2), 0, 18, date(2026, 6, 1)),
        (date(2008, 2, 29), 0, 18, date(2026, 2, 28)),  # born 2/29: 18 on 2/28
        (date(2008, 2, 29), 0, 16, date(2024, 2, 28)),  # a leap year: the day before 2/29
    ],
)
def test_periods_end_as_the_civil_code_counts(
    start: date, months: int, years: int, end: date
) -> None:
    assert domain.period_end(start, months=months, years=years) == end


# ---------------------------------------------------------------- age


@pytest.mark.parametrize(
    ("birth", "election_day", "on_roll"),
    [
        ("H20-06-02", date(2026, 6, 1), True),  # 18 on the day before the 18th birthday
        ("H20-06-03", date(2026, 6, 1), False),  # the day before that: still 17
        ("H20-06-01", date(2026, 6, 1), True),
        ("H20-02-29", date(2026, 2, 28), True),
        ("H20-02-29", date(2026, 2, 27), False),
    ],
)
def test_age_counts_from_the_day_before_the_birthday(
    birth: str, election_day: date, on_roll: bool
) -> None:
    got = judge(person(birth_date=birth), base_date=date(2026, 2, 1), election_day=election_day)
    assert got.on_roll is on_roll, got
    if not on_roll:
        assert got.reason == "under-age"


def test_for_regular_registration_the_age_is_judged_on_the_base_date() -> None:
    assert judge(person(birth_date="H20-06-02"), base_date=BASE).mark == REGISTERED
    assert judge(person(birth_date="H20-06-03"), base_date=BASE).reason == "under-age"


def test_the_voting_age_is_the_one_in_force_on_the_day() -> None:
    # 19 on 2016-06-18 (20 was the age then), 19 still on 2016-06-19 (18 from that day)
    someone = person(birth_date="H9-01-10", became_resident_date="H20-01-01")
    assert judge(someone, base_date=date(2016, 6, 1), election_day=date(2016, 6, 18)).reason == (
        "under-age"
    )
    assert judge(someone, base_date=date(2016, 6, 1), election_day=date(2016, 6, 19)).on_roll


@pytest.mark.parametrize(
    ("birth", "on_roll", "reason"),
    [
        ("H20-06-??", False, "under-age"),  # could be 6/30: not registered
        ("H20-05-??", True, ""),  # the latest day 5/31: 18 on 5/30
        ("H20-??-??", False, "under-age"),
        ("H19-??-??", True, ""),  # the latest day 2007-12-31: 18 by 2025-12-30
        ("H20-05-??!about", True, ""),  # 頃: the month's last day, not widened
        ("?", False, "birth-unknown"),  # 年月日不詳: never registered automatically
        ("", False, "birth-unknown"),
    ],
)
def test_an_unknown_birth_date_counts_as_its_latest_possible_day(
    birth: str, on_roll: bool, reason: str
) -> None:
    got = judge(person(birth_date=birth), base_date=BASE)
    assert (got.on_roll, got.reason) == (on_roll, reason)


# ---------------------------------------------------------------- 3 months


@pytest.mark.parametrize(
    ("moved_in", "on_roll", "reason"),
    [
        ("R8-02-28", True, ""),  # the period ended 5/27
        ("R8-03-01", True, ""),  # exactly 3 months: the period ends 5/31, the day before
        ("R8-03-02", False, "too-short"),  # the period ends on the base date itself
        ("R8-05-31", False, "too-short"),
        ("R8-06-01", False, "not-yet-recorded"),  # moved in on the base date
        ("R8-03-??", False, "too-short"),  # 不詳: the latest day (3/31)
        ("?", False, "residence-unknown"),
    ],
)
def test_three_months_in_the_register_before_the_base_date(
    moved_in: str, on_roll: bool, reason: str
) -> None:
    got = judge(person(became_resident_date=moved_in), base_date=BASE)
    assert (got.on_roll, got.reason) == (on_roll, reason)


def test_the_three_months_across_a_short_month() -> None:
    # 12/1 → the period ends at the end of February: on the roll of 3/1
    assert judge(person(became_resident_date="R7-12-01"), base_date=date(2026, 3, 1)).on_roll
    # 12/2 → the period ends 3/1: not yet
    late = judge(person(became_resident_date="R7-12-02"), base_date=date(2026, 3, 1))
    assert late.reason == "too-short"


def test_foreign_residents_dead_and_removed_persons_are_not_on_the_roll() -> None:
    assert judge(person(resident_kind="2"), base_date=BASE).reason == "not-japanese"
    assert judge(person(status="21"), base_date=BASE).reason == "gone"
    assert judge(person(status="22"), base_date=BASE).reason == "gone"


# ---------------------------------------------------------------- the old-address rule (4 months)


def moved_out(day: str, *, since: str = "R2-04-01") -> Person:
    return person(status="20", removal_reason="21", removal_date=day, became_resident_date=since)


def test_a_person_who_moved_out_stays_with_the_mark_until_four_months_have_passed() -> None:
    # moved out 2026-01-10: the 4 months are 1/11–5/10; 表示 until 5/10, 抹消 from 5/11
    leaver = moved_out("R8-01-10")
    on_510 = judge(leaver, base_date=date(2026, 5, 10))
    assert on_510.mark == MARKED
    assert on_510.moved_out == date(2026, 1, 10) and on_510.strike == date(2026, 5, 11)
    assert judge(leaver, base_date=date(2026, 5, 11)).reason == "moved-out-long-ago"
    assert domain.strike_on(date(2026, 1, 10), domain.rule_book().on(BASE)) == date(2026, 5, 11)
    # month ends: moved out 10/31 → 11/1–2/28 → struck 3/1
    assert domain.strike_on(date(2025, 10, 31), domain.rule_book().on(BASE)) == date(2026, 3, 1)


def test_move_out_days_come_as_iso_days_or_register_dates() -> None:
    assert domain.latest_day("2026-12-08") == date(2026, 12, 8)
    assert domain.latest_day("R8-12-08") == date(2026, 12, 8)
    assert domain.latest_day("2026-02-30") is None
    assert moved_out("2026-01-10").moved_out_on() == date(2026, 1, 10)


def test_a_planned_move_out_is_marked_from_the_planned_day() -> None:
    leaving = person(status="11", move_out_planned_date="R8-05-20")
    assert judge(leaving, base_date=BASE).mark == MARKED
    later = person(status="11", move_out_planned_date="R8-06-20")
    assert judge(later, base_date=BASE).mark == REGISTERED


def test_a_person_who_moved_out_before_three_months_or_before_any_registration_is_not_kept() -> (
    None
):
    # here 2025-11-01 .. 2026-01-20: the 3 months ended 1/31 → never 3 months here
    short = moved_out("R8-01-20", since="R7-11-01")
    assert judge(short, base_date=date(2026, 3, 1)).reason == "too-short"
    # here 2025-10-01 .. 2026-02-15: 3 months ended 12/31, but no 定時登録 (3/1) before leaving
    unregistered = moved_out("R8-02-15", since="R7-10-01")
    assert judge(unregistered, base_date=date(2026, 3, 1)).reason == (
        "moved-out-before-registration"
    )
    # here until 2026-03-15: registered on 3/1, so marked on 6/1
    registered = moved_out("R8-03-15", since="R7-10-01")
    assert judge(registered, base_date=BASE).mark == MARKED


def test_strike_reasons() -> None:
    assert domain.strike_reason(person(status="21")) == "死亡"
    assert domain.strike_reason(person(status="22", removal_reason="25")) == "国籍喪失"
    assert domain.strike_reason(person(status="22", removal_reason="26")) == "職権消除"
    assert domain.strike_reason(person(resident_kind="2")) == "国籍喪失"
    assert domain.strike_reason(person()) is None


# ---------------------------------------------------------------- 投票区


def test_a_complete_district_table_assigns_every_address() -> None:
    table = domain.validate_districts(
        [
            DistrictRange("01", "第1投票区", "本町一丁目"),
            DistrictRange("02", "第2投票区", "本町二丁目", 1, 10),
            DistrictRange("03", "第3投票区", "本町二丁目", 11, None),
        ]
    )
    assert domain.district_of(table, "本町一丁目", "99番地") == "01"
    assert domain.district_of(table, "本町二丁目", "１０番地の３") == "02"
    assert domain.district_of(table, "本町二丁目", "11-2") == "03"
    assert domain.district_of(table, "本町二丁目", "十一番地") == ""  # 十 is not read: reported
    assert domain.district_of(table, "南町", "1") == ""


def test_gaps_and_overlaps_are_refused_with_the_exact_ranges() -> None:
    with pytest.raises(DistrictTableError) as refused:
        domain.validate_districts(
            [
                DistrictRange("02", "第2投票区", "本町二丁目", 1, 10),
                DistrictRange("03", "第3投票区", "本町二丁目", 13, 20),
                DistrictRange("04", "第4投票区", "本町二丁目", 18, None),
                DistrictRange("01", "第1投票区", "本町一丁目"),
                DistrictRange("05", "第5投票区", "本町一丁目", 1, None),
                DistrictRange("06", "第6投票区", "栄町", 2, 5),
            ]
        )
    problems = [(p.code, p.message) for p in refused.value.problems]
    assert ("gap", "本町二丁目 11〜12番地がどの投票区にもありません") in problems
    assert ("overlap", "本町二丁目 13〜20番地 と 本町二丁目 18〜番地 が重なっています") in problems
    assert ("overlap", "本町一丁目（全域）と 本町一丁目 1〜番地 が重なっています") in problems
    assert ("gap", "栄町 1〜1番地がどの投票区にもありません") in problems
    assert ("gap", "栄町 6番地以降がどの投票区にもありません") in problems
    assert refused.value.item == "districts" and "投票区" in refused.value.message
