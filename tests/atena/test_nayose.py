"""名寄せ on both backends: the worklist, linking without renumbering, 代表宛名, 名寄せ解除 that
restores exactly the state before, automatic links only on 個人番号 plus the four attributes,
and two staff deciding one pair at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from kikan.atena.service import nayose, query, register
from kikan.atena.store import CandidateRow, IdentityRow, NayoseEventRow
from kikan.errors import ConflictError, InvalidError, StaleError
from kikan.platform.context import Context
from kikan.platform.uow import Database
from tests.atena.conftest import landowner, my_number
from tests.conftest import Backend


def _pair(db: Database, tenant: str, ctx: Context, **second: str) -> tuple[str, str, CandidateRow]:
    numbers = []
    for values in (landowner(), landowner(**second)):
        with db.unit_of_work(tenant) as uow:
            result = register.fuban_unattended(uow, ctx, register.Fuban("0", values, "tester"))
            uow.commit()
        numbers.append(result.atena_number)
    with db.unit_of_work(tenant) as uow:
        row = uow.session.scalars(select(CandidateRow)).one()
        uow.session.expunge(row)
    return numbers[0], numbers[1], row


def _identities(db: Database, town: str) -> dict[str, tuple[str, bool]]:
    with db.unit_of_work(town) as uow:
        return {
            r.atena_number: (r.nayose_target, r.representative)
            for r in uow.session.scalars(select(IdentityRow))
        }


def test_link_then_undo_restores_the_state_before(db: Database, town: str, ctx: Context) -> None:
    first, second, pair = _pair(db, town, ctx, town="梅田三丁目")
    before = _identities(db, town)
    with db.unit_of_work(town) as uow:
        items = nayose.worklist(uow, ctx, nayose.Worklist())
        assert [(i.a.atena_number, i.b.atena_number) for i in items] == [
            (min(first, second), max(first, second))
        ]
        assert {e["attribute"]: e["agreement"] for e in items[0].evidence}["address"] == "different"
        done = nayose.link_pair(uow, ctx, nayose.LinkPair(pair.id, pair.version, second, "同一人"))
        uow.commit()
    linked = _identities(db, town)
    assert linked[first] == (second, False) and linked[second] == (second, True)
    with db.unit_of_work(town) as uow:  # both numbers stay; either answers for one person
        view = query.who(uow, ctx, query.Who(first))
        assert view.nayose_target == second and view.members == (second,)
        assert nayose.worklist(uow, ctx, nayose.Worklist()) == []
        assert done.event_id is not None
        nayose.undo_link(uow, ctx, nayose.UndoLink(done.event_id, "別人と判明"))
        uow.commit()
    assert _identities(db, town) == before
    with db.unit_of_work(town) as uow:
        events = nayose.history(uow, ctx, nayose.History(first))
        assert [e.action for e in events] == ["link", "unlink"]
        assert events[0].undone_by == events[1].id
        assert uow.session.get_one(CandidateRow, pair.id).status == "dismissed"
        with pytest.raises(ConflictError):
            nayose.undo_link(uow, ctx, nayose.UndoLink(done.event_id, "二度目"))


def test_an_earlier_link_cannot_be_undone_under_a_later_change(
    db: Database, town: str, ctx: Context
) -> None:
    first, second, pair = _pair(db, town, ctx, town="梅田三丁目")
    with db.unit_of_work(town) as uow:
        done = nayose.link_pair(uow, ctx, nayose.LinkPair(pair.id, pair.version, first))
        nayose.choose_representative(uow, ctx, nayose.ChooseRepresentative(second, "住民となった"))
        uow.commit()
    with db.unit_of_work(town) as uow:
        assert done.event_id is not None
        with pytest.raises(ConflictError) as refused:
            nayose.undo_link(uow, ctx, nayose.UndoLink(done.event_id, "誤り"))
        assert "後の名寄せ" in refused.value.message


def test_the_representative_must_be_a_member(db: Database, town: str, ctx: Context) -> None:
    _first, _second, pair = _pair(db, town, ctx, town="梅田三丁目")
    with db.unit_of_work(town) as uow, pytest.raises(InvalidError):
        nayose.link_pair(uow, ctx, nayose.LinkPair(pair.id, pair.version, "000000000000999"))


def test_a_dismissed_pair_and_a_stale_version(db: Database, town: str, ctx: Context) -> None:
    _first, _second, pair = _pair(db, town, ctx, town="梅田三丁目")
    with db.unit_of_work(town) as uow, pytest.raises(StaleError):
        nayose.dismiss_pair(uow, ctx, nayose.DismissPair(pair.id, pair.version + 5))
    with db.unit_of_work(town) as uow:
        nayose.dismiss_pair(uow, ctx, nayose.DismissPair(pair.id, pair.version, "別人"))
        uow.commit()
    with db.unit_of_work(town) as uow, pytest.raises(ConflictError):
        nayose.link_pair(uow, ctx, nayose.LinkPair(pair.id, pair.version, _first))


def test_two_staff_linking_one_pair_at_once_one_wins(
    backend: Backend, db: Database, town: str, ctx: Context
) -> None:
    first, second, pair = _pair(db, town, ctx, town="梅田三丁目")
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def decide(representative: str) -> None:
        try:
            with db.unit_of_work(town) as uow:
                barrier.wait()
                nayose.link_pair(uow, ctx, nayose.LinkPair(pair.id, pair.version, representative))
                uow.commit()
            outcomes.append("linked")
        except (ConflictError, StaleError):
            outcomes.append("409")
        except Exception as exc:  # SQLite's single writer: "database is locked" is also a loss
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=decide, args=(n,)) for n in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("linked") == 1, outcomes
    with db.unit_of_work(town) as uow:
        assert len(uow.session.scalars(select(NayoseEventRow)).all()) == 1
    if backend.name == "postgres":
        assert sorted(outcomes) == ["409", "linked"]


def test_automatic_link_only_with_my_number_and_all_four(
    db: Database, town: str, ctx: Context
) -> None:
    number = my_number("98320567321")
    with db.unit_of_work(town) as uow:
        a = register.fuban_unattended(uow, ctx, register.Fuban(
            "0", landowner(my_number=number), "t")).atena_number  # fmt: skip
        # same 個人番号, other address: the worklist, not a link
        b = register.fuban_unattended(uow, ctx, register.Fuban(
            "0", landowner(my_number=number, town="梅田三丁目"), "t")).atena_number  # fmt: skip
        uow.commit()
    assert _identities(db, town)[a] == ("", False)
    with db.unit_of_work(town) as uow:
        (item,) = nayose.worklist(uow, ctx, nayose.Worklist())
        assert "個人番号は一致しますが" in item.reason
        # same 個人番号 and all four agree: linked at once, the older number representative
        c = register.fuban_unattended(uow, ctx, register.Fuban(
            "0", landowner(my_number=number), "t")).atena_number  # fmt: skip
        uow.commit()
    ids = _identities(db, town)
    assert ids[c] == (a, False) and ids[a] == (a, True)
    assert b in ids and ids[b][0] in ("", a)
    with db.unit_of_work(town) as uow:
        events = uow.session.scalars(select(NayoseEventRow)).all()
        assert [e.action for e in events] == ["auto_link"]
