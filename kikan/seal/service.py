"""印鑑登録 use cases. Each takes the caller's unit of work and never commits: the endpoint, CLI
command or sync page commits once, or nothing is written.

Persons are read only from this module's 宛名 replica (`seal_persons`), which the sync fills from
the 庁内データ連携 API; the resident register itself is never read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kikan.platform import audit, issuance, tenancy
from kikan.platform.db import utcnow
from kikan.platform.errors import ConcurrentUpdate, Conflict, Forbidden, InvalidInput, NotFound
from kikan.platform.sequences import next_value
from kikan.platform.uow import Database, UnitOfWork
from kikan.seal import certificate, domain
from kikan.seal.domain import Method, Person, ReactionKind, SealRuleError, Status
from kikan.seal.store import (
    SealHistoryRow,
    SealLinkRow,
    SealPersonRow,
    SealRegistrationRow,
    SealReviewRow,
)

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


def _rule(exc: SealRuleError) -> InvalidInput:
    return InvalidInput(exc.message, item=exc.item, code=exc.code)


# ---------------------------------------------------------------- the replica


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


# ---------------------------------------------------------------- registrations


@dataclass(frozen=True)
class Registered:
    row: SealRegistrationRow
    inquiry_code: str | None  # printed on the 照会書 only; never stored in clear


def _history(
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


def _audit(
    uow: UnitOfWork,
    actor: audit.Actor,
    action: str,
    function: str,
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
            function=f"{FUNCTION}：{function}",
            subjects=list(subjects),
            detail=dict(detail),
        ),
    )


def _active_of(uow: UnitOfWork, atena_number: str) -> SealRegistrationRow | None:
    return uow.session.scalars(
        select(SealRegistrationRow).where(SealRegistrationRow.active_atena == atena_number)
    ).first()


def _end(reg: SealRegistrationRow, status: Status, today: date, reason: str) -> None:
    reg.status = status.value
    reg.active_atena = None
    reg.ended_on = today
    reg.end_reason = reason[:200]
    reg.version += 1
    reg.updated_at = utcnow()


def _expire_if_due(uow: UnitOfWork, reg: SealRegistrationRow, today: date, actor: str) -> bool:
    """A 照会中 registration whose 回答書 did not come back in time ends as 照会期限切れ."""
    if (
        reg.status == Status.PENDING.value
        and reg.inquiry_deadline is not None
        and today > reg.inquiry_deadline
    ):
        _end(reg, Status.EXPIRED, today, "回答書が期限までに提出されませんでした")
        _history(uow, reg, "照会期限切れ", actor)
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
        raise _rule(exc) from exc
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
    try:
        uow.session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same person won
        raise ConcurrentUpdate(
            "この方は既に印鑑登録されています（同時に別の申請が処理されました）。",
            slug="seal-already-registered",
        ) from exc
    _history(uow, reg, "登録" if immediate else "照会書発行", actor.id, method.value)
    _audit(
        uow,
        actor,
        "change.add",
        "登録" if immediate else "照会書発行",
        [atena_number],
        registration_number=reg.registration_number,
        method=method.value,
        image_sha256=img.sha256,
    )
    return Registered(reg, code)


def _by_number(uow: UnitOfWork, registration_number: int) -> SealRegistrationRow:
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
    reg = _by_number(uow, registration_number)
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
        raise _rule(exc) from exc
    reg.status = Status.REGISTERED.value
    reg.card_number = domain.card_number(next_value(uow, "seal_card"))
    reg.registered_on = today
    reg.inquiry_digest = None
    reg.person = dataclasses.asdict(person)
    reg.version += 1
    reg.updated_at = utcnow()
    _history(uow, reg, "登録（回答書）", actor.id)
    _audit(
        uow,
        actor,
        "change.add",
        "登録（回答書受理）",
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def by_card(uow: UnitOfWork, card_number: str, *, for_update: bool = False) -> SealRegistrationRow:
    """The registration a presented 印鑑登録証 belongs to, refused if the card is not valid."""
    try:
        number = domain.check_card_number(card_number)
    except SealRuleError as exc:
        raise _rule(exc) from exc
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
    _audit(uow, actor, "inquiry", "照会（登録証）", [reg.atena_number])
    return reg


def read(uow: UnitOfWork, actor: audit.Actor, registration_number: int) -> SealRegistrationRow:
    """A registration by its number. Persons under 支援措置 are reached only with their card."""
    reg = _by_number(uow, registration_number)
    _guard_protected(uow, actor, reg.atena_number)
    _audit(uow, actor, "inquiry", "照会", [reg.atena_number])
    return reg


def find(uow: UnitOfWork, actor: audit.Actor, atena_number: str) -> list[SealRegistrationRow]:
    _guard_protected(uow, actor, atena_number)
    rows = list(
        uow.session.scalars(
            select(SealRegistrationRow)
            .where(SealRegistrationRow.atena_number == atena_number)
            .order_by(SealRegistrationRow.registration_number)
        )
    )
    _audit(uow, actor, "inquiry", "照会（宛名番号）", [atena_number], found=len(rows))
    return rows


class ProtectedPerson(Forbidden):
    """Refused: the person is under 支援措置. The caller audits the denial after its unit of work
    has rolled back (see `audit_denial`), so the refusal leaves a trace but no other write."""

    def __init__(self, atena_number: str) -> None:
        super().__init__(
            "支援措置対象者のため、この方の印鑑登録は照会できません。"
            "本人が印鑑登録証を提示した場合のみ取り扱えます。",
            slug="support-measure",
        )
        self.atena_number = atena_number


def _guard_protected(uow: UnitOfWork, actor: audit.Actor, atena_number: str) -> None:
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
            function=f"{FUNCTION}：照会（支援措置）",
            subjects=[exc.atena_number],
        ),
    )


def report_lost(
    uow: UnitOfWork, actor: audit.Actor, registration_number: int, *, today: date | None = None
) -> SealRegistrationRow:
    """亡失届: the card becomes invalid at once and the registration ends (再登録が必要)."""
    today = today or today_jst()
    reg = _by_number(uow, registration_number)
    if reg.status != Status.REGISTERED.value:
        raise Conflict(
            f"この印鑑登録は{reg.status}のため亡失届を受け付けられません。",
            slug="seal-not-registered",
        )
    _end(reg, Status.LOST, today, "印鑑登録証亡失届")
    _history(uow, reg, "亡失", actor.id)
    _audit(
        uow,
        actor,
        "change.modify",
        "亡失届",
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
    reg = _by_number(uow, registration_number)
    if not Status(reg.status).active:
        raise Conflict(f"この印鑑登録は既に{reg.status}されています。", slug="seal-not-registered")
    if card_number is not None:
        try:
            presented = domain.check_card_number(card_number)
        except SealRuleError as exc:
            raise _rule(exc) from exc
        if presented != reg.card_number:
            raise InvalidInput(
                "返納された印鑑登録証はこの登録のものではありません。", item="card_number"
            )
    _end(reg, Status.ABOLISHED, today, "廃止届")
    _history(uow, reg, "廃止", actor.id)
    _audit(
        uow,
        actor,
        "change.modify",
        "廃止届",
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def change_particulars(
    uow: UnitOfWork, actor: audit.Actor, registration_number: int
) -> SealRegistrationRow:
    """登録事項変更: take the current 宛名 (氏名・住所 …) into the registration, after staff
    confirmed it. Refused when the seal no longer shows the name: that needs a new seal."""
    reg = _by_number(uow, registration_number)
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
    for review in _open_reviews(uow, reg.id):
        review.open = False
        review.closed_by = actor.id
    _history(uow, reg, "登録事項変更", actor.id)
    _audit(
        uow,
        actor,
        "change.modify",
        "登録事項変更",
        [reg.atena_number],
        registration_number=reg.registration_number,
    )
    return reg


def _open_reviews(uow: UnitOfWork, registration_id: int) -> list[SealReviewRow]:
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
    _audit(uow, actor, "change.modify", "確認事項の完了", [row.atena_number], review=row.id)
    return row


def reviews(uow: UnitOfWork, actor: audit.Actor) -> list[SealReviewRow]:
    rows = list(
        uow.session.scalars(
            select(SealReviewRow).where(SealReviewRow.open.is_(True)).order_by(SealReviewRow.id)
        )
    )
    _audit(uow, actor, "inquiry", "確認事項一覧", sorted({r.atena_number for r in rows}))
    return rows


def history(uow: UnitOfWork, reg: SealRegistrationRow) -> list[SealHistoryRow]:
    return list(
        uow.session.scalars(
            select(SealHistoryRow)
            .where(SealHistoryRow.registration_id == reg.id)
            .order_by(SealHistoryRow.id)
        )
    )


# ---------------------------------------------------------------- linkage: credentials, sync


def save_link(
    uow: UnitOfWork, actor: audit.Actor, *, base_url: str, client_id: str, client_secret: str
) -> SealLinkRow:
    """Keep the linkage client this tenant registered for 印鑑登録 (a new client restarts the
    sync from 全件: the replica is refreshed in place, registrations are kept)."""
    row = uow.session.scalars(select(SealLinkRow)).first()
    if row is None:
        row = SealLinkRow(base_url=base_url, client_id=client_id, client_secret=client_secret)
        uow.session.add(row)
    else:
        row.base_url, row.client_id, row.client_secret = base_url, client_id, client_secret
    row.cursor, row.full_done, row.full_cursor, row.full_as_of = 0, False, None, None
    row.updated_at = utcnow()
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=f"{FUNCTION}：庁内データ連携の設定",
            detail={"client_id": client_id, "base_url": base_url},
        ),
    )
    return row


def link(uow: UnitOfWork, *, for_update: bool = False) -> SealLinkRow | None:
    stmt = select(SealLinkRow)
    if for_update:
        stmt = stmt.with_for_update()
    return uow.session.scalars(stmt).first()


@dataclass
class Applied:
    """What one sync page did (for the report and the audit record)."""

    persons: set[str] = dataclasses.field(default_factory=set)
    reactions: Counter[str] = dataclasses.field(default_factory=Counter)
    ids_only: int = 0


@dataclass
class _Known:
    """The replica rows and active registrations of one page's persons, read in two queries."""

    persons: dict[str, SealPersonRow]
    actives: dict[str, SealRegistrationRow]


