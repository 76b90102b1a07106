"""Properties that hold for every case (hypothesis).

Tax is never negative and the figures add up. With a fixed family and no credits that depend on
their own caps, the 年税額 never falls when 給与収入 rises: every step the law takes as income
rises (非課税 limits, 定額減税 up to 1,805万, 調整控除 up to 2,500万, 基礎控除 taper, 配偶者控除
tiers, 寡婦・ひとり親・勤労学生 limits) raises the tax, and in a 定額減税 year the 市/県 split
keeps each side growing (the ratio moves by less than one yen per 1,000円 of 課税標準).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kikan.juminzei.calc import DependantInput, MunicipalityProfile, SpouseInput, TaxCase, assess
from kikan.juminzei.rules import load_rules

money = st.integers(min_value=0, max_value=30_000_000)
dependant = st.builds(
    DependantInput,
    age=st.integers(0, 100),
    total_income=st.integers(0, 2_000_000),
    cohabiting_parent=st.booleans(),
    disability=st.sampled_from(["none", "general", "special", "cohabiting_special"]),
    abroad=st.booleans(),
)
spouse = st.none() | st.builds(
    SpouseInput, age=st.integers(18, 100), total_income=st.integers(0, 2_000_000)
)
profiles = st.builds(
    MunicipalityProfile,
    designated_city=st.booleans(),
    kyuchi=st.sampled_from([1, 2, 3]),
    extra_kintowari_city=st.integers(0, 1_000),
    extra_rate_pref=st.sampled_from([Decimal(0), Decimal("0.025"), Decimal("0.5")]),
)
years = st.sampled_from([2024, 2025, 2026])


@st.composite
def cases(draw: st.DrawFn) -> TaxCase:
    single_parent = draw(st.booleans())
    return TaxCase(
        salary_revenue=draw(money),
        pension_revenue=draw(st.integers(0, 5_000_000)),
        business_income=draw(st.integers(0, 5_000_000)),
        dividend_income=draw(st.integers(0, 1_000_000)),
        onetime_income=draw(st.integers(0, 2_000_000)),
        age=draw(st.integers(15, 100)),
        social_insurance=draw(st.integers(0, 2_000_000)),
        medical_deduction=draw(st.integers(0, 2_000_000)),
        spouse=draw(spouse),
        dependants=draw(st.lists(dependant, max_size=4)),
        disability=draw(st.sampled_from(["none", "general", "special"])),
        single_parent=single_parent,
        sex="female" if single_parent else None,
        working_student=draw(st.booleans()),
        housing_loan_credit=draw(st.integers(0, 300_000)),
        income_tax_taxable_income=draw(st.integers(0, 20_000_000)),
        furusato_donation=draw(st.integers(0, 1_000_000)),
        other_donation=draw(st.integers(0, 100_000)),
    )


@settings(max_examples=300, deadline=None)
@given(case=cases(), year=years, profile=profiles)
def test_tax_is_never_negative_and_adds_up(
    case: TaxCase, year: int, profile: MunicipalityProfile
) -> None:
    a = assess(case, load_rules(year), profile)
    figures = (
        a.shotokuwari_city,
        a.shotokuwari_pref,
        a.kintowari_city,
        a.kintowari_pref,
        a.forest_tax,
        a.teigaku_city,
        a.teigaku_pref,
        a.taxable_income,
    )
    assert min(figures) >= 0
    assert a.shotokuwari_city % 100 == 0
    assert a.shotokuwari_pref % 100 == 0
    assert a.taxable_income % 1_000 == 0
    assert a.annual_tax == a.city_total + a.pref_total + a.forest_tax
    assert a.city_total == a.shotokuwari_city + a.kintowari_city
    if a.exempt_kintowari:
        assert a.annual_tax == 0
    assert all(s.amount >= 0 for s in a.steps)


@settings(max_examples=300, deadline=None)
@given(case=cases(), year=years, profile=profiles, low=money, step=st.integers(1, 2_000_000))
def test_monotone_in_salary(
    case: TaxCase, year: int, profile: MunicipalityProfile, low: int, step: int
) -> None:
    rules = load_rules(year)
    family = case.model_copy(
        update={"furusato_donation": 0, "other_donation": 0, "housing_loan_credit": 0}
    )
    before = assess(family.model_copy(update={"salary_revenue": low}), rules, profile)
    after = assess(family.model_copy(update={"salary_revenue": low + step}), rules, profile)
    assert after.annual_tax >= before.annual_tax
    assert after.gross_income >= before.gross_income
