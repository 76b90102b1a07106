"""The rule files: every 年度 loads, unknown 年度 is refused in Japanese, years are parsed, the
engine does not branch on a year and imports only what the brief allows."""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

import pytest

import kikan.juminzei.calc as calc_module
import kikan.juminzei.rules as rules_module
from kikan.errors import InvalidError
from kikan.juminzei.rules import available_years, load_rules, parse_fiscal_year


def test_available_years() -> None:
    assert available_years() == (2024, 2025, 2026)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_each_year_loads_and_names_itself(year: int) -> None:
    rules = load_rules(year)
    assert rules.fiscal_year == year
    assert rules.income_year == year - 1
    assert rules.label == f"令和{year - 2018}年度"
    assert load_rules(year) is rules  # cached


def test_only_r6_and_r7_have_a_flat_reduction() -> None:
    assert load_rules(2024).flat_reduction is not None
    assert load_rules(2025).flat_reduction is not None
    assert load_rules(2026).flat_reduction is None


def test_r8_changes_are_data() -> None:
    r7, r8 = load_rules(2025), load_rules(2026)
    assert (r7.salary.minimum, r8.salary.minimum) == (550_000, 650_000)
    assert (r7.deductions.dependants.income_limit, r8.deductions.dependants.income_limit) == (
        480_000,
        580_000,
    )
    assert r8.deductions.specific_relative is not None
    assert r7.deductions.specific_relative is None
    assert r8.deductions.basic[0].amount == 430_000


@pytest.mark.parametrize("year", [2023, 2027, 1990])
def test_unknown_year_is_refused_in_japanese(year: int) -> None:
    with pytest.raises(InvalidError) as caught:
        load_rules(year)
    assert caught.value.code == "juminzei.unknown_year"
    assert "税制データがありません（対応: 令和6年度〜令和8年度）" in caught.value.message


def test_unknown_year_message_names_the_year() -> None:
    with pytest.raises(InvalidError, match="令和9年度の税制データがありません"):
        load_rules(2027)


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("令和6", 2024),
        ("令和6年度", 2024),
        ("R6", 2024),
        ("r7", 2025),
        ("2026", 2026),
        ("令和８", 2026),
        ("平成31", 2019),
        ("令和元", 2019),
    ],
)
def test_parse_fiscal_year(text: str, year: int) -> None:
    assert parse_fiscal_year(text) == year


@pytest.mark.parametrize("text", ["", "令和", "24", "X6", "2024年度度", "六"])
def test_parse_fiscal_year_rejects(text: str) -> None:
    with pytest.raises(InvalidError, match="年度「"):
        parse_fiscal_year(text)


def test_every_rule_file_names_its_sources() -> None:
    folder = resources.files("kikan.juminzei").joinpath("data/rules")
    for entry in folder.iterdir():
        text = entry.read_text("utf-8")
        assert "RULES" in text
        assert "法" in text
        assert text.count("#") > 40, entry.name


def test_engine_has_no_year_literal() -> None:
    """Everything that changes between years is data: no 4-digit year from 2000 on in calc.py."""
    source = Path(calc_module.__file__).read_text("utf-8")
    assert not re.search(r"\b20[0-9]{2}\b", source)


@pytest.mark.parametrize("module", [calc_module, rules_module])
def test_domain_imports_only_errors_calendar_stdlib_pydantic(module: object) -> None:
    tree = ast.parse(Path(module.__file__).read_text("utf-8"))  # type: ignore[attr-defined]
    allowed = ("kikan.errors", "kikan.calendar", "kikan.juminzei.rules")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kikan"):
            assert node.module.startswith(allowed), node.module
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("kikan"):
            assert node.module.split(".")[0] in {
                "pydantic",
                "pydantic_core",
                "__future__",
                "dataclasses",
                "decimal",
                "typing",
                "functools",
                "importlib",
                "datetime",
            }, node.module
