"""個人住民税 rule data per 年度: pydantic models of `data/rules/<year>.toml` and their loader.

Why data and not code: the law changes every year (給与所得控除 minimum, 扶養 income limits,
定額減税 …). The engine in `calc.py` never branches on a year literal; a new 年度 is a new TOML
file plus golden tests. Every figure's source is named in the file itself, next to the figure.

Amounts are whole yen (`int`); rates are `Decimal` fractions (0.06 = 6 %) or percentages where
the field name says so, never floats.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kikan.calendar import default_era_table, to_wareki
from kikan.errors import InvalidError

Yen = Annotated[int, Field(ge=0, le=10_000_000_000)]
Rate = Annotated[Decimal, Field(ge=0, le=2)]

_DATA_PACKAGE = "kikan.juminzei"
_DATA_DIR = "data/rules"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CityPref(_Model):
    """A pair of 市町村民税 / 道府県民税 figures."""

    city: Rate
    pref: Rate


class Split(_Model):
    """The same pair for an ordinary city and for a 指定都市."""

    standard: CityPref
    designated: CityPref


class Rounding(_Model):
    taxable_unit: Yen  # 課税標準: below this truncated (地方税法20条の4の2①)
    tax_unit: Yen  # 確定税額: below this truncated (同③)


class LinearBand(_Model):
    """deduction = 収入 × rate + add, for 収入 up to `upper` (inclusive; None = no limit)."""

    upper: Yen | None = None
    rate: Rate
    add: int


class FixedRow(_Model):
    """A row of 所得税法別表第五 that the formula does not reproduce: lower ≤ 収入 < upper."""

    lower: Yen
    upper: Yen
    income: Yen


class Salary(_Model):
    """給与所得控除 and the 別表第五 rounding of 収入 below `round_below`."""

    minimum: Yen
    zero_below: Yen  # 別表第五's first row: 収入 below this → 給与所得 0
    bands: tuple[LinearBand, ...]
    round_unit: Yen
    round_from: Yen
    round_below: Yen
    fixed_rows: tuple[FixedRow, ...] = ()


class IncomeAdjustment(_Model):
    """所得金額調整控除 (租税特別措置法41条の3の11 / 地方税法附則)."""

    childcare_salary_floor: Yen
    childcare_salary_cap: Yen
    childcare_rate: Rate
    childcare_max_age: int  # a dependant under this age (23) qualifies
    pension_salary_each: Yen


class PensionBand(_Model):
    """公的年金等に係る雑所得 = 収入 × rate − sub, for 収入 below `below` (None = no limit)."""

    below: Yen | None = None
    rate: Rate
    sub: Yen


class OtherIncomeStep(_Model):
    """公的年金等控除 reduced by `reduce` when the other 合計所得 exceeds `over`."""

    over: Yen
    reduce: Yen


class Pension(_Model):
    senior_age: int
    under_senior: tuple[PensionBand, ...]
    senior: tuple[PensionBand, ...]
    other_income_steps: tuple[OtherIncomeStep, ...]


class Onetime(_Model):
    special_deduction: Yen
    included_ratio: Rate


class Tier(_Model):
    """A figure that depends on the taxpayer's (or spouse's) 合計所得金額 ≤ `upto`."""

    upto: Yen | None = None
    amount: Yen


class SpouseTier(_Model):
    """配偶者控除 by the taxpayer's 合計所得金額 ≤ `self_upto`, with its 人的控除差."""

    self_upto: Yen
    general: Yen
    elderly: Yen
    diff_general: Yen
    diff_elderly: Yen


class SpouseSpecialRow(_Model):
    """配偶者特別控除 for a spouse's 合計所得 ≤ `spouse_upto`: one amount per SpouseTier."""

    spouse_upto: Yen
    amounts: tuple[Yen, ...]


class SpouseSpecialDiffRow(_Model):
    """人的控除差 of 配偶者特別控除 for a spouse's 合計所得 below `spouse_below`."""

    spouse_below: Yen
    diffs: tuple[Yen, ...]


class Spouse(_Model):
    income_limit: Yen
    elderly_age: int
    tiers: tuple[SpouseTier, ...]
    special_upper: Yen
    special: tuple[SpouseSpecialRow, ...]
    special_diff: tuple[SpouseSpecialDiffRow, ...]


class Dependants(_Model):
    income_limit: Yen
    min_age: int
    specified_from: int
    specified_to: int
    elderly_age: int
    general: Yen
    specified: Yen
    elderly: Yen
    cohabiting_parent: Yen


class SpecificRelative(_Model):
    """特定親族特別控除 (令和8年度〜): ages from..to, 合計所得 above the 扶養 limit."""

    age_from: int
    age_to: int
    rows: tuple[Tier, ...]
    diff: Yen


class Disability(_Model):
    general: Yen
    special: Yen
    cohabiting_special: Yen


class Personal(_Model):
    widow: Yen
    widow_income_limit: Yen
    single_parent: Yen
    single_parent_income_limit: Yen
    working_student: Yen
    working_student_income_limit: Yen


class PremiumBand(_Model):
    """deduction = premium × rate + add for premiums ≤ `upto` (None = above: `add` only)."""

    upto: Yen | None = None
    rate: Rate
    add: Yen


class LifeInsurance(_Model):
    new_table: tuple[PremiumBand, ...]
    old_table: tuple[PremiumBand, ...]
    combined_cap: Yen  # 新旧両方ある区分の上限
    category_cap: Yen  # 旧のみの区分の上限
    total_cap: Yen


class Earthquake(_Model):
    earthquake_rate: Rate
    earthquake_cap: Yen
    old_long_term_table: tuple[PremiumBand, ...]
    total_cap: Yen


