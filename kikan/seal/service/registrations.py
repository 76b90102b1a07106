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

from kikan.platform import audit
from kikan.platform.db import utcnow
from kikan.platform.errors import ConcurrentUpdate, Conflict, InvalidInput, NotFound
from kikan.platform.sequences import next_value
from kikan.platform.uow import UnitOfWork
from kikan.seal import domain
from kikan.seal.domain import Method, SealRuleError, Status
from kikan.seal.module import FUNCTIONS
from kikan.seal.service.common import (
    IDENTITY_DOCUMENTS,
    add_history,
    audit_operation,
    current_person,
    end_registration,
    guard_protected,
    rule_problem,
    today_jst,
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


def register(
    uow: UnitOfWork,
    actor: audit.Actor,
    *,
    atena_number: str,
    seal_text: str,
    image: bytes,
    method: Method,
    identity_document: str = "",
    today: date | None = None,
) -> Registered:
    """印鑑登録の申請: 即日登録 (identity confirmed by a photo ID) issues the card now; 照会回答
    sends a 照会書 and waits for the 回答書 (`answer`)."""
    today = today or today_jst()
    try:
        person = domain.check_eligible(current_person(uow, atena_number), today)
        text = domain.check_seal_text(seal_text, person)
        img = domain.check_image(image)
    except SealRuleError as exc:
        raise rule_problem(exc) from exc
    if method is Method.IMMEDIATE and identity_document not in IDENTITY_DOCUMENTS:
        raise InvalidInput(
            "即日登録には写真付きの本人確認書類を指定してください"
            f"（{'、'.join(IDENTITY_DOCUMENTS)}）。",
            item="identity_document",
        )
    existing = _active_of(uow, atena_number)
    if existing is not None and not _expire_if_due(uow, existing, today, actor.id):
        raise Conflict(
            "この方は既に印鑑登録されています（照会中を含む）。"
            "登録を変えるには、廃止届の後に改めて申請してください。",
            slug="seal-already-registered",
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
        raise ConcurrentUpdate(
            "この方は既に印鑑登録されています（同時に別の申請が処理されました）。",
            slug="seal-already-registered",
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
        raise NotFound("指定された登録番号の印鑑登録はありません。", slug="seal-not-found")
    return reg


def answer(
    uow: UnitOfWork,
    actor: audit.Actor,
    registration_number: int,
    *,
    inquiry_code: str,
    today: date | None = None,
) -> SealRegistrationRow:
    """回答書の受理: the registration completes if the 照会番号 matches and the deadline holds."""
    today = today or today_jst()
    reg = by_number(uow, registration_number)
    if reg.status != Status.PENDING.value:
        raise Conflict(
            f"この申請は回答を受け付けられる状態ではありません（状態: {reg.status}）。",
            slug="seal-not-pending",
        )
    if reg.inquiry_deadline is not None and today > reg.inquiry_deadline:
        raise Conflict(
            f"回答書の提出期限（{reg.inquiry_deadline.isoformat()}）を過ぎています。"
            "改めて登録申請してください。",
            slug="seal-inquiry-expired",
        )
    expected = reg.inquiry_digest or ""
    if not hmac.compare_digest(expected, _inquiry_digest(inquiry_code)):
        raise InvalidInput("照会番号が照会書の番号と一致しません。", item="inquiry_code")
    person = current_person(uow, reg.atena_number)
    try:
        person = domain.check_eligible(person, today)
    except SealRuleError as exc:
        raise rule_problem(exc) from exc
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
    try:
        number = domain.check_card_number(card_number)
    except SealRuleError as exc:
        raise rule_problem(exc) from exc
    stmt = select(SealRegistrationRow).where(SealRegistrationRow.card_number == number)
    if for_update:
        stmt = stmt.with_for_update()
    reg = uow.session.scalars(stmt).first()
    if reg is None:
        raise NotFound("この印鑑登録証番号の登録はありません。", slug="seal-card-unknown")
    if reg.status == Status.LOST.value:
        raise Conflict(
            "この印鑑登録証は亡失届により無効です。証明書は交付できません。",
            slug="seal-card-lost",
        )
    if reg.status != Status.REGISTERED.value:
        raise Conflict(
            f"この印鑑登録証の登録は{reg.status}されているため無効です。",
            slug="seal-card-invalid",
        )
    return reg


def read_by_card(uow: UnitOfWork, actor: audit.Actor, card_number: str) -> SealRegistrationRow:
    reg = by_card(uow, card_number)
    audit_operation(
        uow, actor, "inquiry", FUNCTIONS.entry("seal.audit.read_by_card"), [reg.atena_number]
    )
    return reg


def read(uow: UnitOfWork, actor: audit.Actor, registration_number: int) -> SealRegistrationRow:
    """A registration by its number. Persons under 支援措置 are reached only with their card."""
    reg = by_number(uow, registration_number)
    guard_protected(uow, actor, reg.atena_number)
    audit_operation(uow, actor, "inquiry", FUNCTIONS.entry("seal.audit.read"), [reg.atena_number])
    return reg


def find(uow: UnitOfWork, actor: audit.Actor, atena_number: str) -> list[SealRegistrationRow]:
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
