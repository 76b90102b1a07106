"""Code tables are data: every bundled table loads, is consistent, and answers lookups."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from typing import Any

import pytest

from kikan.standard.codes import (
    CodeError,
    CodeTable,
    available_tables,
    code_table,
    parse_code_table,
)

EXPECTED_TABLES = {
    "article_30_45",
    "country",
    "idou_jiyu",
    "resident_kind",
    "resident_status",
    "sex",
    "zairyu_shikaku",
    "zokugara_term",
}


def raw(name: str) -> dict[str, Any]:
    text = resources.files("kikan.standard").joinpath(f"data/codes/{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_available_tables_lists_every_bundled_file() -> None:
    tables = available_tables()
    assert set(tables) == EXPECTED_TABLES
    assert tables == sorted(tables)


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_every_table_loads_with_a_complete_header(name: str) -> None:
    table = code_table(name)
    assert isinstance(table, CodeTable)
    assert table.name == name
    assert table.title and table.version and table.source
    assert table.confidence in {"high", "medium", "low"}
    assert table.confidence_note, "say why the confidence is what it is"
    assert len(table) > 0


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_codes_and_labels_are_unique_and_match_the_pattern(name: str) -> None:
    # Checked against the raw TOML, independently of the loader's own checks.
    entries = raw(name)["entry"]
    codes = [e["code"] for e in entries]
    labels = [e["label"] for e in entries]
    assert all(isinstance(c, str) for c in codes), "codes must be TOML strings"
    assert len(set(codes)) == len(codes)
    assert len(set(labels)) == len(labels)
    table = code_table(name)
    assert table.codes == tuple(codes)
    assert table.code_pattern is not None, "document the code scheme as a pattern"


def test_tables_are_cached() -> None:
    assert code_table("sex") is code_table("sex")


@pytest.mark.parametrize("name", ["nope", "../codes/sex", "Sex", "", "sex.toml"])
def test_unknown_table(name: str) -> None:
    with pytest.raises(CodeError) as info:
        code_table(name)
    assert info.value.code == "code.unknown_table"
    assert "コード表" in str(info.value)


# ---- lookups -------------------------------------------------------------------------------


def test_label_has_and_by_label() -> None:
    table = code_table("idou_jiyu")
    assert table.label("11") == "国内転入"
    assert table.by_label("国内転入") == "11"
    assert table.has("11")
    assert not table.has("99")
    assert not table.has("１１"), "has() is an exact lookup; validate() normalises input"
    assert table.has_label("転居")
    for entry in table:
        assert table.by_label(table.label(entry.code)) == entry.code


def test_label_of_unknown_code() -> None:
    with pytest.raises(CodeError) as info:
        code_table("idou_jiyu").label("99")
    assert info.value.code == "code.unknown"
    assert str(info.value) == "異動事由コード「99」は定義されていません。"


def test_by_label_of_unknown_label() -> None:
    with pytest.raises(CodeError) as info:
        code_table("idou_jiyu").by_label("転居取消")
    assert info.value.code == "code.unknown_label"
    assert "転居取消" in info.value.message


def test_validate_returns_the_canonical_code() -> None:
    table = code_table("idou_jiyu")
    assert table.validate("31") == "31"
    assert table.validate("３１") == "31", "full-width digits from an IME are the same code"


def test_validate_unknown_code_message_and_attributes() -> None:
    with pytest.raises(CodeError) as info:
        code_table("idou_jiyu").validate("99")
    err = info.value
    assert isinstance(err, ValueError)
    assert err.code == "code.unknown"
    assert err.item is None
    assert err.message == "異動事由コード「99」は定義されていません。"
    assert str(err) == err.message


def test_validate_names_the_item_when_given() -> None:
    with pytest.raises(CodeError) as info:
        code_table("country").validate("999", item="国籍・地域")
    assert info.value.item == "国籍・地域"
    assert info.value.message == "国籍・地域コード「999」は定義されていません。"


@pytest.mark.parametrize(("value", "problem"), [("", "code.empty"), (11, "code.format")])
def test_validate_empty_and_non_string(value: Any, problem: str) -> None:
    with pytest.raises(CodeError) as info:
        code_table("idou_jiyu").validate(value, item="異動事由")
    assert info.value.code == problem
    assert info.value.message.startswith("異動事由コード")


def test_validate_respects_valid_from() -> None:
    table = code_table("zairyu_shikaku")
    ikusei = table.by_label("育成就労")
    assert table.validate(ikusei) == ikusei
    assert table.validate(ikusei, on=date(2027, 4, 1)) == ikusei
    with pytest.raises(CodeError) as info:
        table.validate(ikusei, on=date(2027, 3, 31), item="在留資格")
    assert info.value.code == "code.not_in_force"
    assert info.value.message == (
        "在留資格コード「223」（育成就労）は2027年3月31日の時点では使用できません。"
    )


def test_where_filters_on_attributes() -> None:
    table = code_table("idou_jiyu")
    assert {e.label for e in table.where(group="記載", applies_to="japanese")} == {
        "職権記載（帰化等）"
    }
    assert table.where(group="存在しない") == ()


def test_entries_are_read_only() -> None:
    entry = code_table("idou_jiyu").entry("11")
    with pytest.raises(TypeError):
        entry.attributes["group"] = "消除"  # type: ignore[index]


# ---- the loader refuses inconsistent tables -------------------------------------------------

GOOD: dict[str, Any] = {
    "name": "demo",
    "title": "デモ",
    "version": "1",
    "source": "テスト",
    "confidence": "low",
    "confidence_note": "テスト用",
    "code_pattern": "^[0-9]$",
    "entry": [{"code": "1", "label": "一"}, {"code": "2", "label": "二", "flag": True}],
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_parse_good_table() -> None:
    table = parse_code_table(GOOD)
    assert table.entry("2").attr("flag") is True
    assert table.entry("1").attr("flag", False) is False


@pytest.mark.parametrize(
    "data",
    [
        with_(entry=[{"code": "1", "label": "一"}, {"code": "1", "label": "二"}]),
        with_(entry=[{"code": "1", "label": "一"}, {"code": "2", "label": "一"}]),
        with_(entry=[{"code": "10", "label": "十"}]),  # breaks code_pattern
        with_(entry=[{"code": 1, "label": "一"}]),  # integer code would lose leading zeros
        with_(entry=[]),
        with_(entry=[{"code": "1", "label": "一", "bad": [1, 2]}]),
        with_(
            entry=[
                {
                    "code": "1",
                    "label": "一",
                    "valid_from": date(2027, 1, 1),
                    "valid_to": date(2026, 1, 1),
                }
            ]
        ),
        with_(confidence="certain"),
        with_(title=""),
        with_(extra="?"),
        {k: v for k, v in GOOD.items() if k != "source"},
    ],
)
def test_parse_refuses_inconsistent_tables(data: dict[str, Any]) -> None:
    with pytest.raises(CodeError) as info:
        parse_code_table(data)
    assert info.value.code == "code.invalid_table"


def test_parse_checks_the_name_against_the_file() -> None:
    with pytest.raises(CodeError):
        parse_code_table(GOOD, expected_name="other")
