"""Shared by the 印鑑登録 use cases: the 機能 label, today in Japan, the replica reads, history and
audit entries, ending a registration, and the 支援措置 guard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kikan.errors import RefusedError
from kikan.platform import audit
from kikan.platform.db import utcnow
from kikan.platform.functions import FunctionLabel
from kikan.platform.uow import Database, UnitOfWork
from kikan.seal.domain import Person, Status
from kikan.seal.module import FUNCTIONS
from kikan.seal.store import (
    SealHistoryRow,
    SealPersonRow,
    SealRegistrationRow,
)

#: the module's name in access-log labels (kept for code not yet on the catalogue: replica.py)
FUNCTION = "印鑑登録"


JST = ZoneInfo("Asia/Tokyo")


SYNC_ACTOR = audit.Actor(kind="system", id="kikan.seal.sync")


IDENTITY_DOCUMENTS = (
    "個人番号カード",
    "運転免許証",
    "旅券",
    "在留カード",
    "特別永住者証明書",
    "身体障害者手帳",
    "その他官公署発行の写真付き証明書",
)


def today_jst() -> date:
    return datetime.now(JST).date()


def person_row(uow: UnitOfWork, atena_number: str) -> SealPersonRow | None:
    return uow.session.scalars(
        select(SealPersonRow).where(SealPersonRow.atena_number == atena_number)
    ).first()


def current_person(uow: UnitOfWork, atena_number: str) -> Person | None:
    row = person_row(uow, atena_number)
    if row is None or row.gone:
        return None
    return Person.from_record(row.record)


def is_protected(uow: UnitOfWork, atena_number: str) -> bool:
    row = person_row(uow, atena_number)
    return bool(row and row.protected)


def add_history(
    uow: UnitOfWork,
    reg: SealRegistrationRow,
    event: str,
    actor: str,
    detail: str = "",
    *,
    seq: int | None = None,
) -> None:
    uow.session.add(
        SealHistoryRow(registration_id=reg.id, event=event, detail=detail, seq=seq, actor=actor)
    )


def audit_operation(
    uow: UnitOfWork,
    actor: audit.Actor,
    action: str,
    function: FunctionLabel,
    subjects: Sequence[str],
    *,
    outcome: str = "ok",
    **detail: object,
) -> None:
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="operation",
            action=action,
            outcome=outcome,
            function=function,
            subjects=list(subjects),
            detail=dict(detail),
        ),
    )


def end_registration(reg: SealRegistrationRow, status: Status, today: date, reason: str) -> None:
    reg.status = status.value
    reg.active_atena = None
    reg.ended_on = today
    reg.end_reason = reason[:200]
    reg.version += 1
    reg.updated_at = utcnow()


class ProtectedPerson(RefusedError):
    """Refused: the person is under 支援措置. The caller audits the denial after its unit of work
    has rolled back (see `audit_denial`), so the refusal leaves a trace but no other write."""

    def __init__(self, atena_number: str) -> None:
        super().__init__(
            "support-measure",
            "支援措置対象者のため、この方の印鑑登録は照会できません。"
            "本人が印鑑登録証を提示した場合のみ取り扱えます。",
        )
        self.atena_number = atena_number


def guard_protected(uow: UnitOfWork, actor: audit.Actor, atena_number: str) -> None:
    if is_protected(uow, atena_number):
        raise ProtectedPerson(atena_number)


def audit_denial(db: Database, tenant: str, actor: audit.Actor, exc: ProtectedPerson) -> None:
    audit.append_now(
        db,
        tenant,
        actor,
        audit.AuditEvent(
            category="operation",
            action="denial",
            outcome="denied",
            function=FUNCTIONS.entry("seal.audit.protected"),
            subjects=[exc.atena_number],
        ),
    )
