"""住登外者 registration and 付番 (処理区分 0/1/2) on both backends: numbers from the one
宛名番号 space, candidates before numbering, offers that only their own requester may answer,
history kept, tenants apart."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from kikan.atena import domain
from kikan.atena.service import nayose, query, register, search
from kikan.atena.store import CandidateRow, StateRow
from kikan.errors import NotFoundError, StaleError
from kikan.platform import numbering
from kikan.platform.context import Context
from kikan.platform.ids import validate_atena_number
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.atena.conftest import fuban, landowner
from tests.conftest import create_tenant


def test_a_new_person_is_numbered_from_the_one_space(db: Database, town: str, ctx: Context) -> None:
    with db.unit_of_work(town) as uow:
        before = numbering.next_atena_number(uow)  # e.g. a resident numbered meanwhile
        result = fuban(uow, ctx, landowner())
        after = numbering.next_atena_number(uow)
        uow.commit()
    assert result.result == "numbered"
    assert validate_atena_number(result.atena_number) == result.atena_number
    assert int(before[:-1]) < int(result.atena_number[:-1]) < int(after[:-1])
    with db.unit_of_work(town) as uow:
        view = query.who(uow, ctx, query.Who(result.atena_number))
        assert (view.kind, view.status, view.name) == ("2", "active", "髙橋　一郎")
        assert (
            uow.session.scalar(
                select(func.count())
                .select_from(AuditRecordRow)
                .where(AuditRecordRow.function == "宛名管理：住登外者の記録")
            )
            == 1
        )


def test_a_similar_person_gets_candidates_first_then_a_number_when_asked_again(
    db: Database, town: str, ctx: Context, numbered: str
) -> None:
    again = landowner(family_name="高橋", town="梅田二丁目")  # 異体字, moved
    with db.unit_of_work(town) as uow:
        offer = fuban(uow, ctx, again)
        uow.commit()
    assert offer.result == "candidates" and offer.atena_number == ""
    assert [c.atena_number for c in offer.candidates] == [numbered]
    assert offer.candidates[0].assessment.of("name").value == "folded"
    # someone else cannot use the offer
    with db.unit_of_work(town) as uow, pytest.raises(domain.AtenaInputError) as refused:
        register.fuban(uow, ctx, register.Fuban("0", again, "other", search_id=offer.search_id))
    assert refused.value.errors[0].code == "E0004"
    with db.unit_of_work(town) as uow:
        second = fuban(uow, ctx, again, search_id=offer.search_id)
        uow.commit()
    assert second.result == "numbered" and second.atena_number != numbered
    with db.unit_of_work(town) as uow:  # the pair waits for staff
        pair = uow.session.scalars(select(CandidateRow)).one()
        assert {pair.atena_a, pair.atena_b} == {numbered, second.atena_number}
        assert pair.status == "open" and pair.verdict == "review"
    with db.unit_of_work(town) as uow, pytest.raises(domain.AtenaInputError):
        fuban(uow, ctx, again, search_id=offer.search_id)  # used


def test_choosing_only_an_offered_candidate(db: Database, town: str, ctx: Context,
                                            numbered: str) -> None:  # fmt: skip
    with db.unit_of_work(town) as uow:
        offer = fuban(uow, ctx, landowner())
        uow.commit()
    with db.unit_of_work(town) as uow:
        other = numbering.next_atena_number(uow)
        uow.commit()
    with db.unit_of_work(town) as uow, pytest.raises(domain.AtenaInputError) as refused:
        fuban(uow, ctx, {}, shori_kubun="2", atena_number=other, search_id=offer.search_id)
    assert [(e.code, e.item) for e in refused.value.errors] == [("E0004", "atena_number")]
    with db.unit_of_work(town) as uow:
        chosen = fuban(uow, ctx, {}, shori_kubun="2", atena_number=numbered,
                       search_id=offer.search_id)  # fmt: skip
        uow.commit()
    assert (chosen.result, chosen.atena_number) == ("chosen", numbered)


def test_register_under_an_existing_number_keeps_history(
    db: Database, town: str, ctx: Context
) -> None:
    with db.unit_of_work(town) as uow:
        numbered = fuban(uow, ctx, landowner(valid_from="2020-01-01")).atena_number
        uow.commit()
    moved = landowner(prefecture="京都府", city="京都市左京区", town="岩倉", banchi="１番",
                      postal_code="6060001", valid_from="2026-04-01")  # fmt: skip
    with db.unit_of_work(town) as uow:
        result = fuban(uow, ctx, moved, shori_kubun="1", atena_number=numbered)
        uow.commit()
    assert result.result == "registered"
    with db.unit_of_work(town) as uow:
        detail = register.jutogai_detail(uow, ctx, register.JutogaiQuery(numbered))
        assert detail.row.version == 2 and len(detail.states) == 2
        old = query.who(uow, ctx, query.Who(numbered, date(2025, 1, 1)))
        assert old.address.startswith("大阪府")
        now = query.who(uow, ctx, query.Who(numbered))
        assert now.address.startswith("京都府")
    # a number never issued, or a bad check digit, is E0004
    with db.unit_of_work(town) as uow, pytest.raises(domain.AtenaInputError) as refused:
        fuban(uow, ctx, moved, shori_kubun="1", atena_number="999999999999990")
    assert refused.value.errors[0].code == "E0004"


def test_staff_update_is_guarded_by_version(db: Database, town: str, ctx: Context,
                                            numbered: str) -> None:  # fmt: skip
    with db.unit_of_work(town) as uow:
        register.update_jutogai(
            uow, ctx, register.UpdateJutogai(numbered, 1, landowner(banchi="２番地"))
        )
        uow.commit()
    with db.unit_of_work(town) as uow, pytest.raises(StaleError):
        register.update_jutogai(uow, ctx, register.UpdateJutogai(numbered, 1, landowner()))


def test_bad_input_writes_nothing(db: Database, town: str, ctx: Context) -> None:
    with db.unit_of_work(town) as uow, pytest.raises(domain.AtenaInputError):
        fuban(uow, ctx, landowner(given_name="ｲﾁﾛｳ"))
    with db.unit_of_work(town) as uow:
        assert uow.session.scalar(select(func.count()).select_from(StateRow)) == 0
        # the refused request took no number: the space still starts at 1
        assert int(numbering.next_atena_number(uow)[:-1]) == 1


def test_tenants_do_not_see_each_other(db: Database, town: str, ctx: Context,
                                       numbered: str) -> None:  # fmt: skip
    other = create_tenant(db, "隣町")
    with db.unit_of_work(other) as uow:
        with pytest.raises(NotFoundError):
            query.who(uow, ctx, query.Who(numbered))
        assert fuban(uow, ctx, landowner()).result == "numbered"  # no candidates across
        assert nayose.worklist(uow, ctx, nayose.Worklist()) == []


def test_the_page_search_finds_what_the_single_search_finds(
    db: Database, town: str, ctx: Context
) -> None:
    """A sync page compares its residents in one query per chunk (`find_many`); it must offer
    exactly the candidates the per-person search offers."""
    people = [
        landowner(),
        landowner(family_name="高橋", town="梅田二丁目"),
        landowner(given_name="次郎", given_name_kana="ジロウ"),
        landowner(birth_date="昭和45年4月 日不詳"),
        landowner(family_name="佐藤", family_name_kana="サトウ"),
    ]
    with db.unit_of_work(town) as uow:
        for values in people:
            register.fuban_unattended(uow, ctx, register.Fuban("0", values, "t"))
        uow.commit()
    queries = [
        (f"99{i:013d}", domain.facts_of_items(domain.check_person(v, today=ctx.today).items))
        for i, v in enumerate((*people, landowner(sex="2"), landowner(family_name_kana="タカハ")))
    ]
    with db.unit_of_work(town) as uow:
        many = search.find_many(uow, queries, sources=["2"])
        for number, facts in queries:
            single = search.find(uow, facts, exclude=[number], sources=["2"])
            got = many.get(number, [])
            assert [(c.atena_number, c.score) for c in got] == [
                (c.atena_number, c.score) for c in single
            ], facts
