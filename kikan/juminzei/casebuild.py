"""One taxpayer's income records → the calculation's `TaxCase` (docs/juminzei.md §課税資料の合算).

Why a rule of its own: a person may have several 給与支払報告書 (two employers), a 公的年金等
支払報告書 and a 申告; the engine takes one case. The rule, stated once here:

- 給与支払報告書: 給与収入, 社会保険料, the premiums of 生命保険料 and the 住宅借入金等
  特別控除 not used against 所得税 are summed over the reports; the
  地震保険料 deduction for 住民税 is half the 所得税 one (premium ≤ 5万:
  所得税 = premium, 住民税 = premium ÷ 2; above: 5万 and 2.5万),
  summed and capped. The family and the person's own status
  come from the main report (the largest 支払金額): the form
  carries counts, not persons, so each counted dependant
  gets the age of its class (特定 20, 老人 72, その他 17, 16歳未満 10)
  and 障害者 are assigned to the dependants in that order, then
  to the spouse.
- 公的年金等支払報告書: 公的年金等収入 and 社会保険料 summed.
- 申告: complete for what it states: each item it gives replaces what the reports said (a
  salaried person declaring their 給与 does not count it twice); items it omits keep the reports'.
- The age (at 12月31日 of the income year) and the sex (for ひとり親's 調整控除) come from the 宛名
  as of the 賦課期日, or from the records' 生年月日 for a 住登外者.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import ConfigDict, create_model

from kikan.errors import InvalidError
from kikan.juminzei import calc, domain

#: the ages the 給与支払報告書's dependant classes stand for (at 12月31日)
CLASS_AGES = {"dep_specific": 20, "dep_elderly": 72, "dep_other": 17, "dep_under16": 10}
ELDERLY_SPOUSE_AGE, SPOUSE_AGE = 72, 40
#: 住民税's 地震保険料控除 cap (地方税法 第314条の2第1項第5号の5)
EARTHQUAKE_CAP = 25_000
#: items a 申告 may not state (they come from 宛名)
NOT_DECLARED = frozenset({"age", "birth_date", "sex"})


class IncomeRecord(Protocol):
    """What the builder reads of an income record (the store's IncomeRow)."""

    id: int
    kind: str
    figures: dict[str, Any]
    person: dict[str, Any]


class Person(Protocol):
    birth_date: str
    sex: str


def check_return(figures: Mapping[str, Any]) -> dict[str, Any]:
    """A 申告's figures: TaxCase items (docs/juminzei-calc.md) other than age and sex, each
    checked as the engine checks it (Japanese InvalidError naming the item)."""
    wrong = sorted(set(figures) & NOT_DECLARED)
    if wrong:
        raise InvalidError(
            "juminzei.return_item",
            f"申告では {'・'.join(wrong)} は入力できません（宛名の生年月日・性別を使います）。",
            wrong[0],
        )
    calc.parse_case({"age": 0, **figures})
    return dict(figures)


def _birth(birth_iso: str) -> str:
    """The 生年月日 the engine ages at 12月31日 (年齢計算ニ関スル法律: a 1月1日 birthday counts a
    year older — the engine's rule, not restated here)."""
    if not birth_iso:
        raise InvalidError(
            "juminzei.birth_date",
            "生年月日が不明なため年齢を判定できません（宛名を確認してください）。",
        )
    return birth_iso


def _sex(code: str) -> str | None:
    return {"1": "male", "2": "female"}.get(code)


def _int(figures: Mapping[str, Any], key: str) -> int:
    return int(figures.get(key) or 0)


def _family(main: Mapping[str, Any]) -> dict[str, Any]:
    dependants: list[dict[str, Any]] = []
    cohabiting = _int(main, "dep_elderly_cohabiting")
    for key, age in CLASS_AGES.items():
        for i in range(_int(main, key)):
            dependants.append(
                {"age": age, "cohabiting_parent": key == "dep_elderly" and i < cohabiting}
            )
    levels = (
        ["cohabiting_special"] * _int(main, "disabled_special_cohabiting")
        + ["special"] * (_int(main, "disabled_special") - _int(main, "disabled_special_cohabiting"))
        + ["general"] * _int(main, "disabled_other")
    )
    spouse: dict[str, Any] | None = None
    if main.get("spouse"):
        spouse = {
            "age": ELDERLY_SPOUSE_AGE if main.get("spouse_elderly") else SPOUSE_AGE,
            "total_income": _int(main, "spouse_income"),
        }
    holders: list[dict[str, Any]] = [*dependants, *([spouse] if spouse else [])]
    if len(levels) > len(holders):
        raise InvalidError(
            "juminzei.disabled_count",
            "障害者の数が控除対象配偶者・扶養親族の数を超えています（給与支払報告書を確認してください）。",
        )
    for holder, level in zip(holders, levels, strict=False):
        holder["disability"] = level
    out: dict[str, Any] = {"dependants": dependants}
    if spouse:
        out["spouse"] = spouse
    self_level = {"1": "general", "2": "special"}.get(str(main.get("self_disabled") or ""))
    if self_level:
        out["disability"] = self_level
    for flag, key in (
        ("self_widow", "widow"),
        ("self_single_parent", "single_parent"),
        ("self_student", "working_student"),
    ):
        if main.get(flag):
            out[key] = True
    return out


def build_case(
    rows: Sequence[IncomeRecord], person: Person | None, fiscal_year: int
) -> calc.TaxCase:
    """The case of one taxpayer from the records in force (see the module docstring)."""
    kyuyo = [r for r in rows if r.kind == domain.KYUYO]
    nenkin = [r for r in rows if r.kind == domain.NENKIN]
    returns = [r for r in rows if r.kind == domain.SHINKOKU]
    birth = (
        person.birth_date
        if person
        else next(
            (str(r.person.get("birth_date") or "") for r in rows if r.person.get("birth_date")), ""
        )
    )
    case: dict[str, Any] = {"birth_date": _birth(birth)}
    sex = _sex(person.sex) if person else None
    if sex:
        case["sex"] = sex
    if kyuyo:
        sums = {
            k: sum(_int(r.figures, k) for r in kyuyo)
            for k in (
                "salary",
                "social_insurance",
                "life_new",
                "life_old",
                "life_care",
                "pension_new",
                "pension_old",
                "earthquake_deduction",
                "housing_loan_possible",
                "housing_loan_used",
            )
        }
        case["salary_revenue"] = sums["salary"]
        case["social_insurance"] = sums["social_insurance"]
        premiums = {
            "general_new": sums["life_new"],
            "general_old": sums["life_old"],
            "care_medical": sums["life_care"],
            "pension_new": sums["pension_new"],
            "pension_old": sums["pension_old"],
        }
        if any(premiums.values()):
            case["life_insurance"] = premiums
        if sums["earthquake_deduction"]:
            case["earthquake_insurance_deduction"] = min(
                sum(_int(r.figures, "earthquake_deduction") // 2 for r in kyuyo), EARTHQUAKE_CAP
            )
        case["housing_loan_credit"] = max(
            sums["housing_loan_possible"] - sums["housing_loan_used"], 0
        )
        main = max(kyuyo, key=lambda r: (_int(r.figures, "salary"), -r.id))
        case.update(_family(main.figures))
    if nenkin:
        case["pension_revenue"] = sum(_int(r.figures, "pension") for r in nenkin)
        case["social_insurance"] = case.get("social_insurance", 0) + sum(
            _int(r.figures, "social_insurance") for r in nenkin
        )
    for declared in returns[-1:]:  # the one in force (a 修正申告 superseded the others)
        figures = check_return(declared.figures)
        for given, replaced in (
            ("life_insurance_deduction", "life_insurance"),
            ("life_insurance", "life_insurance_deduction"),
            ("earthquake_insurance_deduction", "earthquake_insurance"),
            ("earthquake_insurance", "earthquake_insurance_deduction"),
        ):
            if given in figures:  # one form of the deduction: the 申告's
                case.pop(replaced, None)
        case.update(figures)
    return calc.parse_case(case, fiscal_year)


#: the items a 申告 may state (TaxCase without age and sex), for the API's input model: a 申告
#: is read with `model_dump(exclude_unset=True)` so only what was stated replaces the reports
DeclaredFigures = create_model(  # type: ignore[call-overload]
    "DeclaredFigures",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{
        name: (info.annotation, info)
        for name, info in calc.TaxCase.model_fields.items()
        if name not in NOT_DECLARED
    },
)
