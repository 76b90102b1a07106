"""The audited reads a screen is pre-filled from: a household (by member or by 世帯番号) and the
one person a 修正 or 取消し screen works on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kikan.errors import DomainError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.errors import KikanError, as_problem
from kikan.platform.uow import UnitOfWork
from kikan.residents import service
from kikan.residents.domain import (
    Snapshot,
)
from kikan.residents.module import FUNCTIONS
from kikan.residents.web.common import Outcome, run
from kikan.web import shell


def household_around(
    db: shell.Database, user: shell.PageUser, ctx: Context, atena: str
) -> tuple[Outcome, list[Snapshot], set[str]]:
    """The household of `atena` for a screen pre-filled from the register (audited read)."""

    def fn(uow: UnitOfWork, ctx: Context) -> tuple[list[Snapshot], set[str]]:
        found = service.detail(uow, ctx, service.PersonRef(atena_number=atena))
        members = service.household_members(uow, found.snapshot.household_number)
        ids = [m.atena_number for m in members]
        audit.append(
            uow,
            ctx.actor,
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function=FUNCTIONS.entry("residents.household_inquiry"),
                screen="異動入力",
                subjects=ids,
                detail={"household": found.snapshot.household_number},
            ),
        )
        return members, service.protected_among(uow, ids)

    outcome = run(db, user, ctx, function=FUNCTIONS.entry("residents.inquiry"), fn=fn)
    if not outcome.ok:
        return outcome, [], set()
    members, protected = outcome.value
    return outcome, members, protected


def household_by_number(
    db: shell.Database, user: shell.PageUser, ctx: Context, number: str
) -> tuple[list[Snapshot], set[str]]:
    if not number:
        return [], set()
    with db.unit_of_work(user.scope) as uow:
        members = service.household_members(uow, number)
        ids = [m.atena_number for m in members]
        protected = service.protected_among(uow, ids)
        if members:
            audit.append(
                uow,
                ctx.actor,
                audit.AuditEvent(
                    category="operation",
                    action="inquiry",
                    function=FUNCTIONS.entry("residents.household_inquiry"),
                    screen="異動入力",
                    subjects=ids,
                    detail={"household": number},
                ),
            )
        uow.commit()
    return members, protected


@dataclass(frozen=True)
class PersonView:
    """The one person a 修正 or 取消し screen works on, as read when the page was drawn."""

    snapshot: Snapshot
    version: int
    #: the 異動 a 取消し would cancel: the newest entry neither cancelled nor a cancellation
    last: Any = None
    #: under 支援措置: the screen flags it like the detail page does
    protected: bool = False


def person_view(db: shell.Database, user: shell.PageUser, ctx: Context, atena: str) -> Outcome:
    """The person for a person screen: an audited 住民照会 read that honours 照会抑止."""

    def fn(uow: UnitOfWork, ctx: Context) -> PersonView:
        found = service.detail(uow, ctx, service.PersonRef(atena_number=atena))
        hist = service.read_history(uow, ctx, service.HistoryQuery(atena_number=atena)).value
        last = next(
            (e for e in reversed(hist) if not e.cancelled and e.cancels_history_no is None), None
        )
        return PersonView(found.snapshot, found.version, last, bool(found.measures))

    try:
        return run(db, user, ctx, function=FUNCTIONS.entry("residents.inquiry"), fn=fn)
    except (KikanError, DomainError) as exc:  # unknown 宛名番号
        problem = as_problem(exc)
        return Outcome(error=problem.detail, item="宛名番号", status=problem.status)