def _known(uow: UnitOfWork, atenas: Iterable[str]) -> _Known:
    wanted = sorted(set(atenas))
    known = _Known({}, {})
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        for p in uow.session.scalars(
            select(SealPersonRow).where(SealPersonRow.atena_number.in_(chunk))
        ):
            known.persons[p.atena_number] = p
        for r in uow.session.scalars(
            select(SealRegistrationRow).where(SealRegistrationRow.active_atena.in_(chunk))
        ):
            known.actives[r.atena_number] = r
    return known


def _upsert_person(
    uow: UnitOfWork,
    known: _Known,
    atena_number: str,
    record: Mapping[str, str] | None,
    *,
    protected: bool | None,
    seq: int,
) -> None:
    row = known.persons.get(atena_number)
    if row is None:
        if record is None:
            return
        row = SealPersonRow(atena_number=atena_number, record=dict(record), seq=seq)
        uow.session.add(row)
        known.persons[atena_number] = row
    changed = (
        (record is not None and row.record != dict(record))
        or row.gone != (record is None)
        or (protected is not None and row.protected != protected)
    )
    if not changed and row.id is not None:
        return  # nothing new: no write (a re-run of the same page is cheap)
    if record is not None:
        row.record = dict(record)
    row.gone = record is None
    if protected is not None:
        row.protected = protected
    row.seq = seq
    row.updated_at = utcnow()


