"""The standard layout files: what 住民記録 contains, and clear errors for broken layout files."""

from __future__ import annotations

import copy
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from kikan.standard.codes import code_table
from kikan.standard.layouts import (
    CHECK_DIGIT_KINDS,
    ITEM_TYPES,
    LayoutError,
    available_layouts,
    layout,
    parse_layout,
)

ROOT = Path(__file__).resolve().parents[2]


def raw() -> dict[str, Any]:
    text = resources.files("kikan.standard").joinpath("data/layouts/residents.toml").read_text()
    return tomllib.loads(text)


def test_layout_by_code_name_or_japanese_title() -> None:
    assert available_layouts() == ["atena", "fuhyo", "residents"]
    lay = layout("住民記録")
    assert lay is layout("residents")
    assert (lay.title, lay.business_code) == ("住民記録", "001")
    assert [(g.code, g.name) for g in lay.groups] == [
        ("household", "世帯"),
        ("person", "個人"),
        ("address", "住所"),
        ("history", "異動履歴"),
        ("support_measure", "支援措置"),
    ]


def test_unknown_layout_names_the_known_ones() -> None:
    with pytest.raises(LayoutError) as info:
        layout("戸籍")
    assert info.value.code == "layout.unknown"
    assert str(info.value) == (
        "レイアウト「戸籍」はありません（あるもの："
        "宛名管理（住登外者宛名・団体内統合宛名）（atena）、戸籍の附票（fuhyo）、住民記録（residents））。"
    )


def test_the_official_layout_was_not_available_and_the_file_says_so() -> None:
    lay = layout("residents")
    assert lay.confidence == "low"
    assert "入手できなかった" in lay.confidence_note
    for group in lay.groups:
        for item in group:
            assert item.source and item.confidence in ("high", "medium", "low"), item.name


def test_items_of_dom_section_4() -> None:
    person = layout("residents").group("個人")
    for name in ("宛名番号", "世帯番号", "住民票コード", "個人番号", "住民種別", "住民状態", "氏",
                 "氏名の振り仮名", "旧氏", "通称", "氏名（外国人ローマ字）", "性別", "生年月日",
                 "続柄", "住民となった年月日", "住所を定めた年月日", "本籍（都道府県）", "筆頭者の氏",
                 "国籍・地域", "法第30条の45に規定する区分", "在留資格", "在留期間の満了の日",
                 "在留カード等番号", "外国人住民となった年月日", "消除の年月日"):  # fmt: skip
        assert person.find(name) is not None, name
    address = layout("residents").group("address")
    assert {i.name for i in address} >= {
        "市区町村コード",
        "町字コード",
        "方書",
        "郵便番号",
        "国外住所",
    }


def test_item_attributes_are_consistent() -> None:
    for group in layout("residents").groups:
        assert group.header == [i.name for i in group]
        for item in group:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", item.code)
            assert item.type in ITEM_TYPES
            assert (item.length is None) == (item.type == "DATE")
            if item.code_table:
                assert len(code_table(item.code_table)) > 0
            if item.check_digit:
                assert item.check_digit in CHECK_DIGIT_KINDS
            assert not item.unknown_allowed or item.type == "DATE"


def test_check_digits_and_unknown_dates_where_the_domain_says() -> None:
    person = layout("residents").group("person")
    assert person.item("住民票コード").check_digit == "住民票コード"
    assert person.item("my_number").check_digit == "個人番号"
    assert person.item("my_number").sensitive
    assert person.item("宛名番号").check_digit == "宛名番号"
    assert person.item("世帯番号").check_digit == "世帯番号"
    assert layout("residents").group("address").item("city_code").check_digit == "団体コード"
    unknown = {i.name for i in person if i.unknown_allowed}
    assert unknown == {"生年月日", "住民となった年月日", "住所を定めた年月日", "外国人住民となった年月日",
                       "消除の年月日"}  # fmt: skip
    assert not person.item("転出予定年月日").unknown_allowed


