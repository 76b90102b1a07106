"""Random sequences of 異動 through the service layer keep the register's invariants.

The scenario tests check stories we thought of; this machine checks the orders we did not:
転入, 出生, 転居, 転出予定/確定, 死亡, 世帯主変更, 誤記修正 and 異動取消 in any sequence, on one
fresh tenant per example. After every step the invariants are read back from the database:

- every active household has at most one 世帯主, and `residents_households.head_atena` is that
  member (or NULL when the household is 世帯主不在);
- 履歴番号 are 1..n without gaps per person and `residents_current.history_no == n`;
- `recorded_at` never decreases along 履歴番号;
- no active person belongs to an inactive (or unknown) household;
- the outbox `seq` of the tenant is gap-free.

A rule whose use case refuses (a DomainError: invalid, conflict, not found) must leave nothing
written: the row counts of every table it touches are compared before and after.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from kikan.errors import DomainError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database, UnitOfWork
from kikan.residents import service
from kikan.residents.domain import (
    HEAD,
    Address,
    Honseki,
    OtherAddress,
    PersonInput,
    Status,
)
from kikan.residents.store import CurrentRow, HistoryRow, HouseholdRow, SupportMeasureRow
from tests.conftest import create_tenant

ACTOR = audit.Actor(kind="system", id="hypothesis")
START = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # a fixed clock in the past: 処理日 advance per step
ACTIVE = (Status.RESIDENT.value, Status.MOVING_OUT.value)
MEMBER_ZOKUGARA = ["妻", "子", "子", "父", "母", "子の妻", "子の子", "妻の子", "同居人", "縁故者"]
FAMILIES = [("青木", "アオキ"), ("𠮷田", "ヨシダ"), ("髙橋", "タカハシ"), ("中村", "ナカムラ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("桜", "サクラ")]
TABLES = (HistoryRow, CurrentRow, HouseholdRow, SupportMeasureRow, OutboxEventRow, AuditRecordRow)
REFUSALS = (DomainError,)  # every refusal of a use case (ADR 0013)


@dataclass(frozen=True)
class Person:
    atena_number: str
    household_number: str


def _counts(uow: UnitOfWork) -> dict[str, int]:
    return {
        t.__tablename__: uow.session.scalar(select(func.count()).select_from(t)) or 0
        for t in TABLES
    }


def make_machine(db: Database, outcomes: Counter[tuple[str, str]]) -> type[RuleBasedStateMachine]:
    """The machine class bound to one database (hypothesis instantiates it per example);
    `outcomes` counts (rule, ok|refused) so the test can tell a vacuous run from a real one."""

    class ResidentRegister(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.tenant = create_tenant(db)
            self.step = 0
            self.serial = count(1)

        # -- helpers

        def ctx(self) -> Context:
            self.step += 1
            return Context(actor=ACTOR, now=START + timedelta(days=self.step, minutes=1))

        def today(self) -> date:
            return (START + timedelta(days=self.step)).date()

        def person(self, zokugara: str, birth: date) -> PersonInput:
            n = next(self.serial)
            family, family_kana = FAMILIES[n % len(FAMILIES)]
            given, given_kana = GIVEN[n % len(GIVEN)]
            # a unique birth date per person: no accidental 再転入 match on the basic facts
            return PersonInput(
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                sex="1" if n % 2 else "2",
                birth_date=(birth - timedelta(days=n)).isoformat(),
                zokugara=zokugara,
                honseki=Honseki(prefecture="架空県", city="日和市", town="本町", chiban="1番地"),
            )

        def address(self) -> Address:
            n = next(self.serial)
            return Address(
                city_code="992011",
                town_code="0010001",
                prefecture="架空県",
                city="日和市",
                town="本町一丁目",
                banchi=f"{n}番{n % 7 + 1}号",
            )

        def run(self, name: str, use_case: Callable[[UnitOfWork, Context], Any]) -> bool:
            """Run one use case in its own unit of work; a refusal must write nothing."""

            with db.unit_of_work(self.tenant) as uow:
                before = _counts(uow)
            try:
                with db.unit_of_work(self.tenant) as uow:
                    use_case(uow, self.ctx())
                    uow.commit()
            except REFUSALS:
                with db.unit_of_work(self.tenant) as uow:
                    assert _counts(uow) == before
                outcomes[name, "refused"] += 1
                return False
            outcomes[name, "ok"] += 1
            return True

        def people(self, *statuses: str) -> list[Person]:
            with db.unit_of_work(self.tenant) as uow:
                return [
                    Person(r.atena_number, r.household_number)
                    for r in uow.session.scalars(
                        select(CurrentRow)
                        .where(CurrentRow.status.in_(statuses))
                        .order_by(CurrentRow.atena_number)
                    )
                ]

        def households(self, *, headless: bool = False) -> list[str]:
            with db.unit_of_work(self.tenant) as uow:
                stmt = select(HouseholdRow.household_number).where(HouseholdRow.active)
                if headless:
                    stmt = stmt.where(HouseholdRow.head_atena.is_(None))
                return sorted(uow.session.scalars(stmt))

        # -- rules

        @initialize(zokugara=st.lists(st.sampled_from(MEMBER_ZOKUGARA), min_size=1, max_size=3))
        def first_household(self, zokugara: list[str]) -> None:
            """Start from a household so that the other rules have someone to act on."""
            self.move_in(zokugara, 0)

        @rule(
            zokugara=st.lists(st.sampled_from(MEMBER_ZOKUGARA), max_size=3),
            days_ago=st.integers(0, 10),
        )
        def move_in(self, zokugara: list[str], days_ago: int) -> None:
            people = [self.person(HEAD, date(1980, 6, 1))] + [
                self.person(z, date(2010, 6, 1) if "子" in z else date(1955, 6, 1))
                for z in zokugara
            ]
            address = self.address()
            moved = self.today() - timedelta(days=days_ago)
            self.run(
                "move_in",
                lambda uow, ctx: service.move_in(
                    uow,
                    ctx,
                    service.MoveIn(
                        movers=[service.Mover(p) for p in people],
                        address=address,
                        prior_address=OtherAddress(
                            address=Address(prefecture="東京都", city="千代田区", banchi="1番1号")
                        ),
                        move_date=moved,
                    ),
                ),
            )

        @rule(data=st.data(), days_ago=st.integers(0, 20))
        def birth(self, data: st.DataObject, days_ago: int) -> None:
            households = self.households()
            if not households:
                return
            household = data.draw(st.sampled_from(households))
            child = self.person("子", self.today() - timedelta(days=days_ago))
            self.run(
                "birth",
                lambda uow, ctx: service.record_birth(
                    uow, ctx, service.RecordBirth(household_number=household, person=child)
                ),
            )

        @rule(data=st.data())
        def move_within(self, data: st.DataObject) -> None:
            households = self.households()
            if not households:
                return
            household = data.draw(st.sampled_from(households))
            address = self.address()
            today = self.today()
            self.run(
                "move_within",
                lambda uow, ctx: service.move_within(
                    uow,
                    ctx,
                    service.MoveWithin(
                        household_number=household, address=address, move_date=today
                    ),
                ),
            )

        @rule(data=st.data(), planned_in=st.integers(0, 20), whole=st.booleans())
        def plan_move_out(self, data: st.DataObject, planned_in: int, whole: bool) -> None:
            residents = self.people(Status.RESIDENT.value)
            if not residents:
                return
            someone = data.draw(st.sampled_from(residents))
            leaving = (
                [
                    r.atena_number
                    for r in residents
                    if r.household_number == someone.household_number
                ]
                if whole
                else [someone.atena_number]
            )
            today = self.today()
            self.run(
                "plan_move_out",
                lambda uow, ctx: service.plan_move_out(
                    uow,
                    ctx,
                    service.PlanMoveOut(
                        atena_numbers=leaving,
                        destination=OtherAddress(
                            address=Address(prefecture="大阪府", city="大阪市北区", banchi="2番2号")
                        ),
                        planned_date=today + timedelta(days=planned_in),
                        notified_date=today,
                    ),
                ),
            )

        @rule(data=st.data())
        def confirm_move_out(self, data: st.DataObject) -> None:
            leaving = self.people(Status.MOVING_OUT.value)
            if not leaving:
                return
            person = data.draw(st.sampled_from(leaving))
            today = self.today()
            self.run(
                "confirm_move_out",
                lambda uow, ctx: service.confirm_move_out(
                    uow,
                    ctx,
                    service.ConfirmMoveOut(atena_numbers=[person.atena_number], moved_date=today),
                ),
            )

        @rule(data=st.data())
        def death(self, data: st.DataObject) -> None:
            living = self.people(*ACTIVE)
            if not living:
                return
            person = data.draw(st.sampled_from(living))
            today = self.today()
            self.run(
                "death",
                lambda uow, ctx: service.record_death(
                    uow,
                    ctx,
                    service.RecordDeath(atena_number=person.atena_number, death_date=today),
                ),
            )

        @rule(data=st.data())
        def change_head(self, data: st.DataObject) -> None:
            headless = self.households(headless=True)
            if not headless:
                return
            household = data.draw(st.sampled_from(headless))
            members = [r for r in self.people(*ACTIVE) if r.household_number == household]
            if not members:
                return
            new_head = data.draw(st.sampled_from(members))
            today = self.today()
            self.run(
                "change_head",
                lambda uow, ctx: service.change_head(
                    uow,
                    ctx,
                    service.ChangeHead(
                        household_number=household,
                        zokugara={new_head.atena_number: HEAD},
                        change_date=today,
                    ),
                ),
            )

        @rule(data=st.data(), kana=st.sampled_from(["タロウ", "ハナコ", "ジロウ"]))
        def correct(self, data: st.DataObject, kana: str) -> None:
            living = self.people(*ACTIVE)
            if not living:
                return
            person = data.draw(st.sampled_from(living))
            self.run(
                "correct",
                lambda uow, ctx: service.correct(
                    uow,
                    ctx,
                    service.Correct(
                        atena_number=person.atena_number, changes={"given_name_kana": kana}
                    ),
                ),
            )

        @rule(data=st.data())
        def cancel_last(self, data: st.DataObject) -> None:
            everyone = self.people(*ACTIVE, Status.MOVED_OUT.value, Status.DEAD.value)
            if not everyone:
                return
            person = data.draw(st.sampled_from(everyone))
            self.run(
                "cancel_last",
                lambda uow, ctx: service.cancel_last(
                    uow, ctx, service.CancelLast(atena_number=person.atena_number)
                ),
            )

        @rule(data=st.data())
        def refused_second_head(self, data: st.DataObject) -> None:
            """A 転入 joining a household as a second 世帯主 is refused and writes nothing."""
            households = [h for h in self.households() if h not in self.households(headless=True)]
            if not households:
                return
            household = data.draw(st.sampled_from(households))
            head = self.person(HEAD, date(1970, 1, 1))
            today = self.today()
            assert not self.run(
                "refused_second_head",
                lambda uow, ctx: service.move_in(
                    uow,
                    ctx,
                    service.MoveIn(
                        movers=[service.Mover(head)],
                        address=self.address(),
                        prior_address=OtherAddress(
                            address=Address(prefecture="東京都", city="千代田区", banchi="1番1号")
                        ),
                        move_date=today,
                        join_household=household,
                    ),
                ),
            )

        @rule(data=st.data())
        def refused_removed_or_stale(self, data: st.DataObject) -> None:
            """死亡 of someone already removed, or with a stale version (409), is refused."""
            everyone = self.people(*ACTIVE, Status.MOVED_OUT.value, Status.DEAD.value)
            if not everyone:
                return
            person = data.draw(st.sampled_from(everyone))
            removed = person.atena_number not in {p.atena_number for p in self.people(*ACTIVE)}
            today = self.today()
            assert not self.run(
                "refused_removed_or_stale",
                lambda uow, ctx: service.record_death(
                    uow,
                    ctx,
                    service.RecordDeath(
                        atena_number=person.atena_number,
                        death_date=today,
                        expected_version=None if removed else 0,
                    ),
                ),
            )

        # -- invariants

        @invariant()
        def households_have_at_most_one_matching_head(self) -> None:
            with db.unit_of_work(self.tenant) as uow:
                rows = uow.session.scalars(select(CurrentRow)).all()
                households = {
                    h.household_number: h for h in uow.session.scalars(select(HouseholdRow))
                }
                self._check_heads(rows, households)

        def _check_heads(
            self, rows: Sequence[CurrentRow], households: dict[str, HouseholdRow]
        ) -> None:
            active = [r for r in rows if r.status in ACTIVE]
            heads = Counter(r.household_number for r in active if r.zokugara == HEAD)
            assert max(heads.values(), default=0) <= 1, heads
            for number, h in households.items():
                members = [r for r in active if r.household_number == number]
                head = [r.atena_number for r in members if r.zokugara == HEAD]
                if h.active:
                    assert h.head_atena == (head[0] if head else None), (number, h.head_atena)
                else:
                    assert not members, f"active members in inactive household {number}"
            for r in active:
                assert r.household_number in households, r.household_number
                assert households[r.household_number].active, r.household_number

        @invariant()
        def history_numbers_are_gap_free_and_time_ordered(self) -> None:
            with db.unit_of_work(self.tenant) as uow:
                current = {
                    r.atena_number: r.history_no for r in uow.session.scalars(select(CurrentRow))
                }
                by_person: dict[str, list[tuple[int, datetime]]] = {}
                for row in uow.session.execute(
                    select(
                        HistoryRow.atena_number, HistoryRow.history_no, HistoryRow.recorded_at
                    ).order_by(HistoryRow.atena_number, HistoryRow.history_no)
                ):
                    by_person.setdefault(row[0], []).append((row[1], row[2]))
            assert set(by_person) == set(current)
            for atena, history in by_person.items():
                numbers = [h[0] for h in history]
                assert numbers == list(range(1, len(history) + 1)), (atena, numbers)
                assert current[atena] == len(history), atena
                times = [h[1] for h in history]
                assert times == sorted(times), atena

        @invariant()
        def outbox_is_gap_free(self) -> None:
            with db.unit_of_work(self.tenant) as uow:
                seqs = list(
                    uow.session.scalars(select(OutboxEventRow.seq).order_by(OutboxEventRow.seq))
                )
            assert seqs == list(range(1, len(seqs) + 1))

    return ResidentRegister


def test_random_sequences_of_changes_keep_the_invariants(db: Database) -> None:
    # fewer examples on PostgreSQL: each step is a handful of round trips to the server
    examples = 8 if db.is_postgres else 25
    outcomes: Counter[tuple[str, str]] = Counter()
    run_state_machine_as_test(
        make_machine(db, outcomes),
        settings=settings(
            max_examples=examples,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            # the same sequences every run: a random draw once missed every successful 出生
            # (CI 2026-12-08) and failed the coverage check below without any fault in the code
            derandomize=True,
        ),
    )
    # the machine must really have exercised the use cases, not only refused or skipped them
    done = {rule for rule, outcome in outcomes if outcome == "ok"}
    assert {"move_in", "birth", "move_within", "death", "correct"} <= done, outcomes
    refused = {rule for rule, outcome in outcomes if outcome == "refused"}
    assert {"refused_second_head", "refused_removed_or_stale"} <= refused, outcomes