def _react(
    uow: UnitOfWork,
    known: _Known,
    atena_number: str,
    current: Person | None,
    *,
    seq: int,
    today: date,
    applied: Applied,
) -> None:
    reg = known.actives.get(atena_number)
    if reg is None or reg.active_atena is None:
        return
    registered = Person(**{f.name: reg.person.get(f.name, "") for f in dataclasses.fields(Person)})
    reaction = domain.react(registered, current, reg.seal_text)
    if reaction.kind is ReactionKind.NONE:
        return
    applied.reactions[reaction.kind.value] += 1
    if reaction.kind is ReactionKind.STRIKE:
        _end(reg, Status.STRUCK, today, reaction.reason)
        for review in _open_reviews(uow, reg.id):
            review.open = False
            review.closed_by = SYNC_ACTOR.id
        _history(uow, reg, "職権抹消", SYNC_ACTOR.id, reaction.reason, seq=seq)
    elif reaction.kind is ReactionKind.UPDATE:
        assert current is not None
        reg.person = dataclasses.asdict(current)
        reg.version += 1
        reg.updated_at = utcnow()
        _history(uow, reg, "登録事項変更（職権）", SYNC_ACTOR.id, reaction.reason, seq=seq)
    elif not _open_reviews(uow, reg.id):
        uow.session.add(
            SealReviewRow(
                registration_id=reg.id, atena_number=atena_number, reason=reaction.reason, seq=seq
            )
        )
        _history(uow, reg, "要確認", SYNC_ACTOR.id, reaction.reason, seq=seq)


