"""The residents bulk API writes what the use cases would write (both backends): history 1 with
the full snapshot, projection, name keys, households and heads, encrypted My Numbers, one audit
record and one outbox event per batch, and the register keeps working with the use cases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from kikan.migration.synth import synth_to_db
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents import service
from kikan.residents.domain import PersonInput
from kikan.residents.store import (
    CurrentRow,
    HistoryRow,
    HouseholdRow,
    NameKeyRow,
    SupportMeasureRow,
)
from tests.conftest import create_tenant

POPULATION = 400
CHUNK = 150


def test_synthetic_city_is_a_register_the_use_cases_accept(db: Database, ctx: Context) -> None:
    tenant = create_tenant(db, "合成市")
    assert synth_to_db(db, tenant, POPULATION, 4, ctx=ctx, chunk=CHUNK) == POPULATION
    with db.unit_of_work(tenant) as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(CurrentRow)) == POPULATION
        assert s.scalar(select(func.count()).where(HistoryRow.history_no == 1)) == POPULATION
        assert s.scalar(select(func.count()).where(HistoryRow.history_no != 1)) == 0
        assert s.scalar(select(func.count(func.distinct(NameKeyRow.atena_number)))) == POPULATION
        households = s.scalars(select(HouseholdRow)).all()
        heads = {h.household_number: h.head_atena for h in households}
        assert all(heads.values())  # every synthetic household has its 世帯主
        for cur in s.scalars(select(CurrentRow).limit(60)):
            snap, version = service.latest(uow, cur.atena_number)
            assert version == 1 and snap.atena_number == cur.atena_number
            assert snap.household_number in heads
            if snap.is_head:
                assert heads[snap.household_number] == cur.atena_number
            if snap.my_number_token:
                assert ctx.keyring is not None
                number = ctx.keyring.decrypt_my_number(snap.my_number_token, context=tenant)
                assert cur.mynumber_index == ctx.keyring.blind_index(
                    number.reveal(), context=tenant
                )
                row = s.scalars(
                    select(HistoryRow).where(HistoryRow.atena_number == cur.atena_number)
                ).one()
                assert number.reveal() not in str(row.snapshot)  # encrypted, never in clear
        audits = s.scalars(
            select(AuditRecordRow).where(AuditRecordRow.action == "batch.update")
        ).all()
        events = s.scalars(select(OutboxEventRow).order_by(OutboxEventRow.seq)).all()
        protected = set(s.scalars(select(SupportMeasureRow.atena_number)))
        assert audit.verify_chain(uow).ok
        uow.commit()
    chunks = -(-POPULATION // CHUNK)
    assert len(audits) == chunks and sum(a.detail["count"] for a in audits) == POPULATION
    assert all(a.subjects == [] for a in audits)  # the count, not one subject per person
    assert len(events) == chunks
    listed = [a for e in events for a in e.payload["atena_numbers"]]
    assert len(listed) == len(set(listed)) == POPULATION
    assert protected and {a for e in events for a in e.payload["support_measure"]} == protected

    # the use cases work on the synthesized register: search, 出生 into a household, 転居
    with db.unit_of_work(tenant) as uow:
        rows, total, _ = service.search(uow, ctx, service.SearchCriteria(kana="サトウ"))
        assert total >= 1 and all(r.full_kana.startswith("サトウ") for r in rows)
        household = next(h for h in heads)
        result = service.record_birth(
            uow,
            ctx,
            service.RecordBirth(
                household_number=household,
                person=PersonInput(
                    family_name="合成",
                    given_name="誕生",
                    sex="1",
                    birth_date=(ctx.today - timedelta(days=3)).isoformat(),
                    zokugara="子",
                ),
            ),
        )
        uow.commit()
    with db.unit_of_work(tenant) as uow:
        members = service.household_members(uow, household)
        assert result.atena_numbers[0] in {m.atena_number for m in members}
        assert int(result.atena_numbers[0][:-1]) > POPULATION  # numbering continues after bulk
