"""The pure 個人住民税 calculation: a `TaxCase` and a year's `RuleYear` in, an `Assessment` out.

Why pure: the same figures must come out of the CLI, the API, a batch and a golden test, and a
clerk must be able to explain each of them; so there is no database and no I/O here, money is
whole yen in `int` with `Decimal` for rates (never float), and every intermediate figure is
kept as a `Step` for the notice. Nothing here branches on a year: whatever changes between
年度 lives in the rule file (`rules.py`).

Order (地方税法 and its 附則, see docs/juminzei-calc.md): 所得 → 総所得金額等 → 所得控除 →
課税標準 (1,000円未満切捨て) → 算出所得割 市/県 → 調整控除 → 配当控除 → 住宅借入金等特別税額
控除 → 寄附金税額控除 (基本分・特例分) → 定額減税 → 所得割 100円未満切捨て → 均等割・森林環境税 →
非課税判定.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kikan.errors import InvalidError
from kikan.juminzei.rules import CityPref, LinearBand, PremiumBand, RuleYear, Split, Tier

MAX_YEN = 10_000_000_000  # 100億円: far above any individual's annual figure
MAX_PEOPLE = 20

Money = Annotated[int, Field(ge=0, le=MAX_YEN, strict=True)]
Age = Annotated[int, Field(ge=0, le=130, strict=True)]
Flag = Annotated[bool, Field(strict=True)]
#: a 超過課税 rate in percent (0.025 = 0.025 %): a JSON number or a decimal string, bounded both
#: ways in the published schema (ADR 0010: no unbounded input)
ExtraRate = Annotated[
    Decimal,
    Field(ge=0, le=5, max_digits=7, decimal_places=4),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 5},
                {"type": "string", "maxLength": 8, "pattern": r"^\d(\.\d{1,4})?$"},
            ]
        },
        mode="validation",
    ),
]
DisabilityLevel = Literal["none", "general", "special", "cohabiting_special"]


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _trunc(value: int, unit: int) -> int:
    return value // unit * unit


# --------------------------------------------------------------------------- input


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Person(_Input):
    """A person given by `age` (at 12月31日 of the income year) or by `birth_date`.

    The age at 12月31日 is income year − birth year, plus one for a 1月1日 birthday: under 年齢
    計算ニ関スル法律 a year of age is completed at the end of the day before the birthday, so
    someone born on 1月1日 is already a year older on 12月31日 (国税庁: 令和5年分の70歳以上 =
    昭和29年1月1日以前生まれ). The income year comes from the validation context
    (`parse_case(data, fiscal_year)`), so a birth date needs the 年度."""

    birth_date: date | None = Field(None, title="生年月日")

    @model_validator(mode="before")
    @classmethod
    def _age_from_birth_date(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or data.get("birth_date") in (None, ""):
            return data
        try:
            born = date.fromisoformat(str(data["birth_date"]))
        except ValueError:
            raise PydanticCustomError("birth_date", "生年月日") from None
        income_year = (info.context or {}).get("income_year")
        if income_year is None:
            raise PydanticCustomError("needs_year", "年度")
        age = income_year - born.year + (1 if (born.month, born.day) == (1, 1) else 0)
        if age < 0:
            raise PydanticCustomError("birth_date", "生年月日")
        if data.get("age") is not None and data["age"] != age:
            raise PydanticCustomError("age_mismatch", "年齢")
        return {**data, "age": age, "birth_date": born}


class LifeInsurancePremiums(_Input):
    """支払保険料 (年額) per 区分; 新 = 平成24年1月以後の契約, 旧 = それ以前."""

    general_new: Money = Field(0, title="一般生命保険料（新）")
    general_old: Money = Field(0, title="一般生命保険料（旧）")
    care_medical: Money = Field(0, title="介護医療保険料")
    pension_new: Money = Field(0, title="個人年金保険料（新）")
    pension_old: Money = Field(0, title="個人年金保険料（旧）")


class EarthquakePremiums(_Input):
    earthquake: Money = Field(0, title="地震保険料")
    old_long_term: Money = Field(0, title="旧長期損害保険料")


class SpouseInput(_Person):
    age: Age = Field(title="配偶者の年齢")
    total_income: Money = Field(0, title="配偶者の合計所得金額")
    disability: DisabilityLevel = Field("none", title="配偶者の障害")
    abroad: Flag = Field(False, title="配偶者の国外居住")


class DependantInput(_Person):
    age: Age = Field(title="扶養親族の年齢")
    total_income: Money = Field(0, title="扶養親族の合計所得金額")
    cohabiting_parent: Flag = Field(False, title="同居老親等")
    disability: DisabilityLevel = Field("none", title="扶養親族の障害")
    abroad: Flag = Field(False, title="扶養親族の国外居住")


class TaxCase(_Person):
    """One taxpayer's previous-year figures (the JSON input; docs/juminzei-calc.md).

    Ages are at 12月31日 of the income year, given directly or as `birth_date` (see `_Person`).
    Other 所得 are amounts after expenses and cannot
    be negative (損益通算・繰越控除・分離課税 are outside this engine). Life and earthquake
    insurance come either as premiums (the engine applies the 住民税 tables) or as the
    deduction amount (checked against its cap), never both."""

    salary_revenue: Money = Field(0, title="給与収入")
    pension_revenue: Money = Field(0, title="公的年金等収入")
    business_income: Money = Field(0, title="事業所得")
    real_estate_income: Money = Field(0, title="不動産所得")
    dividend_income: Money = Field(0, title="配当所得")
    misc_income: Money = Field(0, title="雑所得（公的年金等以外）")
    onetime_income: Money = Field(0, title="一時所得（特別控除前）")
    age: Age = Field(title="本人の年齢")

    social_insurance: Money = Field(0, title="社会保険料")
    small_business_mutual_aid: Money = Field(0, title="小規模企業共済等掛金")
    life_insurance: LifeInsurancePremiums | None = Field(None, title="生命保険料")
    life_insurance_deduction: Money | None = Field(None, title="生命保険料控除額")
    earthquake_insurance: EarthquakePremiums | None = Field(None, title="地震保険料")
    earthquake_insurance_deduction: Money | None = Field(None, title="地震保険料控除額")
    medical_deduction: Money = Field(0, title="医療費控除額")
    casualty_loss_deduction: Money = Field(0, title="雑損控除額")

    spouse: SpouseInput | None = Field(None, title="配偶者")
    dependants: list[DependantInput] = Field(
        default_factory=list, max_length=MAX_PEOPLE, title="扶養親族"
    )

    disability: DisabilityLevel = Field("none", title="本人の障害")
    widow: Flag = Field(False, title="寡婦")
    single_parent: Flag = Field(False, title="ひとり親")
    sex: Literal["female", "male"] | None = Field(None, title="性別")
    working_student: Flag = Field(False, title="勤労学生")
    public_assistance: Flag = Field(False, title="生活扶助")

    housing_loan_credit: Money = Field(0, title="住宅借入金等特別税額控除（所得税控除残額）")
    housing_loan_kind: Literal["standard", "specified"] = Field("standard", title="住宅ローン区分")
    income_tax_taxable_income: Money | None = Field(
        None, title="所得税の課税総所得金額等"
    )  # the 住宅ローン limit is a share of the 所得税 figure, not of the 住民税 課税標準
    furusato_donation: Money = Field(0, title="ふるさと納税額")
    other_donation: Money = Field(0, title="条例指定寄附金")


class MunicipalityProfile(_Input):
    """The taxing city: 指定都市, 級地 and its 超過課税 (rates in percent: 0.025 = 0.025 %)."""

    designated_city: Flag = Field(False, title="指定都市")
    kyuchi: Literal[1, 2, 3] = Field(1, title="級地")
    extra_rate_city: ExtraRate = Field(Decimal(0), title="市民税 超過課税率（%）")
    extra_rate_pref: ExtraRate = Field(Decimal(0), title="県民税 超過課税率（%）")
    extra_kintowari_city: Annotated[int, Field(ge=0, le=10_000, strict=True)] = Field(
        0, title="市民税 均等割 超過課税額"
    )
    extra_kintowari_pref: Annotated[int, Field(ge=0, le=10_000, strict=True)] = Field(
        0, title="県民税 均等割 超過課税額"
    )


_PYDANTIC_MESSAGES = {
    "greater_than_equal": "0以上の値を入力してください",
    "less_than_equal": "上限を超えています",
    "int_type": "整数で入力してください",
    "int_parsing": "整数で入力してください",
    "int_from_float": "整数で入力してください",
    "bool_type": "true か false で入力してください",
    "missing": "入力してください",
    "extra_forbidden": "この項目はありません",
    "literal_error": "選択肢にない値です",
    "too_long": "件数が多すぎます",
    "model_type": "項目の組で入力してください",
    "list_type": "一覧で入力してください",
    "decimal_parsing": "数値で入力してください",
    "decimal_type": "数値で入力してください",
    "date_from_datetime_parsing": "日付は YYYY-MM-DD で入力してください",
    "birth_date": "生年月日は YYYY-MM-DD の過去の日付で入力してください",
    "needs_year": "生年月日から年齢を出すには年度が必要です",
    "age_mismatch": "年齢が生年月日（12月31日現在）と合いません",
}


_PERSON_ERRORS = frozenset({"birth_date", "needs_year", "age_mismatch"})


def _title_of(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The Japanese title of the field at `loc` (falls back to the key)."""
    current: Any = model
    title = ".".join(str(part) for part in loc)
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if info is None:
            return str(part)
        title = info.title or str(part)
        annotation = info.annotation
        current = None
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", ())
            for item in (candidate, *inner):
                if isinstance(item, type) and issubclass(item, BaseModel):
                    current = item
    return title


