"""Concurrent 異動 in one municipality, on PostgreSQL (SQLite serialises every writer anyway).

Counters at several windows enter changes at the same moment. These tests start real threads on
the application's PostgreSQL role and check what the register promises: 宛名番号 and 世帯番号 are
handed out without duplicates or gaps, every change has its history row, event and audit record,
an optimistic version stops a lost update, and household changes touching the same pair of
households in opposite order queue instead of deadlocking.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select

from kikan.errors import DomainError, StaleError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.errors import domain_problem
from kikan.platform.ids import is_valid_atena_number
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents import service
from kikan.residents.domain import Address, OtherAddress, PersonInput
from kikan.residents.store import CurrentRow, HistoryRow, HouseholdRow
from tests.conftest import create_tenant

pytestmark = pytest.mark.postgres

T = TypeVar("T")
THREADS = 8
ACTOR = audit.Actor(kind="staff", id="concurrency", terminal="PC-01", place="本庁舎1階 市民課")
PRIOR = OtherAddress(address=Address(prefecture="東京都", city="千代田区", banchi="1番1号"))
GIVEN = ["一郎", "二郎", "三郎", "四郎", "五郎", "六郎", "七郎", "八郎"]


def _ctx() -> Context:
    return Context(actor=ACTOR)


def _address(n: int, katagaki: str = "") -> Address:
    return Address(
        city_code="992011",
        prefecture="架空県",
        city="日和市",
        town="松町一丁目",
        banchi=f"{n}番地",
        katagaki=katagaki,
    )


def _head(given: str, zokugara: str = "世帯主") -> PersonInput:
    return PersonInput(
        family_name="並行",
        given_name=given,
        family_name_kana="ヘイコウ",
        sex="1",
        birth_date="昭和60年1月1日",
        zokugara=zokugara,
    )


def _in_threads(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run `work(i)` in `count` threads released together; return each result or exception."""
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("not run")] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not any(th.is_alive() for th in threads), "a worker hung (deadlock?)"
    return results


def _move_in(db: Database, tenant: str, people: list[PersonInput], n: int) -> service.ChangeResult:
    with db.unit_of_work(tenant) as uow:
        ctx = _ctx()
        result = service.move_in(
            uow,
            ctx,
            service.MoveIn(
                movers=[service.Mover(p) for p in people],
                address=_address(n),
                prior_address=PRIOR,
                move_date=ctx.today - timedelta(days=1),
            ),
        )
        uow.commit()
        return result


def test_eight_counters_move_people_in_at_once_numbers_stay_gap_free(pg_db: Database) -> None:
    tenant = create_tenant(pg_db)
    results = _in_threads(THREADS, lambda i: _move_in(pg_db, tenant, [_head(GIVEN[i])], i + 1))
    done = [r for r in results if isinstance(r, service.ChangeResult)]
    assert len(done) == THREADS, [r for r in results if isinstance(r, BaseException)]
    atenas = [r.atena_numbers[0] for r in done]
    households = [r.household_numbers[0] for r in done]
    assert all(is_valid_atena_number(a) for a in atenas + households)
    assert sorted(int(a[:-1]) for a in atenas) == list(range(1, THREADS + 1))
    assert sorted(int(h[:-1]) for h in households) == list(range(1, THREADS + 1))
    with pg_db.unit_of_work(tenant) as uow:
        history = uow.session.scalars(select(HistoryRow)).all()
        assert sorted((h.atena_number, h.history_no) for h in history) == sorted(
            (a, 1) for a in atenas
        )
        assert {h.atena_number: h.household_number for h in history} == dict(
            zip(atenas, households, strict=True)
        )
        current = uow.session.scalars(select(CurrentRow)).all()
        assert {(c.atena_number, c.history_no, c.version) for c in current} == {
            (a, 1, 1) for a in atenas
        }
        heads = {
            h.household_number: h.head_atena
            for h in uow.session.scalars(select(HouseholdRow)).all()
        }
        assert heads == dict(zip(households, atenas, strict=True))
        events = uow.session.scalars(select(OutboxEventRow).order_by(OutboxEventRow.seq)).all()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert sorted(a for e in events for a in e.payload["atena_numbers"]) == sorted(atenas)
        assert audit.verify_chain(uow).ok