def test_code_names_follow_the_residents_domain() -> None:
    """Where kikan/residents has a field for an item, the layout uses the same name."""
    source = "\n".join(p.read_text("utf-8") for p in (ROOT / "kikan" / "residents").rglob("*.py"))
    fields = set(re.findall(r"^\s+([a-z_0-9]+): ", source, re.MULTILINE))
    person = layout("residents").group("person")
    for code in ("atena_number", "household_number", "juminhyo_code", "family_name",
                 "given_name", "family_name_kana", "given_name_kana", "name_furigana", "kyuuji",
                 "kyuuji_kana", "tsuushou", "tsuushou_kana", "roman_name", "foreign_kanji_name",
                 "sex", "birth_date", "zokugara", "resident_kind", "district_code",
                 "became_resident_date", "address_set_date", "removal_reason", "removal_date",
                 "nationality", "article_30_45", "status_of_residence", "period_of_stay",
                 "expiry_date", "card_number", "became_foreign_resident",
                 "basic_pension_number"):  # fmt: skip
        assert person.find(code) is not None, code
        assert code in fields, code


def test_check_order_puts_reference_targets_first() -> None:
    assert layout("residents").check_order == (
        "household",
        "person",
        "address",
        "history",
        "support_measure",
    )


def test_rules() -> None:
    rules = {(r.kind, r.group, r.items) for r in layout("residents").rules}
    assert ("unique", "person", ("atena_number",)) in rules
    assert ("reference", "person", ("household_number",)) in rules
    assert ("one_per_key", "person", ("household_number",)) in rules
    assert ("unique", "history", ("atena_number", "history_no")) in rules


def broken(change: Any) -> str:
    data = copy.deepcopy(raw())
    change(data)
    with pytest.raises(LayoutError) as info:
        parse_layout(data, expected_name="residents")
    assert info.value.code == "layout.invalid"
    return str(info.value)


def item(data: dict[str, Any], group: int, code: str) -> dict[str, Any]:
    return next(i for i in data["group"][group]["item"] if i["code"] == code)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: item(d, 1, "sex").update(type="Z"), "項目「性別」"),
        (lambda d: item(d, 1, "sex").update(type="Z"), "type は X / Ｎ / 9 / DATE"),
        (lambda d: item(d, 1, "sex").pop("length"), "length は1以上の整数"),
        (lambda d: item(d, 1, "sex").update(code_table="gender"), "code_table「gender」を読めません"),
        (lambda d: item(d, 1, "sex").update(unknown_allowed=True), "DATE 型にだけ"),
        (lambda d: item(d, 1, "juminhyo_code").update(check_digit="マイナ"), "check_digit は"),
        (lambda d: item(d, 1, "birth_date").update(length=10), "DATE 型には length"),
        (lambda d: item(d, 1, "sex").update(code="Sex"), "snake_case"),
        (lambda d: item(d, 1, "sex").update(colour="red"), "未知のキー ['colour']"),
        (lambda d: item(d, 1, "given_name").update(name="氏"), "項目「氏」が重複"),
        (lambda d: item(d, 1, "nationality").update(required_when={"kind": ["2"]}), "required_when の kind"),
        (lambda d: d["group"][1].update(code="household"), "データ群「household」が重複"),
        (lambda d: d["rule"][1].update(items=["atena"]), "データ群「個人」の項目 code ではありません"),
        (lambda d: d["rule"][2].update(target_group="nowhere"), "target_items のデータ群がありません"),
        (lambda d: d["rule"].append({"kind": "reference", "group": "household", "items": ["household_number"],
                                     "target_group": "person", "target_items": ["household_number"]}),
         "reference が循環"),
        (lambda d: d.update(name="juki"), "name「juki」がファイル名と一致しません"),
        (lambda d: d.update(business_code="1"), "business_code は3桁"),
        (lambda d: d.update(confidence="sure"), "confidence は high/medium/low"),
    ],
)  # fmt: skip
def test_broken_layout_files_get_clear_errors(change: Any, expected: str) -> None:
    message = broken(change)
    assert message.startswith("レイアウト定義「residents」")
    assert expected in message


def test_item_defaults_come_from_the_group_then_the_file() -> None:
    data = copy.deepcopy(raw())
    data["group"][0]["confidence"] = "high"
    item(data, 0, "head_name").pop("confidence", None)
    lay = parse_layout(data, expected_name="residents")
    assert lay.group("household").item("head_name").confidence == "high"
    assert lay.group("person").item("sex").confidence == "medium"
