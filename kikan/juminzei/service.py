"""Use cases of 個人住民税: one function per use case, `fn(uow, ctx, command)` (ADR 0013).

`uow` is the caller's unit of work (a use case never commits: the caller does, once), `ctx` the
`kikan.platform.context.Context` (who acts, when), `command` one immutable object with the
request. A use case never raises HTTP errors: rule violations are `JuminzeiRuleError` (a
`kikan.errors.DomainError`). Every change is written to the access log in the same transaction,
so there is no change without its record.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kikan.juminzei import domain
from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.store import JuminzeiItemRow
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

#: the access-log label of the module's changes (functions.toml)
FUNCTION = FUNCTIONS.entry("juminzei.record")


@dataclass(frozen=True)
class AddItem:
    label: str


@dataclass(frozen=True)
class ListItems:
    """Every item (no parameters)."""


def add_item(uow: UnitOfWork, ctx: Context, command: AddItem) -> domain.Item:
    row = JuminzeiItemRow(tenant_code=uow.tenant, label=domain.checked_label(command.label))
    uow.session.add(row)
    uow.session.flush()  # the id goes into the access log record
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="create",
            function=FUNCTION,
            detail={"table": "juminzei_items", "id": row.id},
        ),
    )
    return domain.Item(id=row.id, label=row.label)


def list_items(uow: UnitOfWork, ctx: Context, query: ListItems) -> list[domain.Item]:
    rows = uow.session.scalars(select(JuminzeiItemRow).order_by(JuminzeiItemRow.id))
    return [domain.Item(id=r.id, label=r.label) for r in rows]