def test_same_version_corrections_one_wins_the_other_gets_409(pg_db: Database) -> None:
    tenant = create_tenant(pg_db)
    atena = _move_in(pg_db, tenant, [_head("太郎")], 1).atena_numbers[0]
    with pg_db.unit_of_work(tenant) as uow:
        _, version = service.latest(uow, atena)
    names = ["太朗", "多郎"]

    def correct(i: int) -> service.ChangeResult:
        with pg_db.unit_of_work(tenant) as uow:
            result = service.correct(
                uow,
                _ctx(),
                service.Correct(
                    atena_number=atena, changes={"given_name": names[i]}, expected_version=version
                ),
            )
            time.sleep(0.2)  # keep the row locked while the other counter tries
            uow.commit()
            return result

    results = _in_threads(2, correct)
    won = [i for i, r in enumerate(results) if isinstance(r, service.ChangeResult)]
    lost = [r for r in results if isinstance(r, StaleError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert domain_problem(lost[0]).status == 409 and "他の処理で更新されています" in str(lost[0])
    with pg_db.unit_of_work(tenant) as uow:
        snap, now = service.latest(uow, atena)
        assert (snap.given_name, now) == (names[won[0]], version + 1)
        rows = uow.session.scalars(select(HistoryRow).where(HistoryRow.atena_number == atena)).all()
        assert sorted((r.history_no, r.reason) for r in rows) == [(1, "国内転入"), (2, "誤記修正")]
        events = uow.session.scalars(select(OutboxEventRow)).all()
        assert len(events) == 2  # the 転入 and the one correction that won


def test_merge_and_change_over_the_same_households_do_not_deadlock(pg_db: Database) -> None:
    tenant = create_tenant(pg_db)
    a = _move_in(pg_db, tenant, [_head("一郎"), _head("花子", "妻")], 1)
    b = _move_in(pg_db, tenant, [_head("二郎"), _head("葉子", "妻")], 1)
    (ha,), (hb,) = a.household_numbers, b.household_numbers
    b_head, b_wife = b.atena_numbers

    def run(i: int) -> service.ChangeResult:
        with pg_db.unit_of_work(tenant) as uow:
            if i == 0:  # B merges into A (locks A, B)
                result = service.merge_households(
                    uow,
                    _ctx(),
                    service.MergeHouseholds(
                        household_number=ha,
                        merging_household_number=hb,
                        zokugara={b_head: "同居人", b_wife: "同居人"},
                        change_date=_ctx().today,
                    ),
                )
            else:  # B's wife joins A (names the households the other way round)
                result = service.change_household(
                    uow,
                    _ctx(),
                    service.ChangeHousehold(
                        household_number=hb,
                        target_household_number=ha,
                        zokugara={b_wife: "同居人"},
                        change_date=_ctx().today,
                    ),
                )
            time.sleep(0.1)
            uow.commit()
            return result

    results = _in_threads(2, run)
    assert isinstance(results[0], service.ChangeResult | DomainError), results
    assert isinstance(results[1], service.ChangeResult | DomainError), results
    assert any(isinstance(r, service.ChangeResult) for r in results)
    with pg_db.unit_of_work(tenant) as uow:
        members = uow.session.scalars(
            select(CurrentRow.atena_number).where(CurrentRow.household_number == ha)
        ).all()
        assert set(a.atena_numbers) | {b_wife} <= set(members)
        rows = uow.session.scalars(select(HistoryRow)).all()
        per_person: dict[str, list[int]] = {}
        for r in rows:
            per_person.setdefault(r.atena_number, []).append(r.history_no)
        assert all(sorted(v) == list(range(1, len(v) + 1)) for v in per_person.values())
