"""異動事由 holds exactly the reasons of spec 1.2.2 (210), written out here independently."""

from __future__ import annotations

from kikan.standard.codes import code_table

# Copied by hand from 住民記録システム標準仕様書 第3章 1.2.2, in the spec's order:
# (group, wording in the spec, applies_to).
SPEC_1_2_2 = [
    ("記載", "国内転入", "both"),
    ("記載", "国外転入等", "both"),
    ("記載", "出生", "both"),
    ("記載", "職権記載（帰化等）", "japanese"),
    ("記載", "職権記載（国籍喪失）", "foreign"),
    ("記載", "職権記載", "both"),
    ("記載", "改製", "both"),
    ("記載", "再製", "both"),
    ("記載", "異動の取消し（増）", "both"),
    ("消除", "国内転出", "both"),
    ("消除", "国外転出", "both"),
    ("消除", "死亡", "both"),
    ("消除", "職権消除（帰化等）", "foreign"),
    ("消除", "職権消除（国籍喪失）", "japanese"),
    ("消除", "職権消除", "both"),
    ("消除", "改製", "both"),
    ("消除", "再製", "both"),
    ("消除", "異動の取消し（減）", "both"),
    ("修正", "転居", "both"),
    ("修正", "軽微な修正", "both"),
    ("修正", "職権修正", "both"),
    ("修正", "誤記修正", "both"),
    ("修正", "個人番号の変更請求", "both"),
    ("修正", "個人番号の職権修正", "both"),
    ("修正", "個人番号の職権記載", "both"),
    ("修正", "住民票コードの変更請求", "both"),
    ("修正", "住民票コードの職権記載", "both"),
    ("修正", "世帯分離", "both"),
    ("修正", "世帯合併", "both"),
    ("修正", "世帯変更", "both"),
    ("修正", "世帯主変更", "both"),
    ("修正", "旧氏の記載", "both"),
    ("修正", "旧氏の変更", "both"),
    ("修正", "旧氏の削除", "both"),
    ("修正", "通称の記載", "both"),
    ("修正", "通称の削除", "both"),
    ("修正", "異動の取消し（修正）", "both"),
]


def spec_view() -> list[tuple[str, str, str]]:
    table = code_table("idou_jiyu")
    return [
        (str(e.attr("group")), str(e.attr("spec_label", e.label)), str(e.attr("applies_to")))
        for e in table
    ]


def test_exactly_the_spec_list() -> None:
    assert sorted(spec_view()) == sorted(SPEC_1_2_2)
    assert len(code_table("idou_jiyu")) == len(SPEC_1_2_2)


def test_registration_and_removal_keep_the_spec_order() -> None:
    # 修正 is regrouped by topic (3x-6x, see the data file); 記載 and 消除 keep the spec order.
    for group in ("記載", "消除"):
        ours = [v for v in spec_view() if v[0] == group]
        spec = [v for v in SPEC_1_2_2 if v[0] == group]
        assert ours == spec


def test_no_tenkyo_torikeshi() -> None:
    table = code_table("idou_jiyu")
    assert not any("転居取消" in e.label for e in table), "spec 1.2.2: 実装しない"


def test_duplicated_spec_words_get_unique_labels() -> None:
    table = code_table("idou_jiyu")
    assert table.by_label("改製（記載）") != table.by_label("改製（消除）")
    assert table.by_label("再製（記載）") != table.by_label("再製（消除）")


def test_code_scheme_first_digit_is_the_kind() -> None:
    table = code_table("idou_jiyu")
    for entry in table:
        group = entry.attr("group")
        first = entry.code[0]
        assert {"記載": first == "1", "消除": first == "2", "修正": first in "3456"}[str(group)]


def test_adds_and_removes_follow_the_group() -> None:
    for entry in code_table("idou_jiyu"):
        assert (entry.attr("adds", False) is True) == (entry.attr("group") == "記載")
        assert (entry.attr("removes", False) is True) == (entry.attr("group") == "消除")


def test_cancellations() -> None:
    table = code_table("idou_jiyu")
    assert {e.label for e in table.where(cancels=True)} == {
        "異動の取消し（増）",
        "異動の取消し（減）",
        "異動の取消し（修正）",
    }
