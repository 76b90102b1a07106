"""The demo seeder: realistic, deterministic, and written only through the use cases.

Seeding goes through `service`, so these checks double as a smoke test of the register: if a
use case starts refusing realistic input, the demo breaks here first.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from kikan.platform import audit
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents.demo import BASE_DATE, seed_residents
from kikan.residents.domain import HEAD, Status
from kikan.residents.store import CurrentRow, HistoryRow, HouseholdRow, SupportMeasureRow
from tests.conftest import create_tenant

COUNT = 120
ACTIVE = [Status.RESIDENT.value, Status.MOVING_OUT.value]
RARE = ("𠮷", "髙", "﨑", "邉", "齋")
IVS = "\U000e010f"


def _names(db: Database, tenant: str) -> list[str]:
    with db.unit_of_work(tenant) as uow:
        return list(
            uow.session.scalars(select(CurrentRow.full_name).order_by(CurrentRow.atena_number))
        )


def test_demo_seed_is_realistic_deterministic_and_audited(db: Database) -> None:
    tenant = create_tenant(db, "日和市")
    active = seed_residents(db, tenant, count=COUNT)
    assert COUNT <= active < COUNT + 10  # the last household may overshoot a little

    with db.unit_of_work(tenant) as uow:
        rows = uow.session.scalars(select(CurrentRow)).all()
        live = [r for r in rows if r.status in ACTIVE]
        assert len(live) == active

        heads: Counter[str] = Counter(r.household_number for r in live if r.zokugara == HEAD)
        assert heads and max(heads.values()) == 1
        households = uow.session.scalars(select(HouseholdRow).where(HouseholdRow.active)).all()
        for h in households:
            assert h.head_atena is None or heads[h.household_number] == 1

        names = " ".join(r.full_name for r in rows)
        assert any(ch in names for ch in RARE)
        assert IVS in names  # 渡邉 with an IVS selector survives the whole path

        foreign = [r for r in live if r.resident_kind == "2"]
        assert foreign

        zokugara = {r.zokugara for r in live}
        assert {"世帯主", "妻", "子"} <= zokugara
        assert zokugara & {"子の妻", "子の子", "母"}

        histories = uow.session.scalars(select(HistoryRow)).all()
        reasons = Counter(h.reason for h in histories)
        assert {"国内転入", "出生"} <= set(reasons)
        assert max(r.history_no for r in rows) >= 2
        assert all(h.valid_from <= BASE_DATE for h in histories)
        assert all(h.recorded_at.date() <= BASE_DATE for h in histories)

        measures = uow.session.scalar(select(func.count()).select_from(SupportMeasureRow))
        assert measures == 1

        result = audit.verify_chain(uow)
        assert result.ok, result.problem
        # one audit record and one outbox event per use case, nothing written around them
        events = uow.session.scalar(select(func.count()).select_from(OutboxEventRow))
        assert result.checked == events > len(households)

    # same seed on a second fresh tenant: the same people in the same order
    other = create_tenant(db, "日和市")
    assert seed_residents(db, other, count=COUNT) == active
    assert _names(db, other) == _names(db, tenant)


def test_a_different_seed_gives_different_people(db: Database) -> None:
    first, second = create_tenant(db), create_tenant(db)
    seed_residents(db, first, count=20, seed=1)
    seed_residents(db, second, count=20, seed=2)
    assert _names(db, first) != _names(db, second)
