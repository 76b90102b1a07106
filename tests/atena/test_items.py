"""The 住登外者 items are checked against the layout's item definition, and every fault gets the
付番 API's code: E0001 必須, E0002 文字種, E0003 桁数, E0004 相関. Nothing is echoed."""

from __future__ import annotations

from datetime import date

import pytest

from kikan.atena import domain
from kikan.standard.layouts import layout
from tests.atena.conftest import landowner, my_number

TODAY = date(2026, 12, 7)


def faults(**values: str) -> list[tuple[str, str]]:
    with pytest.raises(domain.AtenaInputError) as refused:
        domain.check_person(landowner(**values), today=TODAY)
    return [(e.code, e.item) for e in refused.value.errors]


def test_the_item_definition_has_29_items_with_031_ids() -> None:
    group = layout("atena").group("jutogai")
    assert len(group) == 29
    assert all(i.item_id.startswith("031") and len(i.item_id) == 8 for i in group)
    assert group.item("atena_number").length == 15 and group.item("town_code").length == 7
    assert {"representative", "nayose_target"} <= {i.code for i in group}


def test_a_good_entry_is_kept_with_names_joined_and_the_birth_in_storage_form() -> None:
    person = domain.check_person(landowner(my_number=my_number("12345678901")), today=TODAY)
    assert (
        person.items["name"] == "髙橋　一郎" and person.items["name_kana"] == "タカハシ　イチロウ"
    )
    assert person.items["birth_date"] == "S45-04-01"
    assert "my_number" not in person.items and person.my_number is not None
    assert "1234" not in repr(person)  # the number masks itself


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"family_name": "ﾀｶﾊｼ"}, ("E0002", "family_name")),  # half-width kana in Ｎ
        ({"given_name": "Ichiro"}, ("E0002", "given_name")),  # ASCII in Ｎ
        ({"town": "梅田" * 40}, ("E0003", "town")),  # over 60 characters
        ({"postal_code": "530000"}, ("E0003", "postal_code")),  # 7 digits exactly
        ({"postal_code": "53O0001"}, ("E0002", "postal_code")),  # a letter O in a 9 item
        ({"sex": "3"}, ("E0002", "sex")),  # not in the code list
        ({"my_number": "123456789012"}, ("E0004", "my_number")),  # wrong check digit
        ({"birth_date": "2023-02-30"}, ("E0002", "birth_date")),  # not a date
        ({"birth_date": "令和9年1月1日"}, ("E0004", "birth_date")),  # in the future
        ({"gyomu_id": ""}, ("E0001", "gyomu_id")),
        ({"gyomu_id": "999"}, ("E0004", "gyomu_id")),  # not a 業務コード
        ({"foreign_address": "アメリカ合衆国"}, ("E0004", "foreign_address")),  # and domestic
        ({"name": "高橋　次郎"}, ("E0004", "name")),  # 氏名 ≠ 氏＋名
        ({"representative": "1"}, ("E0004", "representative")),  # set by 宛名管理 only
    ],
)
def test_each_bad_item_gets_its_code(values: dict[str, str], expected: tuple[str, str]) -> None:
    assert expected in faults(**values)


def test_every_fault_is_reported_not_only_the_first() -> None:
    found = faults(family_name="ﾀｶﾊｼ", postal_code="1", sex="5")
    # the 氏名 joined from the bad 氏 is reported too: it is what would have been stored
    assert set(found) == {
        ("E0002", "name"),
        ("E0002", "family_name"),
        ("E0002", "sex"),
        ("E0003", "postal_code"),
    }


def test_a_missing_name_is_e0001_and_messages_are_japanese() -> None:
    with pytest.raises(domain.AtenaInputError) as refused:
        domain.check_person({"gyomu_id": "010"}, today=TODAY)
    (only,) = refused.value.errors
    assert only.code == "E0001" and only.message.startswith("氏名")


def test_unknown_birth_forms_are_accepted_and_searchable_by_name_only() -> None:
    person = domain.check_person(landowner(birth_date="昭和45年4月 日不詳"), today=TODAY)
    facts = domain.facts_of_items(person.items)
    assert facts.birth == "S45-04-??" and facts.birth_day == ""
    assert (
        domain.check_person(landowner(birth_date="年月日不詳"), today=TODAY).items["birth_date"]
        == "?"
    )


def test_the_fault_never_holds_the_value() -> None:
    with pytest.raises(domain.AtenaInputError) as refused:
        domain.check_person(landowner(my_number="123456789012"), today=TODAY)
    assert "123456789012" not in str(refused.value.errors)
