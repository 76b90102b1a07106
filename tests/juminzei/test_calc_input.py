"""Bad input → `InvalidError` with a Japanese message naming the item (model level)."""

from __future__ import annotations

from typing import Any

import pytest

from kikan.errors import InvalidError
from kikan.juminzei.calc import MunicipalityProfile, assess, parse_case, parse_municipality
from kikan.juminzei.rules import load_rules


def refused(data: dict[str, Any]) -> InvalidError:
    with pytest.raises(InvalidError) as caught:
        assess(parse_case(data), load_rules(2024), MunicipalityProfile())
    return caught.value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"salary_revenue": -1, "age": 30}, "給与収入: 0以上の値を入力してください"),
        ({"salary_revenue": "abc", "age": 30}, "給与収入: 整数で入力してください"),
        ({"salary_revenue": "1000", "age": 30}, "給与収入: 整数で入力してください"),
        ({"salary_revenue": 1.5, "age": 30}, "給与収入: 整数で入力してください"),
        ({"salary_revenue": 10**11, "age": 30}, "給与収入: 上限を超えています"),
        ({"salary_revenue": 1}, "本人の年齢: 入力してください"),
        ({"age": 30, "bonus": 1}, "bonus: この項目はありません"),
        ({"age": 30, "disability": "heavy"}, "本人の障害: 選択肢にない値です"),
        (
            {"age": 30, "spouse": {"age": 40, "total_income": -5}},
            "配偶者の合計所得金額: 0以上の値を入力してください",
        ),
        (
            {"age": 30, "dependants": [{"age": 10}, {"age": "x"}]},
            "扶養親族の年齢: 整数で入力してください",
        ),
        (
            {"age": 30, "life_insurance": {"general_new": -1}},
            "一般生命保険料（新）: 0以上の値を入力してください",
        ),
    ],
)
def test_bad_fields(data: dict[str, Any], message: str) -> None:
    error = refused(data)
    assert error.code == "juminzei.invalid_case"
    assert error.message == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"life_insurance_deduction": 70_001}, "生命保険料控除額が上限（70,000円）を超えています"),
        (
            {"earthquake_insurance_deduction": 25_001},
            "地震保険料控除額が上限（25,000円）を超えています",
        ),
        ({"medical_deduction": 2_000_001}, "医療費控除額が上限（2,000,000円）を超えています"),
    ],
)
def test_caps_from_the_rule_data(data: dict[str, Any], message: str) -> None:
    error = refused({"age": 30, "salary_revenue": 5_000_000, **data})
    assert error.code == "juminzei.cap_exceeded"
    assert error.message == message


def test_amounts_at_the_caps_are_accepted() -> None:
    case = parse_case(
        {
            "age": 30,
            "salary_revenue": 5_000_000,
            "life_insurance_deduction": 70_000,
            "earthquake_insurance_deduction": 25_000,
            "medical_deduction": 2_000_000,
        }
    )
    a = assess(case, load_rules(2024), MunicipalityProfile())
    assert a.step("deduction.life_insurance").amount == 70_000
    assert a.step("deduction.medical").amount == 2_000_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"life_insurance": {"general_new": 1}, "life_insurance_deduction": 1},
            "生命保険料は支払額か控除額のどちらか一方で入力してください",
        ),
        (
            {"widow": True, "single_parent": True, "sex": "female"},
            "寡婦とひとり親は同時に選べません",
        ),
        ({"single_parent": True}, "ひとり親の場合は性別を入力してください"),
    ],
)
def test_inconsistent_fields(data: dict[str, Any], message: str) -> None:
    assert refused({"age": 30, **data}).message == message


def test_bad_municipality() -> None:
    with pytest.raises(InvalidError, match="級地: 選択肢にない値です"):
        parse_municipality({"kyuchi": 4})
    with pytest.raises(InvalidError, match="県民税 超過課税率（%）"):
        parse_municipality({"extra_rate_pref": -0.1})


def test_non_object_case() -> None:
    with pytest.raises(InvalidError):
        parse_case([1, 2])


def test_birth_dates_give_ages_at_31_december() -> None:
    """令和6年度 → 令和5年12月31日. 1月1日生まれ is a year older (年齢計算ニ関スル法律; 国税庁:
    令和5年分の70歳以上 = 昭和29年1月1日以前生まれ)."""
    case = parse_case(
        {
            "birth_date": "1954-01-01",
            "spouse": {"birth_date": "1954-01-02"},
            "dependants": [{"birth_date": "2004-12-31"}, {"birth_date": "2008-01-01"}],
        },
        2024,
    )
    assert case.age == 70
    assert case.spouse is not None
    assert case.spouse.age == 69
    assert [d.age for d in case.dependants] == [19, 16]


@pytest.mark.parametrize(
    ("data", "fiscal_year", "message"),
    [
        ({"birth_date": "1980-05-01"}, None, "年度: 生年月日から年齢を出すには年度が必要です"),
        (
            {"birth_date": "1980-13-01"},
            2024,
            "生年月日: 生年月日は YYYY-MM-DD の過去の日付で入力してください",
        ),
        (
            {"birth_date": "1980-05-01", "age": 40},
            2024,
            "年齢: 年齢が生年月日（12月31日現在）と合いません",
        ),
        (
            {"age": 30, "dependants": [{"birth_date": "2030-01-01"}]},
            2024,
            "扶養親族の生年月日: 生年月日は YYYY-MM-DD の過去の日付で入力してください",
        ),
    ],
)
def test_bad_birth_dates(data: dict[str, Any], fiscal_year: int | None, message: str) -> None:
    with pytest.raises(InvalidError) as caught:
        parse_case(data, fiscal_year)
    assert caught.value.message == message