#: The 支援措置 flag the linkage API puts on every record it sends to a `support_measure` client
#: ("1" protected now, "0" not; docs/linkage.md §6).
FLAG_ITEM = "support_measure"


def _flag(record: Mapping[str, object]) -> bool | None:
    """The record's 支援措置 flag; None when it has none (a client without the scope never
    receives protected persons at all, so nothing is to be learnt then)."""
    value = record.get(FLAG_ITEM)
    if value in ("0", "1"):
        return value == "1"
    return None


def apply_full(
    uow: UnitOfWork, records: Iterable[Mapping[str, str]], *, today: date | None = None
) -> Applied:
    """One 全件 page: refresh the replica (with each record's 支援措置 flag, so a person protected
    before the first sync is protected here from the first page on) and react for each person."""
    today = today or today_jst()
    applied = Applied()
    page = [r for r in records if r.get("atena_number")]
    known = _known(uow, [str(r["atena_number"]) for r in page])
    for record in page:
        atena = str(record["atena_number"])
        _upsert_person(uow, known, atena, record, protected=_flag(record), seq=0)
        applied.persons.add(atena)
        _react(uow, known, atena, Person.from_record(record), seq=0, today=today, applied=applied)
    return applied


def apply_change(
    uow: UnitOfWork,
    *,
    seq: int,
    topic: str,
    payload: Mapping[str, object] | None,
    records: Sequence[Mapping[str, str]] | None,
    today: date | None = None,
    applied: Applied | None = None,
) -> Applied:
    """One 差分 event: the replica takes the delivered current rows and registrations react.

    State-based: a subject without a record is no longer published (e.g. a cancelled 転入).
    The 支援措置 flag comes from the record (as at pull time, so a measure that ended clears
    it); the payload's `support_measure` list (as at the event) only stands in for a record
    without the flag."""
    today = today or today_jst()
    applied = applied or Applied()
    if payload is None or topic != "residents.changed":
        return applied
    if records is None:  # ids only (an older linkage API): nothing reliable to react on
        applied.ids_only += 1
        return applied
    protected = {str(a) for a in payload.get("support_measure") or []}  # type: ignore[attr-defined]
    by_atena = {str(r.get("atena_number")): r for r in records}
    subjects = [str(a) for a in payload.get("atena_numbers") or []]  # type: ignore[attr-defined]
    known = _known(uow, subjects)
    for atena in subjects:
        record = by_atena.get(atena)
        flag = _flag(record) if record is not None else None
        _upsert_person(
            uow,
            known,
            atena,
            record,
            protected=flag if flag is not None else atena in protected,
            seq=seq,
        )
        applied.persons.add(atena)
        _react(
            uow,
            known,
            atena,
            Person.from_record(record) if record is not None else None,
            seq=seq,
            today=today,
            applied=applied,
        )
    return applied


