"""Changes to a registration after it is made: 亡失届, 廃止 (本人 or 職権), 登録事項の変更, and the
reviews the 宛名 feed raised for staff."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import select

from kikan.platform import audit
from kikan.platform.db import utcnow
from kikan.platform.errors import Conflict, InvalidInput, NotFound
from kikan.platform.uow import UnitOfWork
from kikan.seal import domain
from kikan.seal.domain import SealRuleError, Status
from kikan.seal.module import FUNCTIONS
from kikan.seal.service.common import (
    add_history,
    audit_operation,
    current_person,
    end_registration,
    rule_problem,
    today_jst,
)
from kikan.seal.service.registrations import by_number
from kikan.seal.store import (
    SealHistoryRow,
    SealRegistrationRow,
    SealReviewRow,
)


def report_lost(
    uow: UnitOfWork, actor: audit.Actor, registration_number: int, *, today: date | None = None
) -> SealRegistrationRow:
    """亡失届: the card becomes invalid at once and the registration ends (再登録が必要)."""
    today = today or today_jst()
    reg = by_number(uow, registration_number)
    if reg.status != Status.REGISTERED.value:
        raise Conflict(
            f"この印鑑登録は{reg.status}のため亡失届を受け付けられません。",
            slug="seal-not-registered",
        )
    end_registration(reg, Status.LOST, today, "印鑑登録証亡失届")
    add_history(uow, reg, "亡失", actor.id)
    audit_operation(
        uow,
        actor,
        "change.modify",
        FUNCTIONS.entry("seal.audit.lost"),
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def abolish(
    uow: UnitOfWork,
    actor: audit.Actor,
    registration_number: int,
    *,
    card_number: str | None = None,
    today: date | None = None,
) -> SealRegistrationRow:
    """廃止届 (the card is returned with it when the person still has it)."""
    today = today or today_jst()
    reg = by_number(uow, registration_number)
    if not Status(reg.status).active:
        raise Conflict(f"この印鑑登録は既に{reg.status}されています。", slug="seal-not-registered")
    if card_number is not None:
        try:
            presented = domain.check_card_number(card_number)
        except SealRuleError as exc:
            raise rule_problem(exc) from exc
        if presented != reg.card_number:
            raise InvalidInput(
                "返納された印鑑登録証はこの登録のものではありません。", item="card_number"
            )
    end_registration(reg, Status.ABOLISHED, today, "廃止届")
    add_history(uow, reg, "廃止", actor.id)
    audit_operation(
        uow,
        actor,
        "change.modify",
        FUNCTIONS.entry("seal.audit.abolish"),
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def change_particulars(
    uow: UnitOfWork, actor: audit.Actor, registration_number: int
) -> SealRegistrationRow:
    """登録事項変更: take the current 宛名 (氏名・住所 …) into the registration, after staff
    confirmed it. Refused when the seal no longer shows the name: that needs a new seal."""
    reg = by_number(uow, registration_number)
    if not Status(reg.status).active:
        raise Conflict(
            f"この印鑑登録は{reg.status}されているため変更できません。",
            slug="seal-not-registered",
        )
    person = current_person(uow, reg.atena_number)
    if person is None or not person.is_resident:
        raise Conflict(
            "住民でなくなった方の登録事項は変更できません（職権抹消の対象です）。",
            slug="seal-not-resident",
        )
    if not domain.seal_matches(reg.seal_text, person):
        raise Conflict(
            "印影の文字が現在の氏名と一致しないため、登録事項変更はできません。"
            "廃止届の後、新しい印鑑で登録してください。",
            slug="seal-text-mismatch",
        )
    reg.person = dataclasses.asdict(person)
    reg.version += 1
    reg.updated_at = utcnow()
    for review in open_reviews(uow, reg.id):
        review.open = False
        review.closed_by = actor.id
    add_history(uow, reg, "登録事項変更", actor.id)
    audit_operation(
        uow,
        actor,
        "change.modify",
        FUNCTIONS.entry("seal.audit.particulars"),
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def open_reviews(uow: UnitOfWork, registration_id: int) -> list[SealReviewRow]:
    return list(
        uow.session.scalars(
            select(SealReviewRow).where(
                SealReviewRow.registration_id == registration_id, SealReviewRow.open.is_(True)
            )
        )
    )


def close_review(uow: UnitOfWork, actor: audit.Actor, review_id: int) -> SealReviewRow:
    row = uow.session.get(SealReviewRow, review_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFound("指定された確認事項はありません。")
    if not row.open:
        raise Conflict("この確認事項は既に完了しています。")
    row.open = False
    row.closed_by = actor.id
    audit_operation(
        uow,
        actor,
        "change.modify",
        FUNCTIONS.entry("seal.audit.review_closed"),
        [row.atena_number],
        review=row.id,
    )
    return row


def reviews(uow: UnitOfWork, actor: audit.Actor) -> list[SealReviewRow]:
    rows = list(
        uow.session.scalars(
            select(SealReviewRow).where(SealReviewRow.open.is_(True)).order_by(SealReviewRow.id)
        )
    )
    audit_operation(
        uow,
        actor,
        "inquiry",
        FUNCTIONS.entry("seal.audit.reviews"),
        sorted({r.atena_number for r in rows}),
    )
    return rows


def history(uow: UnitOfWork, reg: SealRegistrationRow) -> list[SealHistoryRow]:
    return list(
        uow.session.scalars(
            select(SealHistoryRow)
            .where(SealHistoryRow.registration_id == reg.id)
            .order_by(SealHistoryRow.id)
        )
    )
