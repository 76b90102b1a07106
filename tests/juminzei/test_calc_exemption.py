"""非課税判定 at the limits, ±1円 (地方税法295条①, 附則3条の3; figures in the rule files).

均等割: 合計所得 ≤ 35万 × N + 10万 (+ 21万 with dependants) in 1級地; 2級地 31.5万 / 18.9万,
3級地 28万 / 16.8万. 所得割: 総所得金額等 ≤ 35万 × N + 10万 (+ 32万 with dependants).
事業所得 is used so that 合計所得 can be set to the yen.
"""

from __future__ import annotations

from typing import Any

import pytest

from kikan.juminzei.calc import Assessment, MunicipalityProfile, assess, parse_case
from kikan.juminzei.rules import load_rules

FAMILY = {"spouse": {"age": 40}, "dependants": [{"age": 10}]}  # N = 3 (年少 counts)


def run(
    income: int, extra: dict[str, Any] | None = None, kyuchi: int = 1, year: int = 2024
) -> Assessment:
    case = {"business_income": income, "age": 40, **(extra or {})}
    return assess(parse_case(case), load_rules(year), MunicipalityProfile(kyuchi=kyuchi))


@pytest.mark.parametrize(
    ("kyuchi", "limit"),
    [(1, 450_000), (2, 415_000), (3, 380_000)],  # single: 35万/31.5万/28万 + 10万
)
def test_single_limit_by_kyuchi(kyuchi: int, limit: int) -> None:
    at = run(limit, kyuchi=kyuchi)
    assert at.exempt_kintowari
    assert at.exempt_shotokuwari
    assert at.annual_tax == 0
    above = run(limit + 1, kyuchi=kyuchi)
    assert not above.exempt_kintowari
    assert above.kintowari_city + above.kintowari_pref + above.forest_tax == 5_000


@pytest.mark.parametrize(
    ("kyuchi", "limit"),
    # N = 3: 1級地 35万×3 + 10万 + 21万 = 136万; 2級地 31.5万×3 + 10万 + 18.9万 = 123.4万;
    # 3級地 28万×3 + 10万 + 16.8万 = 110.8万
    [(1, 1_360_000), (2, 1_234_000), (3, 1_108_000)],
)
def test_family_kintowari_limit_by_kyuchi(kyuchi: int, limit: int) -> None:
    assert run(limit, FAMILY, kyuchi).exempt_kintowari
    above = run(limit + 1, FAMILY, kyuchi)
    assert not above.exempt_kintowari
    assert above.kintowari_city == 3_000


def test_family_shotokuwari_limit() -> None:
    """N = 3: 35万 × 3 + 10万 + 32万 = 147万. Between 136万 and 147万 only 均等割 is due.
    At 1,470,001 (令和6年度): 控除 配偶者 33万 + 基礎 43万 (子10歳: no 扶養控除); 課税 710,000;
    42,600 / 28,400; 差 5万 + 5万 → 3,000 / 2,000 → 39,600 / 26,400; 定額減税 3万: 県 30,000 ×
    26,400 / 66,000 = 12,000, 市 18,000 → 21,600 / 14,400; total 24,600 + 15,400 + 1,000 = 41,000."""
    at = run(1_470_000, FAMILY)
    assert not at.exempt_kintowari
    assert at.exempt_shotokuwari
    assert (at.shotokuwari_city, at.shotokuwari_pref, at.annual_tax) == (0, 0, 5_000)
    above = run(1_470_001, FAMILY)
    assert not above.exempt_shotokuwari
    assert (above.teigaku_city, above.teigaku_pref) == (18_000, 12_000)
    assert above.annual_tax == 41_000


def test_single_shotokuwari_limit_is_the_same_45man() -> None:
    assert run(450_000).exempt_shotokuwari
    assert not run(450_001).exempt_shotokuwari


@pytest.mark.parametrize(
    "status",
    [
        {"disability": "general"},
        {"widow": True},
        {"single_parent": True, "sex": "female"},
        {"age": 17},
    ],
)
def test_special_status_up_to_135man(status: dict[str, Any]) -> None:
    """障害者・未成年者・寡婦・ひとり親: 合計所得 135万以下 → 均等割・所得割とも非課税."""
    at = run(1_350_000, status)
    assert at.exempt_kintowari
    assert at.annual_tax == 0
    assert not run(1_350_001, status).exempt_kintowari


def test_public_assistance_is_exempt_whatever_the_income() -> None:
    a = run(3_000_000, {"public_assistance": True})
    assert a.exempt_kintowari
    assert a.exempt_shotokuwari
    assert a.annual_tax == 0


def test_dependant_above_the_income_limit_does_not_count() -> None:
    """A child with 合計所得 480,001 (> 48万, 令和6年度) is not a 扶養親族: N = 1, limit 45万."""
    case = {"dependants": [{"age": 10, "total_income": 480_001}]}
    assert not run(450_001, case).exempt_kintowari
    assert run(450_001, {"dependants": [{"age": 10, "total_income": 480_000}]}).exempt_kintowari
