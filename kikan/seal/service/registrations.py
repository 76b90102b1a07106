"""登録 (with the 照会書/回答書 step when identity is not confirmed in person) and the lookups
by number, card and person."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kikan.errors import ConflictError, InvalidError, NotFoundError, StaleError
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.sequences import next_value
from kikan.platform.uow import UnitOfWork
from kikan.seal import domain
from kikan.seal.domain import Method, Status
from kikan.seal.module import FUNCTIONS
from kikan.seal.service import commands
from kikan.seal.service.common import (
    IDENTITY_DOCUMENTS,
    add_history,
    audit_operation,
    current_person,
    end_registration,
    guard_protected,
)
from kikan.seal.store import (
    SealRegistrationRow,
)


@dataclass(frozen=True)
class Registered:
    row: SealRegistrationRow
    inquiry_code: str | None  # printed on the 照会書 only; never stored in clear


def _active_of(uow: UnitOfWork, atena_number: str) -> SealRegistrationRow | None:
    return uow.session.scalars(
        select(SealRegistrationRow).where(SealRegistrationRow.active_atena == atena_number)
    ).first()


def _expire_if_due(uow: UnitOfWork, reg: SealRegistrationRow, today: date, actor: str) -> bool:
    """A 照会中 registration whose 回答書 did not come back in time ends as 照会期限切れ."""
    if (
        reg.status == Status.PENDING.value
        and reg.inquiry_deadline is not None
        and today > reg.inquiry_deadline
    ):
        end_registration(reg, Status.EXPIRED, today, "回答書が期限までに提出されませんでした")
        add_history(uow, reg, "照会期限切れ", actor)
        return True
    return False


def _inquiry_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode("utf-8")).hexdigest()


def register(uow: UnitOfWork, ctx: Context, command: commands.Register) -> Registered:
    """印鑑登録の申請: 即日登録 (identity confirmed by a photo ID) issues the card now; 照会回答
    sends a 照会書 and waits for the 回答書 (`answer`)."""
    actor, today = ctx.actor, ctx.today
    atena_number, seal_text, image = command.atena_number, command.seal_text, command.image
    method, identity_document = command.method, command.identity_document
    person = domain.check_eligible(current_person(uow, atena_number), today)
    text = domain.check_seal_text(seal_text, person)
    img = domain.check_image(image)
    if method is Method.IMMEDIATE and identity_document not in IDENTITY_DOCUMENTS:
        raise InvalidError(
            "seal.identity_document",
            "即日登録には写真付きの本人確認書類を指定してください"
            f"（{'、'.join(IDENTITY_DOCUMENTS)}）。",
            "identity_document",
        )
    existing = _active_of(uow, atena_number)
    if existing is not None and not _expire_if_due(uow, existing, today, actor.id):
        raise ConflictError(
            "seal-already-registered",
            "この方は既に印鑑登録されています（照会中を含む）。"
            "登録を変えるには、廃止届の後に改めて申請してください。",
        )
    # an expired registration gives up active_atena (unique index) before the new one claims it
    uow.session.flush()
    immediate = method is Method.IMMEDIATE
    code = None if immediate else secrets.token_hex(5).upper()
    reg = SealRegistrationRow(
        registration_number=next_value(uow, "seal_registration"),
        atena_number=atena_number,
        active_atena=atena_number,
        status=(Status.REGISTERED if immediate else Status.PENDING).value,
        method=method.value,
        identity_document=identity_document if immediate else "",
        card_number=domain.card_number(next_value(uow, "seal_card")) if immediate else None,
        person=dataclasses.asdict(person),
        seal_text=text,
        image=img.data,
        image_type=img.media_type,
        image_sha256=img.sha256,
        inquiry_digest=_inquiry_digest(code) if code else None,
        inquiry_deadline=None if immediate else today + timedelta(days=domain.INQUIRY_DAYS),
        applied_on=today,
        registered_on=today if immediate else None,
        created_by=actor.id,
    )
    uow.session.add(reg)
    try:  # the unique index on active_atena answers a concurrent registration here
        uow.session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same person won
        raise StaleError(
            "seal-already-registered",
            "この方は既に印鑑登録されています（同時に別の申請が処理されました）。",
        ) from exc
    add_history(uow, reg, "登録" if immediate else "照会書発行", actor.id, method.value)
    audit_operation(
        uow,
        actor,
        "change.add",
        FUNCTIONS.entry("seal.audit.register" if immediate else "seal.audit.inquiry_issued"),
        [atena_number],
        registration_number=reg.registration_number,
        method=method.value,
        image_sha256=img.sha256,
    )
    return Registered(reg, code)


def by_number(uow: UnitOfWork, registration_number: int) -> SealRegistrationRow:
    reg = uow.session.scalars(
        select(SealRegistrationRow).where(
            SealRegistrationRow.registration_number == registration_number
        )
    ).first()
    if reg is None:
        raise NotFoundError("seal-not-found", "指定された登録番号の印鑑登録はありません。")
    return reg


def answer(uow: UnitOfWork, ctx: Context, command: commands.Answer) -> SealRegistrationRow:
    """回答書の受理: the registration completes if the 照会番号 matches and the deadline holds."""
    actor, today, inquiry_code = ctx.actor, ctx.today, command.inquiry_code
    reg = by_number(uow, command.registration_number)
    if reg.status != Status.PENDING.value:
        raise ConflictError(
            "seal-not-pending",
            f"この申請は回答を受け付けられる状態ではありません（状態: {reg.status}）。",
        )
    if reg.inquiry_deadline is not None and today > reg.inquiry_deadline:
        raise ConflictError(
            "seal-inquiry-expired",
            f"回答書の提出期限（{reg.inquiry_deadline.isoformat()}）を過ぎています。"
            "改めて登録申請してください。",
        )
    expected = reg.inquiry_digest or ""
    if not hmac.compare_digest(expected, _inquiry_digest(inquiry_code)):
        raise InvalidError(
            "seal.inquiry_code", "照会番号が照会書の番号と一致しません。", "inquiry_code"
        )
    person = current_person(uow, reg.atena_number)
    person = domain.check_eligible(person, today)
    reg.status = Status.REGISTERED.value
    reg.card_number = domain.card_number(next_value(uow, "seal_card"))
    reg.registered_on = today
    reg.inquiry_digest = None
    reg.person = dataclasses.asdict(person)
    reg.version += 1
    reg.updated_at = utcnow()
    add_history(uow, reg, "登録（回答書）", actor.id)
    audit_operation(
        uow,
        actor,
        "change.add",
        FUNCTIONS.entry("seal.audit.inquiry_answered"),
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def by_card(uow: UnitOfWork, card_number: str, *, for_update: bool = False) -> SealRegistrationRow:
    """The registration a presented 印鑑登録証 belongs to, refused if the card is not valid."""
    number = domain.check_card_number(card_number)
    stmt = select(SealRegistrationRow).where(SealRegistrationRow.card_number == number)
    if for_update:
        stmt = stmt.with_for_update()
    reg = uow.session.scalars(stmt).first()
    if reg is None:
        raise NotFoundError("seal-card-unknown", "この印鑑登録証番号の登録はありません。")
    if reg.status == Status.LOST.value:
        raise ConflictError(
            "seal-card-lost", "この印鑑登録証は亡失届により無効です。証明書は交付できません。"
        )
    if reg.status != Status.REGISTERED.value:
        raise ConflictError(
            "seal-card-invalid", f"この印鑑登録証の登録は{reg.status}されているため無効です。"
        )
    return reg


def read_by_card(uow: UnitOfWork, ctx: Context, query: commands.CardRef) -> SealRegistrationRow:
    reg = by_card(uow, query.card_number)
    audit_operation(
        uow, ctx.actor, "inquiry", FUNCTIONS.entry("seal.audit.read_by_card"), [reg.atena_number]
    )
    return reg


def read(uow: UnitOfWork, ctx: Context, query: commands.RegistrationRef) -> SealRegistrationRow:
    """A registration by its number. Persons under 支援措置 are reached only with their card."""
    reg = by_number(uow, query.registration_number)
    guard_protected(uow, ctx.actor, reg.atena_number)
    audit_operation(
        uow, ctx.actor, "inquiry", FUNCTIONS.entry("seal.audit.read"), [reg.atena_number]
    )
    return reg


def find(uow: UnitOfWork, ctx: Context, query: commands.PersonRef) -> list[SealRegistrationRow]:
    actor, atena_number = ctx.actor, query.atena_number
    guard_protected(uow, actor, atena_number)
    rows = list(
        uow.session.scalars(
            select(SealRegistrationRow)
            .where(SealRegistrationRow.atena_number == atena_number)
            .order_by(SealRegistrationRow.registration_number)
        )
    )
    audit_operation(
        uow, actor, "inquiry", FUNCTIONS.entry("seal.audit.find"), [atena_number], found=len(rows)
    )
    return rows