def _japanese(model: type[BaseModel], error: ValidationError) -> InvalidError:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    item = _title_of(model, loc)
    if first["type"] in _PERSON_ERRORS:  # raised for the whole person: name the person's item
        item = f"{item}の{first['msg']}" if loc else first["msg"]
    text = _PYDANTIC_MESSAGES.get(first["type"], "値が正しくありません")
    return InvalidError("juminzei.invalid_case", f"{item}: {text}", item)


def parse_case(data: Any, fiscal_year: int | None = None) -> TaxCase:
    """A `TaxCase` from JSON-shaped data; a bad field → InvalidError naming it in Japanese.

    `fiscal_year` (the 年度 as a Western year) is needed only when people are given by birth date:
    their age is taken at 12月31日 of the income year, the year before the 年度."""
    context = {"income_year": fiscal_year - 1} if fiscal_year is not None else {}
    try:
        return TaxCase.model_validate(data, context=context)
    except ValidationError as exc:
        raise _japanese(TaxCase, exc) from None


def parse_municipality(data: Any) -> MunicipalityProfile:
    """A `MunicipalityProfile` from JSON-shaped data (Japanese InvalidError on a bad field)."""
    try:
        return MunicipalityProfile.model_validate(data)
    except ValidationError as exc:
        raise _japanese(MunicipalityProfile, exc) from None