class Deductions(_Model):
    basic: tuple[Tier, ...]
    spouse: Spouse
    dependants: Dependants
    specific_relative: SpecificRelative | None = None
    disability: Disability
    personal: Personal
    life_insurance: LifeInsurance
    earthquake: Earthquake
    medical_cap: Yen


class Adjustment(_Model):
    """調整控除 (地方税法37条・314条の6) and the 人的控除差."""

    basic: Yen
    dependant_general: Yen
    dependant_specified: Yen
    dependant_elderly: Yen
    dependant_cohabiting_parent: Yen
    disability: Disability
    widow: Yen
    single_parent_mother: Yen
    single_parent_father: Yen
    working_student: Yen
    threshold: Yen
    minimum_base: Yen
    income_cap: Yen
    rates: Split


class Dividend(_Model):
    threshold: Yen
    low: Split
    high: Split


class HousingLoanKind(_Model):
    rate: Rate
    cap: Yen


class HousingLoan(_Model):
    kinds: dict[str, HousingLoanKind]
    city_share: Split  # only `city` is used: the 市 share; 県 = the rest


class IncomeTaxBracket(_Model):
    """所得税の限界税率 for 課税総所得金額 − 人的控除差調整額 ≤ `upto` (None = above)."""

    upto: Yen | None = None
    rate: Rate


class Donation(_Model):
    floor: Yen
    income_cap_rate: Rate
    basic_rates: Split
    special_base_rate: Rate
    special_cap_rate: Rate
    reconstruction_factor: Rate
    special_city_share: Split
    brackets: tuple[IncomeTaxBracket, ...]
    below_zero_rate: Rate  # 課税総所得 − 人的控除差 < 0: 所得税率 0 → 特例 90 %


class FlatReduction(_Model):
    """定額減税 (特別税額控除): only in the 年度 whose file has it."""

    per_taxpayer: Yen
    per_qualifying_spouse: Yen
    per_dependant: Yen
    per_other_spouse: Yen
    income_limit: Yen
    qualifying_spouse_self_limit: Yen


class PerCapita(_Model):
    city: Yen
    pref: Yen
    forest: Yen


class KyuchiLimit(_Model):
    per_person: Yen
    base: Yen
    dependants_add: Yen


class Exemption(_Model):
    kintowari: dict[str, KyuchiLimit]  # key: 級地 "1" | "2" | "3"
    shotokuwari: KyuchiLimit
    special_income_limit: Yen
    minor_age: int


class RuleYear(_Model):
    """Every figure of one 年度."""

    fiscal_year: int
    income_year: int
    label: str
    rounding: Rounding
    rates: Split  # 所得割 標準税率 as fractions
    salary: Salary
    income_adjustment: IncomeAdjustment
    pension: Pension
    onetime: Onetime
    deductions: Deductions
    adjustment: Adjustment
    dividend: Dividend
    housing_loan: HousingLoan
    donation: Donation
    flat_reduction: FlatReduction | None = None
    per_capita: PerCapita
    exemption: Exemption


def _folder() -> resources.abc.Traversable:
    return resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR)


@cache
def available_years() -> tuple[int, ...]:
    """The 年度 (Western year the 年度 starts) that have a rule file, ascending."""
    years = [
        int(entry.name.removesuffix(".toml"))
        for entry in _folder().iterdir()
        if entry.name.endswith(".toml") and entry.name.removesuffix(".toml").isdigit()
    ]
    return tuple(sorted(years))


def fiscal_year_label(fiscal_year: int) -> str:
    """「令和6年度」 for 2024: the era of the 年度's first day (4月1日)."""
    wareki = to_wareki(date(fiscal_year, 4, 1))
    return f"{wareki.era.name}{wareki.year}年度"


@cache
def load_rules(fiscal_year: int) -> RuleYear:
    """The parsed, validated rules of one 年度; unknown 年度 → InvalidError (Japanese)."""
    years = available_years()
    if fiscal_year not in years:
        span = f"{fiscal_year_label(years[0])}〜{fiscal_year_label(years[-1])}" if years else "なし"
        raise InvalidError(
            "juminzei.unknown_year",
            f"{fiscal_year_label(fiscal_year)}の税制データがありません（対応: {span}）",
            "年度",
        )
    text = _folder().joinpath(f"{fiscal_year}.toml").read_text("utf-8")
    rules = RuleYear.model_validate(tomllib.loads(text))
    if rules.fiscal_year != fiscal_year:
        raise ValueError(f"rule file {fiscal_year}.toml says fiscal_year {rules.fiscal_year}")
    return rules


_YEAR_RE = re.compile(r"^(?P<era>[^\d]+)?(?P<num>\d+|元)(年度?)?$")


def parse_fiscal_year(text: str) -> int:
    """「令和6」「令和6年度」「R6」「2024」 → 2024 (the Western year the 年度 starts).

    The era (name or one-letter abbreviation) comes from kikan.calendar's era table; a bare
    number of four digits is a Western year. Bad text → InvalidError in Japanese."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    match = _YEAR_RE.match(cleaned)
    bad = InvalidError(
        "juminzei.invalid_year",
        f"年度「{text}」を読めません（例: 令和6、R6、2024）",
        "年度",
    )
    if match is None:
        raise bad
    era_text, num_text = match.group("era"), match.group("num")
    number = 1 if num_text == "元" else int(num_text)
    if era_text is None:
        if len(num_text) != 4:
            raise bad
        return number
    for era in default_era_table().eras:
        if era_text in (era.name, era.abbr, era.abbr.lower()):
            return era.gregorian_year(number)
    raise bad
