"""個人住民税's rules outside the engine: 期割 (split, 特別徴収 months and due dates, 普通徴収 納期),
the 更正 difference in every shape, the tenant's 納期 and the reading of names and dates."""

from __future__ import annotations

from datetime import date

import pytest

from kikan.errors import InvalidError
from kikan.juminzei import domain
from kikan.juminzei.domain import FUCHO, TOKUCHO, Period


def test_split_puts_the_remainder_in_the_first_part() -> None:
    assert domain.split(50_700, 4, 1000) == [14_700, 12_000, 12_000, 12_000]
    assert domain.split(100_050, 12, 100) == [8_750, *[8_300] * 11]  # 100,050 − 11 × 8,300
    assert sum(domain.split(123_456, 12, 100)) == 123_456
    assert domain.split(3_000, 4, 1000) == [3_000, 0, 0, 0]  # too small to split
    assert domain.split(0, 4, 1000) == [0, 0, 0, 0]


def test_tokucho_runs_june_to_may_due_the_tenth_of_the_next_month() -> None:
    rules = domain.collection_rules(2026)
    plan = domain.tokucho_plan(120_000, rules)
    assert [p.label for p in plan] == [f"{m}月分" for m in (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)]
    assert (plan[0].due_date, plan[6].due_date, plan[-1].due_date) == (
        date(2026, 7, 10), date(2027, 1, 10), date(2027, 6, 10))  # fmt: skip
    assert all(p.amount == 10_000 for p in plan)


def test_the_teigaku_year_collects_in_eleven_months_from_data() -> None:
    rules = domain.collection_rules(2024)  # 令和6年度: data, not code
    plan = domain.tokucho_plan(110_050, rules)
    assert len(plan) == 11 and plan[0].label == "7月分" and plan[0].due_date == date(2024, 8, 10)
    assert plan[0].amount == 110_050 - 10_000 * 10 and {p.amount for p in plan[1:]} == {10_000}
    assert domain.collection_rules(2025).tokucho_months[0] == 6  # the next year is back to June


def test_fucho_uses_the_tenants_due_dates() -> None:
    due = domain.fucho_due_dates(2026, ("06-30", "08-31", "10-31", "01-31"))
    assert due == (date(2026, 6, 30), date(2026, 8, 31), date(2026, 10, 31), date(2027, 1, 31))
    assert domain.fucho_due_dates(2026, ("02-31",)) == (date(2027, 2, 28),)  # month's last day
    plan = domain.fucho_plan(50_700, due, 1000)
    assert [(p.label, p.amount) for p in plan] == [
        ("第1期", 14_700), ("第2期", 12_000), ("第3期", 12_000), ("第4期", 12_000)]  # fmt: skip


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ((), "1期から12期"),
        (("6-30",), "MM-DD"),
        (("13-01",), "MM-DD"),
        (("08-31", "06-30"), "年度の順"),
        (("01-31", "06-30"), "年度の順"),
        (("06-30", "06-30"), "年度の順"),
    ],
)
def test_bad_due_dates_are_refused_in_japanese(texts: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidError) as refused:
        domain.check_due_dates(texts)
    assert message in refused.value.message


def _charged(method: str, plan: list[Period]) -> dict[tuple[str, int], Period]:
    return domain.sum_by_period((method, p) for p in plan)


DUE = domain.fucho_due_dates(2026, ("06-30", "08-31", "10-31", "01-31"))


def test_an_increase_goes_to_the_coming_installments_only() -> None:
    before = _charged(FUCHO, domain.fucho_plan(40_000, DUE, 1000))
    after = [(FUCHO, p) for p in domain.fucho_plan(52_000, DUE, 1000)]
    diffs = domain.correction(before, after, 52_000, on=date(2026, 9, 15), unit=1000,
                              extra_due=date(2026, 10, 31))  # fmt: skip
    # passed: 第1期 10,000 and 第2期 10,000 stay; 32,000 over 第3・4期 = 16,000 each
    assert [(d.period, d.amount) for d in diffs] == [(3, 6_000), (4, 6_000)]
    assert sum(d.amount for d in diffs) == 12_000


def test_a_decrease_below_what_was_due_is_an_overpayment() -> None:
    before = _charged(FUCHO, domain.fucho_plan(40_000, DUE, 1000))
    diffs = domain.correction(before, [(FUCHO, p) for p in domain.fucho_plan(15_000, DUE, 1000)],
                              15_000, on=date(2026, 9, 15), unit=1000,
                              extra_due=date(2026, 10, 31))  # fmt: skip
    # 20,000 already due, new total 15,000: 第3・4期 cancelled, 5,000 to refund or set off
    assert [(d.period, d.label, d.amount) for d in diffs] == [
        (3, "第3期", -10_000), (4, "第4期", -10_000), (99, "過誤納（還付・充当）", -5_000)]  # fmt: skip
    assert sum(d.amount for d in diffs) == 15_000 - 40_000


def test_after_the_last_due_date_an_increase_is_one_extra_installment() -> None:
    before = _charged(FUCHO, domain.fucho_plan(40_000, DUE, 1000))
    on = date(2027, 2, 10)
    diffs = domain.correction(before, [(FUCHO, p) for p in domain.fucho_plan(43_000, DUE, 1000)],
                              43_000, on=on, unit=1000,
                              extra_due=domain.extra_due_date(on))  # fmt: skip
    assert [(d.period, d.label, d.due_date, d.amount) for d in diffs] == [
        (99, "随時", date(2027, 3, 31), 3_000)]  # fmt: skip


def test_leaving_the_employer_moves_the_rest_to_fucho() -> None:
    rules = domain.collection_rules(2026)
    before = _charged(TOKUCHO, domain.tokucho_plan(120_000, rules))
    on = date(2026, 11, 20)  # June–October (due by 11/10) were withheld: 50,000
    after = [(FUCHO, p) for p in domain.fucho_plan(120_000, DUE, 1000)]
    diffs = domain.correction(before, after, 120_000, on=on, unit=1000,
                              extra_due=domain.extra_due_date(on))  # fmt: skip
    cancelled = [d for d in diffs if d.method == TOKUCHO]
    added = [d for d in diffs if d.method == FUCHO]
    assert len(cancelled) == 7 and all(d.amount == -10_000 for d in cancelled)
    assert [(d.label, d.amount) for d in added] == [("第4期", 70_000)]
    assert sum(d.amount for d in diffs) == 0


def test_no_change_no_difference() -> None:
    before = _charged(FUCHO, domain.fucho_plan(40_000, DUE, 1000))
    same = [(FUCHO, p) for p in domain.fucho_plan(40_000, DUE, 1000)]
    assert domain.correction(before, same, 40_000, on=date(2026, 9, 1), unit=1000,
                             extra_due=date(2026, 10, 31)) == []  # fmt: skip


def test_names_kana_and_dates_as_written_on_reports() -> None:
    assert domain.normal_name("課税 一郎") == domain.normal_name("課税　一郎") == "課税一郎"
    assert (
        domain.normal_kana("ｶｾﾞｲ ｲﾁﾛｳ") == domain.normal_kana("かぜい　いちろう") == "カゼイイチロウ"
    )
    assert domain.iso_birth("昭和55年4月1日") == domain.iso_birth("S55-04-01") == "1980-04-01"
    assert domain.iso_birth("1980-02-30") == "" and domain.iso_birth("S55-04-??") == ""
    assert domain.kijitsu(2026) == date(2026, 1, 1) and domain.income_year(2026) == 2025
