"""Gap-free per-tenant sequences (宛名番号, 世帯番号, outbox positions …).

A sequence value is taken inside the caller's transaction by locking the counter row: if the
transaction rolls back, so does the increment, so the numbers handed out are gap-free and never
reused. The price is that concurrent takers of the same sequence in one tenant queue behind each
other for the rest of their transaction — correct for numbering residents, and cheap at the
rate one municipality's counters work.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kikan.platform.store import SequenceRow
from kikan.platform.uow import UnitOfWork


def _locked_row(uow: UnitOfWork, name: str) -> SequenceRow:
    """The tenant's counter row for `name`, locked for the rest of the transaction (created at 0
    the first time, race-free: a concurrent creator wins and we lock its row)."""
    stmt = (
        select(SequenceRow)
        .where(SequenceRow.tenant_code == uow.tenant, SequenceRow.name == name)
        .with_for_update()
    )
    row = uow.session.scalars(stmt).first()
    if row is None:
        try:
            with uow.session.begin_nested():
                uow.session.add(SequenceRow(tenant_code=uow.tenant, name=name, last_value=0))
        except IntegrityError:
            pass  # created concurrently; lock the winner's row
        row = uow.session.scalars(stmt).one()
    return row


def next_values(uow: UnitOfWork, name: str, count: int = 1) -> list[int]:
    """Take `count` consecutive values of the tenant's sequence `name` (first value is 1)."""
    if count < 1:
        raise ValueError("count must be positive")
    row = _locked_row(uow, name)
    first = row.last_value + 1
    row.last_value += count
    # written now: callers go on with Core or driver-level writes (COPY) that do not autoflush
    uow.session.flush()
    return list(range(first, first + count))


def advance_past(uow: UnitOfWork, name: str, value: int) -> None:
    """Make the next value handed out greater than `value` (numbers kept from a legacy system
    must never be handed out again). A sequence already further along is left alone."""
    row = _locked_row(uow, name)
    row.last_value = max(row.last_value, value)
    uow.session.flush()  # as in next_values: the counter row is written while it is locked


def next_value(uow: UnitOfWork, name: str) -> int:
    return next_values(uow, name, 1)[0]


def current_value(uow: UnitOfWork, name: str) -> int:
    row = uow.session.scalars(
        select(SequenceRow).where(SequenceRow.tenant_code == uow.tenant, SequenceRow.name == name)
    ).first()
    return row.last_value if row else 0