def audit_sync(uow: UnitOfWork, applied: Applied, **detail: object) -> None:
    if not applied.persons and not applied.reactions:
        return
    audit.append(
        uow,
        SYNC_ACTOR,
        audit.AuditEvent(
            category="operation",
            action="batch.update",
            function=f"{FUNCTION}：宛名連携",
            subjects=sorted(applied.persons),
            detail={**detail, "reactions": dict(applied.reactions)},
        ),
    )


# ---------------------------------------------------------------- 印鑑登録証明書


#: Who presents the card: 本人 or 代理人 (anyone holding the card may ask; the card is the proof).
REQUESTER_KINDS = {"本人": "self", "代理人": "agent"}


@dataclass(frozen=True)
class IssuedCertificate:
    pdf: bytes
    issue_number: str
    pages: int
    sha256: str


def _certifier_title(tenant: tenancy.Tenant) -> str:
    """架空県 + 日和市 + 市長 → 架空県日和市長 (spec 5.6: the title includes the prefecture)."""
    place, title = tenant.name, tenant.mayor_title or "市長"
    office = place + title[1:] if place and title.startswith(place[-1]) else place + title
    return f"{tenant.prefecture}{office}"


def issue_certificate(
    uow: UnitOfWork,
    actor: audit.Actor,
    *,
    card_number: str,
    requester_kind: str,
    requester_name: str,
    purpose: str,
    today: date | None = None,
) -> IssuedCertificate:
    """印鑑登録証明書, only against a presented 印鑑登録証.

    Never the wrong person: everything printed comes from the ONE registration row found by the
    card (read once, locked until commit, so a concurrent 亡失届 or 職権抹消 waits or wins
    entirely), inside the caller's one unit of work, with no state shared between requests; the
    PDF's digest enters the shared issuance register in the same transaction."""
    today = today or today_jst()
    if requester_kind not in REQUESTER_KINDS:
        raise InvalidInput(
            "請求者の区分は「本人」か「代理人」を指定してください。", item="requester_kind"
        )
    reg = by_card(uow, card_number, for_update=True)
    person = current_person(uow, reg.atena_number)
    if person is None or not person.is_resident:
        raise Conflict(
            "この方は住民でなくなっているため、印鑑登録証明書は交付できません。",
            slug="seal-not-resident",
        )
    tenant = tenancy.get_tenant(uow, uow.tenant)
    if not tenant.mayor_name.strip():
        raise Conflict(
            "認証者（市区町村長）の氏名が登録されていないため、証明書を交付できません。",
            slug="certifier-missing",
        )
    issue_number = issuance.next_issue_number(uow, issuance.issue_year())
    check_code = issuance.new_check_code()
    recorded = reg.person
    doc = certificate.document(
        person=recorded,
        impression=reg.image,
        registration_number=reg.registration_number,
        birth_display=domain.birth_display(recorded.get("birth_date", "")),
        address=recorded.get("address", ""),
        issue_number=issue_number,
        check_code=check_code,
        issue_date=today,
        certifier_title=_certifier_title(tenant),
        certifier_name=tenant.mayor_name,
        official_seal_png=tenancy.seal_image(uow, uow.tenant),
    )
    result = certificate.render_certificate(doc)
    pdf = result.pdf
    digest = hashlib.sha256(pdf).hexdigest()
    issuance.record(
        uow,
        actor,
        issue_number=issue_number,
        form_id=certificate.FORM_ID,
        module="seal",
        subject_refs=[reg.atena_number],
        requester_kind=REQUESTER_KINDS[requester_kind],
        requester_name=requester_name,
        purpose=purpose,
        items=list(certificate.ITEMS),
        pdf_sha256=digest,
        pages=result.pages,
        official_seal=tenant.has_seal,
        check_code=check_code,
    )
    _history(uow, reg, "証明書交付", actor.id, issue_number)
    return IssuedCertificate(pdf, issue_number, result.pages, digest)
