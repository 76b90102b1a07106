"""Changes to a registration after it is made: 亡失届, 廃止 (本人 or 職権), 登録事項の変更, and the
reviews the 宛名 feed raised for staff."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from kikan.errors import ConflictError, InvalidError, NotFoundError
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork
from kikan.seal import domain
from kikan.seal.domain import Status
from kikan.seal.module import FUNCTIONS
from kikan.seal.service import commands
from kikan.seal.service.common import (
    add_history,
    audit_operation,
    current_person,
    end_registration,
)
from kikan.seal.service.registrations import by_number
from kikan.seal.store import (
    SealHistoryRow,
    SealRegistrationRow,
    SealReviewRow,
)


def report_lost(
    uow: UnitOfWork, ctx: Context, command: commands.RegistrationRef
) -> SealRegistrationRow:
    """亡失届: the card becomes invalid at once and the registration ends (再登録が必要)."""
    actor, today = ctx.actor, ctx.today
    reg = by_number(uow, command.registration_number)
    if reg.status != Status.REGISTERED.value:
        raise ConflictError(
            "seal-not-registered", f"この印鑑登録は{reg.status}のため亡失届を受け付けられません。"
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


def abolish(uow: UnitOfWork, ctx: Context, command: commands.Abolish) -> SealRegistrationRow:
    """廃止届 (the card is returned with it when the person still has it)."""
    actor, today, card_number = ctx.actor, ctx.today, command.card_number
    reg = by_number(uow, command.registration_number)
    if not Status(reg.status).active:
        raise ConflictError("seal-not-registered", f"この印鑑登録は既に{reg.status}されています。")
    if card_number is not None:
        presented = domain.check_card_number(card_number)
        if presented != reg.card_number:
            raise InvalidError(
                "seal.card_number",
                "返納された印鑑登録証はこの登録のものではありません。",
                "card_number",
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
    uow: UnitOfWork, ctx: Context, command: commands.RegistrationRef
) -> SealRegistrationRow:
    """登録事項変更: take the current 宛名 (氏名・住所 …) into the registration, after staff
    confirmed it. Refused when the seal no longer shows the name: that needs a new seal."""
    actor = ctx.actor
    reg = by_number(uow, command.registration_number)
    if not Status(reg.status).active:
        raise ConflictError(
            "seal-not-registered", f"この印鑑登録は{reg.status}されているため変更できません。"
        )
    person = current_person(uow, reg.atena_number)
    if person is None or not person.is_resident:
        raise ConflictError(
            "seal-not-resident",
            "住民でなくなった方の登録事項は変更できません（職権抹消の対象です）。",
        )
    if not domain.seal_matches(reg.seal_text, person):
        raise ConflictError(
            "seal-text-mismatch",
            "印影の文字が現在の氏名と一致しないため、登録事項変更はできません。"
            "廃止届の後、新しい印鑑で登録してください。",
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


def close_review(uow: UnitOfWork, ctx: Context, command: commands.ReviewRef) -> SealReviewRow:
    actor = ctx.actor
    row = uow.session.get(SealReviewRow, command.review_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError("not-found", "指定された確認事項はありません。")
    if not row.open:
        raise ConflictError("conflict", "この確認事項は既に完了しています。")
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


def reviews(uow: UnitOfWork, ctx: Context, query: commands.OpenReviews) -> list[SealReviewRow]:
    actor = ctx.actor
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