# --------------------------------------------------------------------------- output


@dataclass(frozen=True)
class Step:
    """One figure of the calculation, in order, for the notice and for staff explaining it."""

    key: str
    label: str
    amount: int
    city: int | None = None
    pref: int | None = None


@dataclass(frozen=True)
class Assessment:
    fiscal_year: int
    total_income: int
    gross_income: int
    income_deductions: int
    taxable_income: int
    shotokuwari_city: int
    shotokuwari_pref: int
    teigaku_city: int
    teigaku_pref: int
    kintowari_city: int
    kintowari_pref: int
    forest_tax: int
    exempt_kintowari: bool
    exempt_shotokuwari: bool
    city_total: int
    pref_total: int
    annual_tax: int
    steps: tuple[Step, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """Stable keys; the CLI prints exactly this."""
        return {
            "fiscal_year": self.fiscal_year,
            "total_income": self.total_income,
            "gross_income": self.gross_income,
            "income_deductions": self.income_deductions,
            "taxable_income": self.taxable_income,
            "shotokuwari_city": self.shotokuwari_city,
            "shotokuwari_pref": self.shotokuwari_pref,
            "teigaku_city": self.teigaku_city,
            "teigaku_pref": self.teigaku_pref,
            "kintowari_city": self.kintowari_city,
            "kintowari_pref": self.kintowari_pref,
            "forest_tax": self.forest_tax,
            "exempt_kintowari": self.exempt_kintowari,
            "exempt_shotokuwari": self.exempt_shotokuwari,
            "city_total": self.city_total,
            "pref_total": self.pref_total,
            "annual_tax": self.annual_tax,
            "steps": [
                {"key": s.key, "label": s.label, "amount": s.amount, "city": s.city, "pref": s.pref}
                for s in self.steps
            ],
        }

    def step(self, key: str) -> Step:
        """The step with `key` (KeyError if the calculation did not produce it)."""
        for s in self.steps:
            if s.key == key:
                return s
        raise KeyError(key)


# --------------------------------------------------------------------------- income


def _linear(value: int, bands: tuple[LinearBand, ...]) -> Decimal:
    for band in bands:
        if band.upper is None or value <= band.upper:
            return value * band.rate + band.add
    raise ValueError("rule file: the last salary band must have no upper limit")


def salary_income(revenue: int, rules: RuleYear) -> int:
    """給与所得 (所得税法28条・別表第五): fixed rows, the 4,000円 rounding, the minimum.

    The 給与所得 is truncated to the yen (収入 × 90 % − 110万 style), so the deduction is
    taken exactly and the difference floored."""
    s = rules.salary
    if revenue < s.zero_below:
        return 0
    for row in s.fixed_rows:
        if row.lower <= revenue < row.upper:
            return row.income
    base = revenue
    if s.round_from <= revenue < s.round_below:
        base = _trunc(revenue, s.round_unit)
    deduction = max(Decimal(s.minimum), _linear(base, s.bands))
    return max(0, _floor(base - deduction))


def pension_income(revenue: int, age: int, other_income: int, rules: RuleYear) -> int:
    """公的年金等に係る雑所得 by age (at 12月31日) and the other 合計所得."""
    p = rules.pension
    bands = p.senior if age >= p.senior_age else p.under_senior
    reduce = max((st.reduce for st in p.other_income_steps if other_income > st.over), default=0)
    for band in bands:
        if band.below is None or revenue < band.below:
            income = _floor(revenue * band.rate) - band.sub + reduce
            return max(0, min(revenue, income))
    raise ValueError("rule file: the last pension band must have no limit")


def _tier(amount: int, tiers: tuple[Tier, ...]) -> int:
    for t in tiers:
        if t.upto is None or amount <= t.upto:
            return t.amount
    return 0


def _premium(paid: int, table: tuple[PremiumBand, ...]) -> int:
    if paid <= 0:
        return 0
    for band in table:
        if band.upto is None or paid <= band.upto:
            return _floor(paid * band.rate) + band.add
    return 0


def life_insurance_deduction(p: LifeInsurancePremiums, rules: RuleYear) -> int:
    """生命保険料控除 (住民税): per 区分 新/旧 tables, 新旧併用は区分上限, total cap."""
    li = rules.deductions.life_insurance

    def category(new: int, old: int) -> int:
        d_new = _premium(new, li.new_table)
        d_old = _premium(old, li.old_table)
        if new and old:
            return max(d_old, min(d_new + d_old, li.combined_cap))
        return min(d_new + d_old, li.category_cap)

    total = (
        category(p.general_new, p.general_old)
        + category(p.care_medical, 0)
        + category(p.pension_new, p.pension_old)
    )
    return min(total, li.total_cap)


def earthquake_deduction(p: EarthquakePremiums, rules: RuleYear) -> int:
    eq = rules.deductions.earthquake
    quake = min(_floor(p.earthquake * eq.earthquake_rate), eq.earthquake_cap)
    return min(quake + _premium(p.old_long_term, eq.old_long_term_table), eq.total_cap)


def _cap_error(name: str, cap: int) -> InvalidError:
    return InvalidError("juminzei.cap_exceeded", f"{name}が上限（{cap:,}円）を超えています", name)


def validate_case(case: TaxCase, rules: RuleYear) -> None:
    """The rules that need the year's figures or more than one field (Japanese InvalidError)."""
    d = rules.deductions
    if case.life_insurance is not None and case.life_insurance_deduction is not None:
        raise InvalidError(
            "juminzei.invalid_case",
            "生命保険料は支払額か控除額のどちらか一方で入力してください",
            "生命保険料控除額",
        )
    if case.earthquake_insurance is not None and case.earthquake_insurance_deduction is not None:
        raise InvalidError(
            "juminzei.invalid_case",
            "地震保険料は支払額か控除額のどちらか一方で入力してください",
            "地震保険料控除額",
        )
    if (case.life_insurance_deduction or 0) > d.life_insurance.total_cap:
        raise _cap_error("生命保険料控除額", d.life_insurance.total_cap)
    if (case.earthquake_insurance_deduction or 0) > d.earthquake.total_cap:
        raise _cap_error("地震保険料控除額", d.earthquake.total_cap)
    if case.medical_deduction > d.medical_cap:
        raise _cap_error("医療費控除額", d.medical_cap)
    if case.widow and case.single_parent:
        raise InvalidError("juminzei.invalid_case", "寡婦とひとり親は同時に選べません", "寡婦")
    if case.single_parent and case.sex is None:
        raise InvalidError(
            "juminzei.invalid_case", "ひとり親の場合は性別を入力してください", "性別"
        )


# --------------------------------------------------------------------------- assess


class _Steps:
    def __init__(self) -> None:
        self.items: list[Step] = []

    def add(
        self, key: str, label: str, amount: int, city: int | None = None, pref: int | None = None
    ) -> None:
        self.items.append(Step(key, label, amount, city, pref))


def _disability(level: DisabilityLevel, rules: RuleYear) -> tuple[int, int]:
    """(控除額, 人的控除差) of one person's 障害."""
    if level == "none":
        return 0, 0
    amounts = rules.deductions.disability
    diffs = rules.adjustment.disability
    return getattr(amounts, level), getattr(diffs, level)


@dataclass
class _State:
    """The figures one phase hands to the next (mutable while assessing, never returned)."""

    case: TaxCase
    rules: RuleYear
    municipality: MunicipalityProfile
    steps: _Steps
    spouse_in_household: bool = False
    qualified: tuple[DependantInput, ...] = ()
    total_income: int = 0
    gross_income: int = 0
    income_deductions: int = 0
    diff: int = 0
    taxable: int = 0
    exempt_kintowari: bool = False
    exempt_shotokuwari: bool = False
    city: int = 0
    pref: int = 0
    teigaku: tuple[int, int] = (0, 0)

    def pick(self, split: Split) -> CityPref:
        return split.designated if self.municipality.designated_city else split.standard

    def credit(self, key: str, label: str, city: int, pref: int) -> tuple[int, int]:
        """Take a 税額控除 off the running 所得割 (never below zero), record and return it."""
        city, pref = min(self.city, max(0, city)), min(self.pref, max(0, pref))
        self.city -= city
        self.pref -= pref
        self.steps.add(key, label, city + pref, city, pref)
        return city, pref


def _special_disabled(s: _State) -> bool:
    special = ("special", "cohabiting_special")
    spouse = s.case.spouse
    return (
        s.case.disability in special
        or (s.spouse_in_household and spouse is not None and spouse.disability in special)
        or any(dep.disability in special for dep in s.qualified)
    )


def _incomes(s: _State) -> None:
    """各種所得, 所得金額調整控除, 総所得金額等 and 合計所得金額."""
    case, rules, st = s.case, s.rules, s.steps
    salary = salary_income(case.salary_revenue, rules)
    onetime = _floor(
        max(0, case.onetime_income - rules.onetime.special_deduction) * rules.onetime.included_ratio
    )
    others = case.business_income + case.real_estate_income + case.dividend_income
    others += case.misc_income + onetime
    pension = pension_income(case.pension_revenue, case.age, salary + others, rules)
    if case.salary_revenue:
        st.add("salary_income", "給与所得", salary)
    if case.pension_revenue:
        st.add("pension_income", "公的年金等に係る雑所得", pension)
    ia = rules.income_adjustment
    childcare = both = 0
    if case.salary_revenue > ia.childcare_salary_floor and (
        _special_disabled(s) or any(dep.age < ia.childcare_max_age for dep in s.qualified)
    ):
        capped = min(case.salary_revenue, ia.childcare_salary_cap)
        childcare = _ceil((capped - ia.childcare_salary_floor) * ia.childcare_rate)
    if salary > 0 and pension > 0:
        cap = ia.pension_salary_each
        both = max(0, min(salary, cap) + min(pension, cap) - cap)
    adjustment = min(salary, childcare + both)
    if adjustment:
        st.add("income_adjustment", "所得金額調整控除", adjustment)
        salary -= adjustment
        st.add("salary_income_adjusted", "給与所得（所得金額調整控除後）", salary)
    for key, label, amount in (
        ("business_income", "事業所得", case.business_income),
        ("real_estate_income", "不動産所得", case.real_estate_income),
        ("dividend_income", "配当所得", case.dividend_income),
        ("misc_income", "雑所得（その他）", case.misc_income),
        ("onetime_income", "一時所得（総所得算入額）", onetime),
    ):
        if amount:
            st.add(key, label, amount)
    s.total_income = s.gross_income = salary + pension + others
    st.add("total_income", "総所得金額等", s.total_income)
    st.add("gross_income", "合計所得金額", s.gross_income)


def _insurance(s: _State) -> list[tuple[str, str, int]]:
    case = s.case
    life = case.life_insurance_deduction or 0
    if case.life_insurance is not None:
        life = life_insurance_deduction(case.life_insurance, s.rules)
    quake = case.earthquake_insurance_deduction or 0
    if case.earthquake_insurance is not None:
        quake = earthquake_deduction(case.earthquake_insurance, s.rules)
    return [
        ("casualty_loss", "雑損控除", case.casualty_loss_deduction),
        ("medical", "医療費控除", case.medical_deduction),
        ("social_insurance", "社会保険料控除", case.social_insurance),
        ("small_business", "小規模企業共済等掛金控除", case.small_business_mutual_aid),
        ("life_insurance", "生命保険料控除", life),
        ("earthquake", "地震保険料控除", quake),
    ]


def _personal(s: _State) -> list[tuple[str, str, int]]:
    """障害者・寡婦・ひとり親・勤労学生 with their 人的控除差."""
    case, d, adj = s.case, s.rules.deductions, s.rules.adjustment
    # 同居特別障害者 is a relative living with the taxpayer: for the taxpayer it is 特別障害者
    own: DisabilityLevel = "special" if case.disability == "cohabiting_special" else case.disability
    people: list[DisabilityLevel] = [own]
    if s.spouse_in_household and case.spouse is not None:
        people.append(case.spouse.disability)
    people += [dep.disability for dep in s.qualified]
    disability = 0
    for level in people:
        amount, person_diff = _disability(level, s.rules)
        disability += amount
        s.diff += person_diff
    p = d.personal
    widow = case.widow and s.gross_income <= p.widow_income_limit
    single_parent = case.single_parent and s.gross_income <= p.single_parent_income_limit
    student = case.working_student and s.gross_income <= p.working_student_income_limit
    if widow:
        s.diff += adj.widow
    if single_parent:
        s.diff += adj.single_parent_mother if case.sex == "female" else adj.single_parent_father
    if student:
        s.diff += adj.working_student
    return [
        ("disability", "障害者控除", disability),
        ("widow", "寡婦控除", p.widow if widow else 0),
        ("single_parent", "ひとり親控除", p.single_parent if single_parent else 0),
        ("working_student", "勤労学生控除", p.working_student if student else 0),
    ]


def _spouse(s: _State) -> list[tuple[str, str, int]]:
    """配偶者控除 / 配偶者特別控除 by the taxpayer's 合計所得 tier."""
    sp = s.rules.deductions.spouse
    deduction = special = 0
    spouse = s.case.spouse
    index = next((i for i, t in enumerate(sp.tiers) if s.gross_income <= t.self_upto), None)
    if spouse is not None and index is not None:
        tier = sp.tiers[index]
        income = spouse.total_income
        if income <= sp.income_limit:
            elderly = spouse.age >= sp.elderly_age
            deduction = tier.elderly if elderly else tier.general
            s.diff += tier.diff_elderly if elderly else tier.diff_general
        elif income <= sp.special_upper:
            row = next(r for r in sp.special if income <= r.spouse_upto)
            special = row.amounts[index]
            rows = sp.special_diff
            s.diff += next((r.diffs[index] for r in rows if income < r.spouse_below), 0)
    return [("spouse", "配偶者控除", deduction), ("spouse_special", "配偶者特別控除", special)]


def _dependants(s: _State) -> list[tuple[str, str, int]]:
    """扶養控除 (16歳以上) and, where the year has it, 特定親族特別控除."""
    deps, adj = s.rules.deductions.dependants, s.rules.adjustment
    total = 0
    for dep in s.qualified:
        if dep.age < deps.min_age:
            continue
        if deps.specified_from <= dep.age <= deps.specified_to:
            total += deps.specified
            s.diff += adj.dependant_specified
        elif dep.age >= deps.elderly_age and dep.cohabiting_parent:
            total += deps.cohabiting_parent
            s.diff += adj.dependant_cohabiting_parent
        elif dep.age >= deps.elderly_age:
            total += deps.elderly
            s.diff += adj.dependant_elderly
        else:
            total += deps.general
            s.diff += adj.dependant_general
    result = [("dependants", "扶養控除", total)]
    sr = s.rules.deductions.specific_relative
    if sr is not None:
        relative = 0
        for dep in s.case.dependants:
            if sr.age_from <= dep.age <= sr.age_to and dep.total_income > deps.income_limit:
                amount = _tier(dep.total_income, sr.rows)
                relative += amount
                s.diff += sr.diff if amount else 0
        result.append(("specific_relative", "特定親族特別控除", relative))
    return result


def _deductions(s: _State) -> None:
    """所得控除 (each by name), their total, the 人的控除差 and the 課税標準."""
    items = _insurance(s) + _personal(s) + _spouse(s) + _dependants(s)
    items.append(("basic", "基礎控除", _tier(s.gross_income, s.rules.deductions.basic)))
    s.diff += s.rules.adjustment.basic
    for key, label, amount in items:
        if amount:
            s.steps.add(f"deduction.{key}", label, amount)
    s.income_deductions = sum(amount for _key, _label, amount in items)
    s.steps.add("income_deductions", "所得控除合計", s.income_deductions)
    unit = s.rules.rounding.taxable_unit
    s.taxable = _trunc(max(0, s.total_income - s.income_deductions), unit)
    s.steps.add("taxable_income", "課税標準（課税総所得金額等）", s.taxable)


def _exemption(s: _State) -> None:
    """非課税判定 (均等割: 合計所得金額, 所得割: 総所得金額等), before any tax is computed."""
    case, ex = s.case, s.rules.exemption
    n_people = 1 + (1 if s.spouse_in_household else 0) + len(s.qualified)
    with_dependants = n_people > 1
    special_status = (
        case.disability != "none" or case.age < ex.minor_age or case.widow or case.single_parent
    )
    special = case.public_assistance or (
        special_status and s.gross_income <= ex.special_income_limit
    )
    k = ex.kintowari[str(s.municipality.kyuchi)]
    kinto_limit = k.per_person * n_people + k.base + (k.dependants_add if with_dependants else 0)
    t = ex.shotokuwari
    shotoku_limit = t.per_person * n_people + t.base + (t.dependants_add if with_dependants else 0)
    s.exempt_kintowari = special or s.gross_income <= kinto_limit
    s.exempt_shotokuwari = s.exempt_kintowari or s.total_income <= shotoku_limit
    s.steps.add("exempt_kintowari_limit", "均等割の非課税限度額（合計所得金額）", kinto_limit)
    s.steps.add("exempt_shotokuwari_limit", "所得割の非課税限度額（総所得金額等）", shotoku_limit)


def _computed(s: _State) -> None:
    """算出所得割 (標準税率 + 超過課税) and 調整控除."""
    m, adj = s.municipality, s.rules.adjustment
    rates = s.pick(s.rules.rates)
    hundred = Decimal(100)
    if not s.exempt_shotokuwari:
        s.city = _floor(s.taxable * (rates.city + m.extra_rate_city / hundred))
        s.pref = _floor(s.taxable * (rates.pref + m.extra_rate_pref / hundred))
    s.steps.add("computed_shotokuwari", "算出所得割額", s.city + s.pref, s.city, s.pref)
    s.steps.add("personal_deduction_diff", "人的控除差の合計", s.diff)
    city = pref = 0
    if s.city + s.pref and s.gross_income <= adj.income_cap:
        if s.taxable <= adj.threshold:
            base = min(s.diff, s.taxable)
        else:
            base = max(s.diff - (s.taxable - adj.threshold), adj.minimum_base)
        adj_rates = s.pick(adj.rates)
        city, pref = _floor(base * adj_rates.city), _floor(base * adj_rates.pref)
    s.credit("adjustment_credit", "調整控除", city, pref)
    s.steps.add("shotokuwari_after_adjustment", "調整控除後所得割額", s.city + s.pref,
                s.city, s.pref)  # fmt: skip


def _dividend_and_loan(s: _State) -> None:
    """配当控除 and 住宅借入金等特別税額控除."""
    case = s.case
    city = pref = 0
    if case.dividend_income:
        dv = s.rules.dividend
        high = min(case.dividend_income, max(0, s.taxable - dv.threshold))
        low = case.dividend_income - high
        low_r, high_r = s.pick(dv.low), s.pick(dv.high)
        city = _floor(low * low_r.city + high * high_r.city)
        pref = _floor(low * low_r.pref + high * high_r.pref)
    s.credit("dividend_credit", "配当控除", city, pref)
    city = pref = 0
    if case.housing_loan_credit:
        kind = s.rules.housing_loan.kinds[case.housing_loan_kind]
        if case.income_tax_taxable_income is not None:
            base = case.income_tax_taxable_income
            label = "住宅ローン控除限度額の基礎（所得税の課税総所得金額等）"
        else:  # not given (給与支払報告書): 課税標準 − 人的控除差, as the 寄附金 特例分 does
            base = max(0, s.taxable - s.diff)
            label = "住宅ローン控除限度額の基礎（推計: 課税標準 − 人的控除差）"
        s.steps.add("housing_loan_limit_base", label, base)
        credit = min(case.housing_loan_credit, _floor(base * kind.rate), kind.cap)
        city = _ceil(credit * s.pick(s.rules.housing_loan.city_share).city)
        pref = credit - city
    s.credit("housing_loan_credit", "住宅借入金等特別税額控除", city, pref)


def special_rate(s: _State) -> Decimal:
    """ふるさと納税 特例控除割合 = 90 % − 所得税率 × 1.021 (所得税率 by 課税標準 − 人的控除差)."""
    dn = s.rules.donation
    base = s.taxable - s.diff
    if base < 0:
        income_tax_rate = dn.below_zero_rate
    else:
        income_tax_rate = next(b.rate for b in dn.brackets if b.upto is None or base <= b.upto)
    return dn.special_base_rate - income_tax_rate * dn.reconstruction_factor


def _donation(s: _State) -> None:
    """寄附金税額控除: 基本分 on all 寄附金 (≤ 30 % of 総所得金額等), 特例分 on ふるさと納税."""
    case, dn = s.case, s.rules.donation
    after_adjustment = (s.city, s.pref)
    donations = case.furusato_donation + case.other_donation
    base = max(0, min(donations, _floor(s.total_income * dn.income_cap_rate)) - dn.floor)
    basic = s.pick(dn.basic_rates)
    s.credit("donation_basic", "寄附金税額控除（基本分）",
             _ceil(base * basic.city), _ceil(base * basic.pref))  # fmt: skip
    city = pref = 0
    if case.furusato_donation > dn.floor:
        special = (case.furusato_donation - dn.floor) * special_rate(s)
        share = s.pick(dn.special_city_share)
        city = min(_ceil(special * share.city), _floor(after_adjustment[0] * dn.special_cap_rate))
        pref = min(_ceil(special * share.pref), _floor(after_adjustment[1] * dn.special_cap_rate))
    s.credit("donation_special", "寄附金税額控除（特例分）", city, pref)


def _flat_reduction(s: _State) -> None:
    """定額減税: per head, capped at 所得割; 県 share rounded up, 市 the rest."""
    fr = s.rules.flat_reduction
    if fr is None:
        return
    city = pref = 0
    if s.gross_income <= fr.income_limit and s.city + s.pref:
        amount = fr.per_taxpayer
        spouse = s.case.spouse
        if s.spouse_in_household and spouse is not None and not spouse.abroad:
            own = s.gross_income <= fr.qualifying_spouse_self_limit
            amount += fr.per_qualifying_spouse if own else fr.per_other_spouse
        amount += fr.per_dependant * sum(1 for dep in s.qualified if not dep.abroad)
        amount = min(amount, s.city + s.pref)
        pref = _ceil(Decimal(amount) * s.pref / (s.city + s.pref))
        city = amount - pref
    s.teigaku = s.credit("teigaku", "定額減税（特別税額控除）", city, pref)


def assess(case: TaxCase, rules: RuleYear, municipality: MunicipalityProfile) -> Assessment:
    """The 年税額 of one taxpayer for the 年度 of `rules`, with every step (see the module)."""
    validate_case(case, rules)
    d = rules.deductions
    s = _State(case, rules, municipality, _Steps())
    s.spouse_in_household = (
        case.spouse is not None and case.spouse.total_income <= d.spouse.income_limit
    )
    s.qualified = tuple(
        dep for dep in case.dependants if dep.total_income <= d.dependants.income_limit
    )
    _incomes(s)
    _deductions(s)
    _exemption(s)
    _computed(s)
    _dividend_and_loan(s)
    _donation(s)
    _flat_reduction(s)
    unit = rules.rounding.tax_unit
    city, pref = _trunc(s.city, unit), _trunc(s.pref, unit)
    st = s.steps
    st.add("shotokuwari", "所得割額", city + pref, city, pref)
    pc = rules.per_capita
    kinto_city = 0 if s.exempt_kintowari else pc.city + municipality.extra_kintowari_city
    kinto_pref = 0 if s.exempt_kintowari else pc.pref + municipality.extra_kintowari_pref
    forest = 0 if s.exempt_kintowari else pc.forest
    st.add("kintowari", "均等割額", kinto_city + kinto_pref, kinto_city, kinto_pref)
    st.add("forest_tax", "森林環境税", forest)
    city_total, pref_total = city + kinto_city, pref + kinto_pref
    st.add("city_total", "市町村民税", city_total)
    st.add("pref_total", "道府県民税", pref_total)
    st.add("annual_tax", "年税額", city_total + pref_total + forest)
    return Assessment(
        fiscal_year=rules.fiscal_year,
        total_income=s.total_income,
        gross_income=s.gross_income,
        income_deductions=s.income_deductions,
        taxable_income=s.taxable,
        shotokuwari_city=city,
        shotokuwari_pref=pref,
        teigaku_city=s.teigaku[0],
        teigaku_pref=s.teigaku[1],
        kintowari_city=kinto_city,
        kintowari_pref=kinto_pref,
        forest_tax=forest,
        exempt_kintowari=s.exempt_kintowari,
        exempt_shotokuwari=s.exempt_shotokuwari,
        city_total=city_total,
        pref_total=pref_total,
        annual_tax=city_total + pref_total + forest,
        steps=tuple(st.items),
    )
