"""名寄せ rules (kikan.atena.matching): the hand-worked cases of data/matching.toml, every
agreement rule at its edge, and the property the issue asks for: records that differ in one
attribute are never linked automatically."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kikan.atena.matching import (
    Agreement,
    PersonFacts,
    Verdict,
    assess,
    compare_address,
    compare_birth,
    compare_name,
    compare_sex,
    default_rules,
    parse_rules,
)

TARO = PersonFacts(
    name="高橋 太郎",
    kana="タカハシ タロウ",
    birth="S50-04-01",
    sex="1",
    address="東京都千代田区霞が関一丁目1番1号",
    my_number_index="idx-1",
)


def test_the_rules_file_names_its_version_and_source() -> None:
    rules = default_rules()
    assert rules.version and "policy" in rules.source
    assert rules.review_threshold == 60


# ---------------------------------------------------------------- hand-worked cases of the data


def test_a_non_resident_who_moved_in_is_offered_with_score_90() -> None:
    moved = replace(TARO, address="大阪府大阪市北区梅田1-1", my_number_index=None)
    result = assess(TARO, moved)
    assert (result.verdict, result.score) == (Verdict.REVIEW, 90)
    assert result.of("address") is Agreement.DIFFERENT


def test_one_typo_in_sex_is_offered_with_score_85() -> None:
    typo = replace(TARO, sex="2", my_number_index=None)
    assert (assess(TARO, typo).verdict, assess(TARO, typo).score) == (Verdict.REVIEW, 85)


def test_a_common_name_with_another_birthday_is_not_offered() -> None:
    other = replace(
        TARO, birth="S52-11-03", address="北海道札幌市中央区北1条西2丁目", my_number_index=None
    )
    result = assess(TARO, other)
    assert (result.verdict, result.score) == (Verdict.DISTINCT, 30)


def test_twins_at_one_address_are_not_offered() -> None:
    twin = replace(TARO, name="高橋 次郎", kana="タカハシ ジロウ", my_number_index=None)
    result = assess(TARO, twin)
    assert (result.verdict, result.score) == (Verdict.DISTINCT, 55)


def test_a_variant_name_with_an_uncertain_birthday_is_offered_with_62() -> None:
    vague = PersonFacts(name="髙橋太郎", kana="たかはし たろう", birth="S50-04-??!about", sex="1")
    result = assess(TARO, vague)
    assert result.of("name") is Agreement.FOLDED
    assert result.of("birth") is Agreement.COMPATIBLE
    assert (result.verdict, result.score) == (Verdict.REVIEW, 62)


@pytest.mark.parametrize(("threshold", "verdict"), [(63, Verdict.DISTINCT), (62, Verdict.REVIEW)])
def test_the_review_threshold_is_inclusive(threshold: int, verdict: Verdict) -> None:
    data = {
        "version": "t",
        "source": "test",
        "review_threshold": threshold,
        "about_tolerance_days": 366,
        "points": {k: dict(v) for k, v in default_rules().points.items()},
    }
    vague = PersonFacts(name="髙橋太郎", kana="たかはし たろう", birth="S50-04-??!about", sex="1")
    assert assess(TARO, vague, parse_rules(data)).verdict is verdict


def test_rules_with_an_unknown_attribute_or_agreement_are_refused() -> None:
    base = {"version": "t", "source": "t", "review_threshold": 1, "about_tolerance_days": 0}
    with pytest.raises(ValueError, match="unknown attribute"):
        parse_rules({**base, "points": {"shoe_size": {"same": 1}}})
    with pytest.raises(ValueError, match="unknown agreement"):
        parse_rules({**base, "points": {"name": {"almost": 1}}})


# ---------------------------------------------------------------- the 個人番号 rules


def test_my_number_and_all_four_attributes_agreeing_link_automatically() -> None:
    variant = replace(TARO, name="髙橋　太郎", address="東京都千代田区霞が関1-1-1")
    result = assess(TARO, variant)
    assert result.verdict is Verdict.AUTO_LINK, result


def test_a_different_my_number_is_never_offered_even_if_all_else_agrees() -> None:
    result = assess(TARO, replace(TARO, my_number_index="idx-2"))
    assert result.verdict is Verdict.DISTINCT
    assert "個人番号" in result.reason


def test_the_same_my_number_with_another_address_goes_to_staff_naming_it() -> None:
    result = assess(TARO, replace(TARO, address="大阪府大阪市北区梅田1-1"))
    assert result.verdict is Verdict.REVIEW
    assert "住所" in result.reason and "個人番号は一致" in result.reason


def test_an_uncertain_birthday_never_links_automatically() -> None:
    result = assess(TARO, replace(TARO, birth="S50-04-??"))
    assert result.of("birth") is Agreement.COMPATIBLE
    assert result.verdict is Verdict.REVIEW


# ---------------------------------------------------------------- attribute rules at their edges


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("山田 太郎", "山田　太郎", Agreement.SAME),
        ("渡邉花子", "渡辺花子", Agreement.FOLDED),
        ("佐々木", "佐佐木", Agreement.FOLDED),
        ("ｻﾄｳ", "サトウ", Agreement.FOLDED),
        ("サトー", "サトウ", Agreement.DIFFERENT),
        ("山田太郎", "", Agreement.MISSING),
        ("山田太郎", "山田次郎", Agreement.DIFFERENT),
    ],
)
def test_names(a: str, b: str, expected: Agreement) -> None:
    assert compare_name(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("H3-02-29", "H3-02-29", Agreement.SAME),  # not on the calendar, compared as written
        ("H3-02-29", "H3-02-28", Agreement.DIFFERENT),  # never clamped into a match
        ("S64-01-07", "AD1989-01-07", Agreement.SAME),  # 和暦 and 西暦 of one day
        ("S50-04-01", "S50-04-02", Agreement.DIFFERENT),
        ("S50-04-??", "S50-04-30", Agreement.COMPATIBLE),
        ("S50-04-??", "S50-05-01", Agreement.DIFFERENT),
        ("R5-??-??!winter", "R5-01-15", Agreement.COMPATIBLE),  # 冬 may be January
        ("R5-??-??!spring", "R5-06-01", Agreement.DIFFERENT),
        ("R5-??-??!about", "R6-06-01", Agreement.COMPATIBLE),  # 頃 reaches a year further
        ("R5-??-??!about", "R7-01-02", Agreement.DIFFERENT),
        ("?", "S50-04-01", Agreement.MISSING),
        ("garbage", "S50-04-01", Agreement.MISSING),
    ],
)
def test_birthdays(a: str, b: str, expected: Agreement) -> None:
    assert compare_birth(a, b, tolerance_days=default_rules().about_tolerance_days) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1", "1", Agreement.SAME),
        ("1", "2", Agreement.DIFFERENT),
        ("0", "1", Agreement.MISSING),
        ("9", "9", Agreement.MISSING),
    ],
)
def test_sex(a: str, b: str, expected: Agreement) -> None:
    assert compare_sex(a, b) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("東京都千代田区霞が関一丁目1番1号", "東京都千代田区霞ヶ関1-1-1", Agreement.SAME),
        (
            "東京都千代田区霞が関一丁目1番1号",
            "東京都千代田区霞が関一丁目1番1号 霞ビル101",
            Agreement.SIMILAR,
        ),
        ("東京都千代田区霞が関一丁目1番1号", "東京都港区芝公園4-2-8", Agreement.DIFFERENT),
        ("", "東京都港区芝公園4-2-8", Agreement.MISSING),
    ],
)
def test_addresses(a: str, b: str, expected: Agreement) -> None:
    assert compare_address(a, b) is expected


# ---------------------------------------------------------------- the property


_OTHER = {
    "name": "鈴木 一郎",
    "birth": "S51-04-01",
    "sex": "2",
    "address": "大阪府大阪市北区梅田1-1",
}
_names = st.sampled_from(["高橋 太郎", "髙橋太郎", "佐藤 花子", "ジョン・スミス", "渡邉 健"])
_births = st.sampled_from(["S50-04-01", "H3-02-29", "R2-12-31", "S50-04-??", "AD1990-??-??", "?"])
_sexes = st.sampled_from(["1", "2", "0", "9"])
_addresses = st.sampled_from(
    [
        "東京都千代田区霞が関一丁目1番1号",
        "東京都千代田区霞ヶ関1-1-1",
        "北海道札幌市中央区北1条西2丁目",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    person=st.builds(
        PersonFacts,
        name=_names,
        kana=st.just("タカハシ"),
        birth=_births,
        sex=_sexes,
        address=_addresses,
        my_number_index=st.sampled_from(["idx-1", None]),
    ),
    attribute=st.sampled_from(sorted(_OTHER)),
)
def test_records_differing_in_one_attribute_are_never_linked_automatically(
    person: PersonFacts, attribute: str
) -> None:
    assume(getattr(person, attribute) != _OTHER[attribute])
    other = replace(person, **{attribute: _OTHER[attribute]})
    assert assess(person, other).verdict is not Verdict.AUTO_LINK
    assert assess(other, person).verdict is not Verdict.AUTO_LINK
