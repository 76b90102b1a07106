"""The transactional outbox: events written in the same transaction as the change they describe.

A committed change always has its event; a rolled-back change never has one. Each event gets a
gap-free position in its tenant's stream (`seq`), which the linkage layer's 差分 cursor follows;
delivery to push channels happens after commit and is tracked by `published_at`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kikan.platform.sequences import next_value
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import UnitOfWork

STREAM = "outbox"


def emit(uow: UnitOfWork, topic: str, payload: dict[str, Any]) -> OutboxEventRow:
    """Record an event in the caller's transaction; it becomes visible only if that commits."""
    row = OutboxEventRow(
        tenant_code=uow.tenant, seq=next_value(uow, STREAM), topic=topic, payload=payload
    )
    uow.session.add(row)
    return row


def events_since(uow: UnitOfWork, after_seq: int, limit: int = 100) -> list[OutboxEventRow]:
    """Events of the scope's tenant with `seq > after_seq`, oldest first."""
    stmt = (
        select(OutboxEventRow)
        .where(OutboxEventRow.seq > after_seq)
        .order_by(OutboxEventRow.seq)
        .limit(limit)
    )
    return list(uow.session.scalars(stmt))
