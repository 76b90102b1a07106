"""Pure rules of 印鑑登録: eligibility, the seal's text, images, card numbers, reactions."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from kikan.seal import domain
from kikan.seal.domain import Person, ReactionKind, SealRuleError
from tests.seal.conftest import png, record

TODAY = date(2026, 11, 24)


def person(**kw: object) -> Person:
    return Person.from_record(record("100000000000001", **kw))  # type: ignore[arg-type]


def test_eligibility_age_boundary_and_status() -> None:
    assert domain.check_eligible(person(birth=date(2011, 11, 24)), TODAY).atena_number
    with pytest.raises(SealRuleError) as minor:
        domain.check_eligible(person(birth=date(2011, 11, 25)), TODAY)
    assert minor.value.code == "seal.minor" and "15歳未満" in minor.value.message
    for status in ("20", "21", "22"):
        with pytest.raises(SealRuleError) as gone:
            domain.check_eligible(person(status=status), TODAY)
        assert gone.value.code == "seal.not_resident"
    assert domain.check_eligible(person(status="11"), TODAY)  # 転出予定 is still a resident
    with pytest.raises(SealRuleError):
        domain.check_eligible(None, TODAY)
    unknown = Person.from_record({**record("100000000000001"), "birth_date": "S50-??-??"})
    with pytest.raises(SealRuleError) as no_age:
        domain.check_eligible(unknown, TODAY)
    assert no_age.value.code == "seal.age_unknown"


def test_seal_text_must_show_the_name() -> None:
    p = person(kyuuji="佐藤")
    for ok in ("青木", "太郎", "青木太郎", "青木 太郎", "佐藤", "佐藤太郎"):
        assert domain.seal_matches(ok, p), ok
    for bad in ("山田", "青", "太郎青木", ""):
        assert not domain.seal_matches(bad, p), bad
    with pytest.raises(SealRuleError) as exc:
        domain.check_seal_text("山田", p)
    assert exc.value.code == "seal.text_mismatch"


def test_full_width_names_from_the_feed_compare_equal() -> None:
    p = person(family="ＳＭＩＴＨ", given="ＪＯＨＮ")
    assert domain.seal_matches("SMITH", p)


def test_image_checks() -> None:
    data = png()
    img = domain.check_image(data)
    assert img.media_type == "image/png" and img.sha256 == hashlib.sha256(data).hexdigest()
    for bad, code in (
        (b"", "seal.image_missing"),
        (b"not an image at all", "seal.image_invalid"),
        (data[: len(data) // 2], "seal.image_invalid"),  # truncated
        (png(size=32), "seal.image_size"),
        (b"\x89PNG" + b"0" * (domain.MAX_IMAGE_BYTES + 1), "seal.image_too_large"),
    ):
        with pytest.raises(SealRuleError) as exc:
            domain.check_image(bad)
        assert exc.value.code == code


def test_card_numbers_carry_a_check_digit() -> None:
    numbers = {domain.card_number(i) for i in range(1, 200)}
    assert len(numbers) == 199
    n = domain.card_number(42)
    assert domain.check_card_number(n) == n
    assert domain.check_card_number(f"{n[:4]}-{n[4:]}") == n
    typo = n[:3] + str((int(n[3]) + 1) % 10) + n[4:]
    for bad in (typo, "1234", "abcdefgh", n + "0"):
        with pytest.raises(SealRuleError):
            domain.check_card_number(bad)


@pytest.mark.parametrize(
    ("status", "reason"), [("20", "転出"), ("21", "死亡"), ("22", "住民票消除")]
)
def test_removal_strikes_the_registration(status: str, reason: str) -> None:
    r = domain.react(person(), person(status=status), "青木")
    assert r.kind is ReactionKind.STRIKE and reason in r.reason
    assert domain.react(person(), None, "青木").kind is ReactionKind.STRIKE


def test_name_change_updates_or_asks_for_review() -> None:
    registered = person()
    married = person(family="佐藤")
    # the seal shows the old 氏: staff must look at it
    review = domain.react(registered, married, "青木")
    assert review.kind is ReactionKind.REVIEW
    # the seal shows the 名 only: still valid, the 登録事項 follow the register
    update = domain.react(registered, married, "太郎")
    assert update.kind is ReactionKind.UPDATE and "氏名" in update.reason
    # 旧氏 recorded in the register keeps an old-氏 seal valid
    assert domain.react(registered, person(family="佐藤", kyuuji="青木"), "青木").kind is (
        ReactionKind.UPDATE
    )
    moved = Person.from_record({**record("100000000000001"), "address": "日和市松町二丁目8番地"})
    assert domain.react(registered, moved, "青木").kind is ReactionKind.UPDATE


def test_address_is_built_from_the_feed_items_like_the_register_writes_it() -> None:
    items = {"prefecture": "架空県", "city": "日和市", "town": "松町二丁目", "banchi": "8番地"}
    row = {**record("100000000000001"), **items, "katagaki": "", "postal_code": "9990001"}
    assert domain.address_of(row) == "架空県日和市松町二丁目8番地"
    with_katagaki = {**row, "katagaki": "日和荘101号室"}
    assert domain.address_of(with_katagaki) == "架空県日和市松町二丁目8番地　日和荘101号室"
    assert domain.address_of(record("100000000000001")) == ""  # no address items: nothing
    # a 転居 seen over the feed is a change of 登録事項
    before, after = Person.from_record(row), Person.from_record(with_katagaki)
    reaction = domain.react(before, after, "青木")
    assert reaction.kind is ReactionKind.UPDATE and reaction.reason == "住所の変更"


def test_reactions_are_state_based_and_idempotent() -> None:
    registered = person()
    same = person()
    assert domain.react(registered, same, "青木").kind is ReactionKind.NONE
    married = person(family="佐藤")
    update = domain.react(registered, married, "太郎")
    assert update.kind is ReactionKind.UPDATE
    # once the registration holds the new row, the same event again changes nothing
    assert domain.react(married, married, "太郎").kind is ReactionKind.NONE
