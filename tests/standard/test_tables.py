"""The contents of the small tables: what the spec, the law and DOMAIN.md say they hold."""

from __future__ import annotations

from datetime import date

import pytest

from kikan.standard.codes import code_table


def labels(name: str) -> dict[str, str]:
    return {e.code: e.label for e in code_table(name)}


def test_sex() -> None:
    assert labels("sex") == {"1": "男", "2": "女", "9": "その他", "0": "不明"}


def test_resident_kind() -> None:
    assert labels("resident_kind") == {"1": "日本人住民", "2": "外国人住民"}


def test_resident_status_current_versus_removed() -> None:
    table = code_table("resident_status")
    current = {e.label for e in table.where(current=True)}
    assert current == {"住民", "転出予定"}
    assert all(e.code.startswith("1") == e.attr("current") for e in table)
    assert {"転出", "死亡", "職権消除", "改製"} <= set(labels("resident_status").values())


def test_every_removal_reason_points_to_a_removed_status() -> None:
    statuses = code_table("resident_status")
    for entry in code_table("idou_jiyu").where(group="消除"):
        target = statuses.entry(str(entry.attr("status_after")))
        assert target.attr("current") is False, entry.label


def test_article_30_45_follows_the_law() -> None:
    assert list(labels("article_30_45").values()) == [
        "中長期在留者",
        "特別永住者",
        "一時庇護許可者",
        "仮滞在許可者",
        "経過滞在者",
    ]


ZAIRYU = {
    "別表第一の一": ["外交", "公用", "教授", "芸術", "宗教", "報道"],
    "別表第一の二": [
        "高度専門職１号イ",
        "高度専門職１号ロ",
        "高度専門職１号ハ",
        "高度専門職２号",
        "経営・管理",
        "法律・会計業務",
        "医療",
        "研究",
        "教育",
        "技術・人文知識・国際業務",
        "企業内転勤",
        "介護",
        "興行",
        "技能",
        "特定技能１号",
        "特定技能２号",
        "技能実習１号イ",
        "技能実習１号ロ",
        "技能実習２号イ",
        "技能実習２号ロ",
        "技能実習３号イ",
        "技能実習３号ロ",
        "育成就労",
    ],
    "別表第一の三": ["文化活動", "短期滞在"],
    "別表第一の四": ["留学", "研修", "家族滞在"],
    "別表第一の五": ["特定活動"],
    "別表第二": ["永住者", "日本人の配偶者等", "永住者の配偶者等", "定住者"],
}


def test_zairyu_shikaku_is_the_complete_list_in_law_order() -> None:
    table = code_table("zairyu_shikaku")
    actual: dict[str, list[str]] = {}
    for entry in table:
        actual.setdefault(str(entry.attr("schedule")), []).append(entry.label)
    assert actual == ZAIRYU
    assert not table.has_label("特別永住者"), "特別永住者 is an article_30_45 kind, not a status"


def test_zairyu_shikaku_code_prefix_is_the_schedule() -> None:
    prefix = {name: str(i) for i, name in enumerate(ZAIRYU, start=1)}
    for entry in code_table("zairyu_shikaku"):
        assert entry.code[0] == prefix[str(entry.attr("schedule"))], entry.label


def test_statuses_that_never_make_a_resident() -> None:
    table = code_table("zairyu_shikaku")
    assert {e.label for e in table.where(registrable=False)} == {"外交", "公用", "短期滞在"}


def test_ikusei_shuro_only_from_2027() -> None:
    entry = code_table("zairyu_shikaku").entry(code_table("zairyu_shikaku").by_label("育成就労"))
    assert entry.valid_from == date(2027, 4, 1)
    assert not entry.in_force(date(2027, 3, 31))
    assert entry.in_force(date(2027, 4, 1))


@pytest.mark.parametrize(
    ("code", "label", "alpha2"),
    [
        ("392", "日本", "JP"),
        ("156", "中国", "CN"),
        ("410", "韓国", "KR"),
        ("408", "朝鮮", "KP"),
        ("158", "台湾", "TW"),
        ("344", "香港", "HK"),
        ("704", "ベトナム", "VN"),
        ("608", "フィリピン", "PH"),
        ("076", "ブラジル", "BR"),
        ("524", "ネパール", "NP"),
        ("840", "米国", "US"),
        ("826", "英国", "GB"),
        ("275", "パレスチナ", "PS"),
        ("004", "アフガニスタン", "AF"),
    ],
)
def test_country_spot_checks(code: str, label: str, alpha2: str) -> None:
    table = code_table("country")
    assert table.label(code) == label
    assert table.entry(code).attr("alpha2") == alpha2


def test_country_covers_the_un_members_and_our_own_codes() -> None:
    table = code_table("country")
    assert len(table.where(un_member=True)) == 193
    ours = {e.code: e.label for e in table.where(iso=False)}
    assert ours == {"900": "無国籍", "901": "コソボ"}
    assert all(900 <= int(code) <= 999 for code in ours), "ISO user-assigned range only"
    alpha3 = [e.attr("alpha3") for e in table]
    assert len(set(alpha3)) == len(alpha3)
