"""`kikan juminzei calc`: JSON in, JSON out, no database; bad input → Japanese on stderr, exit 2."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kikan.juminzei.calc import MunicipalityProfile, assess, parse_case
from kikan.juminzei.cli import juminzei_app
from kikan.juminzei.rules import load_rules

# 川崎市 令和6年度の計算例 (https://www.city.kawasaki.jp/230/page/0000017243.html)
KAWASAKI_CASE: dict[str, Any] = {
    "salary_revenue": 7_633_000,
    "age": 43,
    "social_insurance": 669_500,
    "life_insurance": {"general_new": 100_000, "pension_new": 100_000, "care_medical": 100_000},
    "spouse": {"age": 43},
    "dependants": [{"age": 17}, {"age": 11}],
}
KAWASAKI_PROFILE = {
    "designated_city": True,
    "extra_rate_pref": "0.025",
    "extra_kintowari_pref": 300,
}


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(
        data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8"
    )
    return path


def flat(text: str) -> str:
    """Rich wraps long stderr lines: compare without whitespace."""
    return re.sub(r"\s+", "", text)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(juminzei_app, ["calc", *args])


def expected() -> dict[str, Any]:
    profile = MunicipalityProfile(
        designated_city=True, extra_rate_pref=Decimal("0.025"), extra_kintowari_pref=300
    )
    return assess(parse_case(KAWASAKI_CASE), load_rules(2024), profile).to_json()


@pytest.mark.parametrize("year", ["令和6", "R6", "2024"])
def test_round_trip_with_municipality_file(tmp_path: Path, year: str) -> None:
    case = write(tmp_path, "case.json", KAWASAKI_CASE)
    profile = write(tmp_path, "profile.json", KAWASAKI_PROFILE)
    result = invoke("--year", year, "--input", str(case), "--municipality", str(profile))
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output == expected()
    # the page's figures
    assert output["taxable_income"] == 3_940_000
    assert (output["teigaku_city"], output["teigaku_pref"]) == (31_919, 8_081)
    steps = {s["key"]: s for s in output["steps"]}
    assert (steps["adjustment_credit"]["city"], steps["adjustment_credit"]["pref"]) == (2_000, 500)


def test_embedded_municipality_and_out_file(tmp_path: Path) -> None:
    case = write(tmp_path, "case.json", {**KAWASAKI_CASE, "municipality": KAWASAKI_PROFILE})
    out = tmp_path / "result.json"
    result = invoke("--year", "令和6", "--input", str(case), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8")) == expected()


def test_default_municipality_is_an_ordinary_city(tmp_path: Path) -> None:
    case = write(tmp_path, "case.json", KAWASAKI_CASE)
    output = json.loads(invoke("--year", "2024", "--input", str(case)).stdout)
    steps = {s["key"]: s for s in output["steps"]}
    assert (steps["computed_shotokuwari"]["city"], steps["computed_shotokuwari"]["pref"]) == (
        236_400,  # 3,940,000 × 6 %
        157_600,  # 3,940,000 × 4 %
    )


@pytest.mark.parametrize(
    ("year", "content", "message"),
    [
        ("令和9", KAWASAKI_CASE, "令和9年度の税制データがありません（対応: 令和6年度〜令和8年度）"),
        ("来年", KAWASAKI_CASE, "年度「来年」を読めません"),
        ("令和6", "{not json", "JSON として読めません"),
        ("令和6", [1, 2], "課税資料は JSON のオブジェクトにしてください"),
        ("令和6", {**KAWASAKI_CASE, "salary_revenue": -1}, "給与収入: 0以上の値を入力してください"),
        (
            "令和6",
            {**KAWASAKI_CASE, "salary_revenue": "七百万"},
            "給与収入: 整数で入力してください",
        ),
        (
            "令和6",
            {**KAWASAKI_CASE, "life_insurance": None, "life_insurance_deduction": 80_000},
            "生命保険料控除額が上限（70,000円）を超えています",
        ),
        ("令和6", {**KAWASAKI_CASE, "municipality": {"kyuchi": 5}}, "級地: 選択肢にない値です"),
    ],
)
def test_bad_input_exits_2_in_japanese(
    tmp_path: Path, year: str, content: Any, message: str
) -> None:
    case = write(tmp_path, "case.json", content)
    result = invoke("--year", year, "--input", str(case))
    assert result.exit_code == 2
    assert flat(message) in flat(result.stderr)
    assert result.stdout == ""


def test_missing_input_file(tmp_path: Path) -> None:
    result = invoke("--year", "令和6", "--input", str(tmp_path / "none.json"))
    assert result.exit_code == 2
    assert "課税資料" in result.stderr
    assert "読めません" in flat(result.stderr)


def test_birth_dates_through_the_cli(tmp_path: Path) -> None:
    """The CLI passes the 年度 so birth dates work: 1979-06-01 → 44 at 令和5年12月31日 (same tax
    as age 44)."""
    by_date = {**KAWASAKI_CASE, "birth_date": "1979-06-01"}
    del by_date["age"]
    case = write(tmp_path, "case.json", by_date)
    result = invoke("--year", "R6", "--input", str(case))
    assert result.exit_code == 0, result.output
    by_age = write(tmp_path, "age.json", {**KAWASAKI_CASE, "age": 44})
    assert json.loads(result.stdout) == json.loads(
        invoke("--year", "R6", "--input", str(by_age)).stdout
    )
