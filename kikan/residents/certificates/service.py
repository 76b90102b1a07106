"""Certificate use cases: issue a certificate as a PDF, 本人通知 registration, 交付履歴照会.

How one issue runs (`issue_certificate`), and why:

1. **Read** — one unit of work with ``snapshot=True`` (REPEATABLE READ on PostgreSQL) reads the
   persons, their household, history, 支援措置, 抑止, the tenant's 認証者 and 公印 into a frozen
   `Plan`. Nothing is written there: that transaction only reads, so it never conflicts with a
   concurrent writer, and every value printed comes from the same instant of the register.
2. **Refuse or go on** — incomplete requests, persons that are not there, 支援措置 (requests
   from a listed 加害者, from 第三者 and 代理人) and 発行抑止 at level エラー end here. A refusal
   on policy grounds is appended to the access log in a transaction of its own (ADR 0001), so it
   is kept although the request fails.
3. **Lay out, then number and record** — the PDF is laid out from the plan outside any
   transaction; then a second, short unit of work re-checks the protection (a 支援措置
   registered a moment ago still counts), takes the 発行番号 (gap-free, per tenant and year,
   its counter locked until commit), prints it on every page and writes the PDF, enters it in
   the issuance register with the subjects' 宛名番号 and the PDF's SHA-256, records the 本人通知
   owed, and commits. Nothing is handed out unless that commit succeeded.

No module-level state holds request data: the plan, the document and the FPDF object are local
to the call, so concurrent requests cannot exchange subjects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from kikan.calendar import DateError, RegisterDate
from kikan.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from kikan.forms import Overflow, default_registry, prepare
from kikan.platform import audit, issuance
from kikan.platform.context import Context
from kikan.platform.store import TenantRow
from kikan.platform.types import TRUSTED
from kikan.platform.uow import Database, UnitOfWork
from kikan.residents.certificates import document as doc
from kikan.residents.certificates.rules import (
    NOTIFIED_REQUESTERS,
    PROTECTED_REFUSED,
    REQUESTER_LABELS,
    Kind,
    Requester,
    catalogue,
    check_requester,
    matches_perpetrator,
    select_items,
)
from kikan.residents.domain import (
    ProcessKind,
    RegisterError,
    Snapshot,
    Status,
    SuppressedError,
)
from kikan.residents.module import FUNCTIONS
from kikan.residents.service import (
    JST,
    denial_event,
    issue_blockers,
    latest,
    protected_among,
    support_measures,
)
from kikan.residents.service.commands import (
    PersonRef,
    RegisterHonninTsuuchi,
    SetCertifier,
)
from kikan.residents.store import (
    CertifierSettingsRow,
    CurrentRow,
    HistoryRow,
    HonninNoticeRow,
    HonninTsuuchiRow,
    HouseholdRow,
)
from kikan.standard.zokugara import parse_zokugara, rank

FUNCTION = FUNCTIONS.entry("residents.certificate_issue")
#: Reasons after which the person's current address was set by a 届出 (届出日 printed).
ADDRESS_REASONS = frozenset(
    {"国内転入", "国外転入等", "出生", "転居", "職権記載", "世帯変更", "世帯分離", "世帯合併"}
)


class CertificateRefused(RefusedError):
    """A policy refusal (支援措置, 発行抑止): 403, audited, no PDF."""

    def __init__(self, message: str, *, code: str = "certificate-refused", **extra: Any) -> None:
        super().__init__(code, message, title="証明書を交付できません。", **extra)


@dataclass(frozen=True)
class CertificateRequest:
    """One request (交付請求). `atena_number` is the person asked about; `members` chooses
    household members (empty: the whole household for 住民票の写し, the person alone otherwise)."""

    kind: str
    atena_number: str
    requester: Requester
    members: Sequence[str] = ()
    include: Sequence[str] = ()
    omit: Sequence[str] = ()
    history_no: int | None = None  # 受理通知: which 異動 (default: the latest)
    reissue: bool = False  # 転出証明書の再交付
    output_format: str = "file"


@dataclass(frozen=True)
class IssuedCertificate:
    issue_number: str
    form_id: str
    form_name: str
    pdf: bytes
    pages: int
    sha256: str
    subject_refs: tuple[str, ...]
    items: tuple[str, ...]
    overflow: tuple[Overflow, ...] = ()
    warnings: tuple[str, ...] = ()
    notices: int = 0


@dataclass(frozen=True)
class _Refusal(Exception):
    """Raised inside the units of work; turned into an audited `CertificateRefused` outside."""

    message: str
    reason: str
    subjects: tuple[str, ...]
    detail: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------- reading the plan


def _order(snaps: Sequence[Snapshot]) -> list[Snapshot]:
    """Spec 5.2 order: 世帯主, 配偶者, 子 … (the standard's 続柄 rank), then birth, 宛名番号."""

    def key(s: Snapshot) -> tuple[object, str, str]:
        try:
            birth = RegisterDate.from_storage(s.birth_date).internal_date.isoformat()
        except DateError:  # free text sorts after the real dates
            birth = "9999" + s.birth_date
        return rank(parse_zokugara(s.zokugara)), birth, s.atena_number

    return sorted(snaps, key=key)


def _household_snaps(uow: UnitOfWork, household: str) -> list[Snapshot]:
    rows = uow.session.scalars(
        select(CurrentRow.atena_number).where(CurrentRow.household_number == household)
    ).all()
    return [latest(uow, a)[0] for a in rows]


def _history(uow: UnitOfWork, atenas: Sequence[str]) -> dict[str, list[HistoryRow]]:
    rows = uow.session.scalars(
        select(HistoryRow)
        .where(HistoryRow.atena_number.in_(list(atenas)))
        .order_by(HistoryRow.atena_number, HistoryRow.history_no)
    ).all()
    out: dict[str, list[HistoryRow]] = {a: [] for a in atenas}
    for r in rows:
        out[r.atena_number].append(r)
    return out


def _live(rows: Sequence[HistoryRow]) -> list[HistoryRow]:
    cancelled = {r.cancels_history_no for r in rows if r.cancels_history_no}
    return [r for r in rows if r.history_no not in cancelled and r.cancels_history_no is None]


def _notified(rows: Sequence[HistoryRow]) -> date | None:
    for r in reversed(_live(rows)):
        if r.reason in ADDRESS_REASONS:
            return r.notified_date
    return None


def _certifier(uow: UnitOfWork, today: date) -> doc.Certifier:
    """市区町村長, or the 職務代理者 within their registered period (spec 1.3.9)."""
    tenant = uow.session.get(TenantRow, uow.tenant)
    if tenant is None:
        raise NotFoundError("not-found", "団体が登録されていません。", "団体コード")
    settings = uow.session.get(CertifierSettingsRow, uow.tenant)
    place = tenant.name
    title = tenant.mayor_title or "市長"
    # 日和市 + 市長 → 日和市長; 千代田区 + 区長 → 千代田区長
    title = place + title[1:] if place and title.startswith(place[-1]) else place + title
    name, seal = tenant.mayor_name.strip(), tenant.seal_png
    notice = settings.notice if settings is not None else ""
    if (
        settings is not None
        and settings.deputy_name
        and settings.deputy_from is not None
        and settings.deputy_from <= today
        and (settings.deputy_until is None or today <= settings.deputy_until)
    ):
        title = f"{title}職務代理者　{settings.deputy_title}".strip("　")
        name, seal = settings.deputy_name, settings.deputy_seal_png or seal
    if not name:
        # spec 1.3.9 must-not: a certificate is never signed "○○長 公印" with the name blank
        raise ConflictError(
            "certifier-missing",
            "認証者（市区町村長）の氏名が登録されていないため、証明書を発行できません。"
            "団体情報に市区町村長の氏名を登録してください。",
            "認証者",
        )
    return doc.Certifier(f"{tenant.prefecture}{title}", name, seal, notice)


def _requester_person(uow: UnitOfWork, atena: str, item: str) -> Snapshot:
    try:
        return latest(uow, atena)[0]
    except NotFoundError as exc:
        raise InvalidError(
            "certificates.unknown_person", f"{item}の住民は登録されていません。", item
        ) from exc


def _check_protection(
    uow: UnitOfWork, ctx: Context, kind: Kind, requester: Requester, subjects: Sequence[str]
) -> list[str]:
    """支援措置 (spec 3.4): refuse a listed 加害者 and, for a protected person, 第三者 and 代理人;
    公用 and 本人・世帯員 pass with a warning. Reads without auditing: the issue or the refusal
    that follows is the audited event."""
    protected = sorted(protected_among(uow, list(subjects)))
    warnings: list[str] = []
    for atena in protected:
        perpetrators = [p for r in support_measures(uow, atena, ctx.today) for p in r.perpetrators]
        if matches_perpetrator(requester, perpetrators):
            raise _Refusal(
                "支援措置の対象者に係る請求で、請求者が加害者として登録されている者と一致するため、"
                f"{kind.name}は交付できません。",
                "support_measure_perpetrator",
                tuple(protected),
            )
        if requester.kind in PROTECTED_REFUSED:
            raise _Refusal(
                f"支援措置の対象者が含まれるため、{REQUESTER_LABELS[requester.kind]}からの請求に"
                f"{kind.name}は交付できません（支援措置責任者に確認してください）。",
                "support_measure",
                tuple(protected),
            )
        warnings.append(
            f"支援措置の対象者（宛名番号 {atena}）が含まれます。請求者の本人確認と交付の可否を"
            "確認してください。"
        )
    return warnings


def _check_suppression(uow: UnitOfWork, ctx: Context, subjects: Sequence[str]) -> list[str]:
    """発行抑止 (spec 3.1): level エラー refuses, アラート warns."""
    warnings: list[str] = []
    for atena in subjects:
        hits = issue_blockers(uow, atena, ctx.now)
        errors = [h for h in hits if h.level == "error"]
        if errors:
            raise SuppressedError(
                f"宛名番号 {atena} の方（または世帯）に発行抑止（エラー、抑止番号 {errors[0].id}）"
                "が設定されているため、証明書は発行できません。",
                process=ProcessKind.ISSUE,
                subjects=list(subjects),
                suppression_ids=[h.id for h in errors],
            )
        warnings.extend(
            f"宛名番号 {atena} の方（または世帯）に発行抑止（アラート、抑止番号 {h.id}）が"
            "設定されています。内容を確認のうえ交付してください。"
            for h in hits
        )
    return warnings


def _removed_check(kind: Kind, subject: Snapshot, today: date) -> None:
    removed = doc.effectively_removed(subject, today)
    if kind.removed == "never" and removed:
        raise RegisterError(
            "certificate.removed",
            f"宛名番号 {subject.atena_number} の方は住民票が消除されています"
            f"（{subject.status.label}）。住民票の除票の写しを請求してください。",
            "宛名番号",
        )
    if kind.removed == "only" and not removed:
        raise RegisterError(
            "certificate.not_removed",
            f"宛名番号 {subject.atena_number} の方は住民票が消除されていません。"
            "住民票の写しを請求してください。",
            "宛名番号",
        )
    if kind.code == "tenshutsu" and subject.move_out is None:
        raise RegisterError(
            "certificate.no_move_out",
            f"宛名番号 {subject.atena_number} の方には転出の届出がありません。",
            "宛名番号",
        )


def _candidates(
    uow: UnitOfWork, kind: Kind, subject: Snapshot, today: date
) -> tuple[list[Snapshot], list[str]]:
    """The persons this kind may certify together with the subject, and the default choice.

    住民票の写し: the household's persons still on the register (spec 5.1 must-not: never with
    persons already in the 除票); 除票: the household's removed persons; 転出証明書: those who
    move out together (same planned date and destination); 受理通知: the subject.
    """
    _removed_check(kind, subject, today)
    household = _household_snaps(uow, subject.household_number)
    if kind.removed == "never":
        persons = [s for s in household if not doc.effectively_removed(s, today)]
        whole = kind.code == "juminhyo"
        return persons, [s.atena_number for s in persons] if whole else [subject.atena_number]
    if kind.removed == "only":
        persons = [s for s in household if doc.effectively_removed(s, today)]
        return persons, [subject.atena_number]
    if kind.code == "tenshutsu":
        assert subject.move_out is not None
        planned, dest = subject.move_out.planned_date, subject.move_out.destination
        persons = [
            s
            for s in household
            if s.move_out is not None
            and s.move_out.planned_date == planned
            and s.move_out.destination == dest
        ]
        return persons, [s.atena_number for s in persons]
    return household, [subject.atena_number]


def _select_members(
    uow: UnitOfWork, ctx: Context, kind: Kind, subject: Snapshot, chosen: Sequence[str]
) -> tuple[list[Snapshot], bool]:
    """Who is certified, and whether that is the whole household (認証文 世帯全員/一部)."""
    persons, default = _candidates(uow, kind, subject, ctx.today)
    by_atena = {s.atena_number: s for s in persons}
    picked: list[Snapshot] = []
    for atena in dict.fromkeys(a.strip() for a in (chosen or default)):
        if atena not in by_atena:
            raise RegisterError(
                "certificate.member",
                "指定された宛名番号の方は、この証明書に記載できる世帯員ではありません。",
                "世帯員",
            )
        picked.append(by_atena[atena])
    all_members = {s.atena_number for s in picked} == set(by_atena)
    return _order(picked), all_members


def _check_relation(
    uow: UnitOfWork, requester: Requester, subject: Snapshot, members: Sequence[Snapshot]
) -> Requester:
    """本人・同一世帯員 (and the 委任者 of an 代理人) must belong to the certified household."""
    if requester.kind not in ("self", "agent"):
        return requester
    item = "請求者の宛名番号" if requester.kind == "self" else "委任者の宛名番号"
    person = _requester_person(uow, requester.atena_number, item)
    same = person.household_number == subject.household_number or person.atena_number in {
        m.atena_number for m in members
    }
    if not same:
        raise RegisterError(
            "certificate.not_household",
            f"{item}の方は、証明する方と同一の世帯ではありません。"
            "第三者請求（利用目的の記載）として受け付けてください。",
            item,
        )
    if requester.kind == "self":
        return Requester(
            kind="self",
            name=person.full_name,
            atena_number=person.atena_number,
            purpose=requester.purpose,
        )
    return requester


def _move_header(
    uow: UnitOfWork,
    kind: Kind,
    subject: Snapshot,
    req: CertificateRequest,
    *,
    requester: Requester,
    householder: str,
) -> dict[str, str]:
    if kind.code == "tenshutsu":
        assert subject.move_out is not None
        mo = subject.move_out
        return {
            "reason": "転出" if mo.destination.address is not None else "国外転出",
            "moved_on": doc.register_text(mo.planned_date),
            "old_address": subject.address.text(),
            "new_address": mo.destination.text(),
            "householder": householder,
            "notified": doc.register_text(mo.notified_date),
            "reissue": "再交付" if req.reissue else "",
        }
    rows = _live(_history(uow, [subject.atena_number])[subject.atena_number])
    if req.history_no is not None:
        rows = [r for r in rows if r.history_no == req.history_no]
        if not rows:
            raise RegisterError(
                "certificate.history_no",
                "指定された履歴番号の異動はありません。",
                "履歴番号",
            )
    if not rows:
        raise RegisterError("certificate.no_change", "異動の記録がありません。", "履歴番号")
    row = rows[-1]
    snap = Snapshot.model_validate(row.snapshot, context=TRUSTED)
    old = snap.previous_address or snap.prior_address
    notifier = requester.name or subject.full_name
    old_text = old.text() if old is not None and old.address is not None else ""
    # spec 4.1.0.3: addressed to the 届出人 at the former address; at the new one when there is
    # none (出生, 国外からの転入)
    addressee = f"{old_text or snap.address.text()}　{notifier}　様"
    return {
        "addressee": addressee,
        "reason": row.reason,
        "moved_on": doc.day_text(row.valid_from),
        "old_address": old.text() if old is not None else "",
        "new_address": snap.address.text(),
        "householder": householder,
        "notified": doc.day_text(row.notified_date),
        "notifier": notifier,
    }


def _plan(uow: UnitOfWork, ctx: Context, req: CertificateRequest) -> tuple[doc.Plan, list[str]]:
    """Read everything the certificate prints, in the caller's (snapshot) unit of work."""
    kind = catalogue().kind(req.kind)
    requester = check_requester(req.requester)
    subject = latest(uow, req.atena_number.strip())[0]
    members, all_members = _select_members(uow, ctx, kind, subject, req.members)
    requester = _check_relation(uow, requester, subject, members)
    subjects = [m.atena_number for m in members]
    warnings = _check_protection(uow, ctx, kind, requester, subjects)
    warnings += _check_suppression(uow, ctx, subjects)
    selection = select_items(kind, requester, req.include, req.omit)
    histories = _history(uow, subjects)
    head = uow.session.scalars(
        select(HouseholdRow.head_atena).where(
            HouseholdRow.household_number == subject.household_number
        )
    ).first()
    householder = doc.display_name(latest(uow, head)[0], furigana=False) if head else ""
    if subject.status in (Status.MOVED_OUT, Status.DEAD, Status.REMOVED) and subject.is_head:
        householder = doc.display_name(subject, furigana=False)
    view: list[doc.Member] = []
    for s in members:
        rows = histories.get(s.atena_number, [])
        lines = tuple(doc.HistoryLine(r.valid_from, r.reason) for r in _live(rows))
        number = ""
        if "my_number" in selection.items and s.my_number_token:
            if ctx.keyring is None:
                raise ConflictError(
                    "keyring-missing",
                    "個人番号の暗号鍵が設定されていないため、個人番号を記載できません。",
                    "個人番号",
                )
            number = ctx.keyring.decrypt_my_number(s.my_number_token, context=uow.tenant).reveal()
        view.append(doc.Member(s, _notified(rows), lines, number))
    move: dict[str, str] = {}
    if kind.code in ("tenshutsu", "juri_tsuchi"):
        move = _move_header(uow, kind, subject, req, requester=requester, householder=householder)
    plan = doc.Plan(
        kind=kind,
        members=tuple(view),
        all_members=all_members,
        address=subject.address.text(),
        householder=householder,
        selection=selection,
        requester=requester,
        certifier=_certifier(uow, ctx.today),
        issue_date=ctx.today,
        official=requester.kind == "official" and kind.official,
        reissue=req.reissue,
        move=move,
    )
    return plan, warnings


# ---------------------------------------------------------------- issuing


def _record_notices(uow: UnitOfWork, plan: doc.Plan, number: str, form_name: str) -> int:
    if plan.requester.kind not in NOTIFIED_REQUESTERS:
        return 0
    registrations = uow.session.scalars(
        select(HonninTsuuchiRow).where(
            HonninTsuuchiRow.atena_number.in_(plan.subject_refs),
            HonninTsuuchiRow.ended_on.is_(None),
        )
    ).all()
    for reg in registrations:
        uow.session.add(
            HonninNoticeRow(
                registration_id=reg.id,
                atena_number=reg.atena_number,
                issue_number=number,
                form_name=form_name,
                requester_kind=plan.requester.kind,
                issued_on=plan.issue_date,
            )
        )
    return len(registrations)


def issue_certificate(
    db: Database, tenant: str, ctx: Context, req: CertificateRequest
) -> IssuedCertificate:
    """Issue one certificate: plan from one snapshot, then number, render and record (see the
    module docstring). Raises domain errors: invalid (422), not found (404), `CertificateRefused`
    (403, audited; code ``suppressed`` for 発行抑止) — never a PDF for a refused request."""
    try:
        with db.unit_of_work(tenant, snapshot=True) as uow:
            plan, warnings = _plan(uow, ctx, req)
        form = default_registry().forms[plan.kind.form_id]
        # laid out before the number is taken: the counter stays locked only for the number,
        # the output and the register entry, not for the whole rendering
        prepared = prepare(plan.kind.form_id, doc.build(plan, ""))
        with db.unit_of_work(tenant) as uow:
            # a 支援措置 registered since the snapshot still refuses
            _check_protection(uow, ctx, plan.kind, plan.requester, plan.subject_refs)
            number = issuance.next_issue_number(uow, ctx.now.astimezone(JST).year)
            check_code = issuance.new_check_code()
            result = prepared.finish(number, check_code)
            digest = hashlib.sha256(result.pdf).hexdigest()
            items = list(plan.selection.labels)
            issuance.record(
                uow,
                ctx.actor,
                issue_number=number,
                form_id=plan.kind.form_id,
                module="residents",
                subject_refs=plan.subject_refs,
                requester_kind=plan.requester.kind,
                requester_name=plan.requester.name,
                purpose=plan.requester.purpose,
                items=items,
                pdf_sha256=digest,
                pages=result.pages,
                form_name=form.name,
                official_seal=plan.certifier.seal_png is not None,
                mynumber_printed=any(m.my_number for m in plan.members),
                output_format=req.output_format,
                check_code=check_code,
            )
            notices = _record_notices(uow, plan, number, form.name)
            uow.commit()
    except SuppressedError as exc:
        # the refused units of work have ended: the denial gets a transaction of its own
        audit.append_now(db, tenant, ctx.actor, denial_event(exc, FUNCTION))
        raise CertificateRefused(
            exc.message,
            code="suppressed",
            process=exc.process.value,
            suppressions=exc.suppression_ids,
        ) from None
    except _Refusal as refusal:
        audit.append_now(
            db,
            tenant,
            ctx.actor,
            audit.AuditEvent(
                category="operation",
                action="denial",
                outcome="denied",
                function=FUNCTION,
                subjects=list(refusal.subjects),
                purpose=req.requester.purpose[:200],
                detail={
                    "reason": refusal.reason,
                    "kind": req.kind,
                    "requester_kind": req.requester.kind,
                },
            ),
        )
        raise CertificateRefused(refusal.message, reason=refusal.reason) from None
    overflow_warnings = [
        f"{o.label}（{o.page}ページ）の文字が枠に収まらないため、縮小・折り返しして印字しました。"
        for o in result.overflow
        if any(r in ("below_minimum", "exceeds_box", "blanked") for r in o.reasons)
    ] + [
        f"{o.label}（{o.page}ページ）に印字できない文字があります: {o.detail}"
        for o in result.overflow
        if any(r in ("unsupported_character", "unsupported_variation") for r in o.reasons)
    ]
    return IssuedCertificate(
        issue_number=number,
        form_id=plan.kind.form_id,
        form_name=form.name,
        pdf=result.pdf,
        pages=result.pages,
        sha256=digest,
        subject_refs=tuple(plan.subject_refs),
        items=tuple(items),
        overflow=result.overflow,
        warnings=tuple(warnings + overflow_warnings),
        notices=notices,
    )


# ---------------------------------------------------------------- 本人通知制度


def register_honnin_tsuuchi(
    uow: UnitOfWork, ctx: Context, command: RegisterHonninTsuuchi
) -> HonninTsuuchiRow:
    """本人通知制度への登録: the person will be told of certificates a 第三者 or 代理人 obtains."""
    atena_number = command.atena_number
    send_to = command.send_to
    note = command.note
    snap = latest(uow, atena_number)[0]
    existing = uow.session.scalars(
        select(HonninTsuuchiRow).where(
            HonninTsuuchiRow.atena_number == snap.atena_number, HonninTsuuchiRow.ended_on.is_(None)
        )
    ).first()
    if existing is not None:
        raise ConflictError(
            "honnin-tsuuchi-exists",
            f"宛名番号 {atena_number} の方は既に本人通知制度に登録されています。",
            "宛名番号",
        )
    row = HonninTsuuchiRow(
        atena_number=snap.atena_number,
        registered_on=ctx.today,
        send_to=send_to.strip()[:400],
        note=note.strip()[:400],
        created_by=ctx.actor.id,
    )
    uow.session.add(row)
    # the registration's id goes into the audit record
    uow.session.flush()
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="change.add",
            function=FUNCTIONS.entry("residents.notice_register"),
            subjects=[snap.atena_number],
            detail={"registration": row.id},
        ),
    )
    return row


def end_honnin_tsuuchi(uow: UnitOfWork, ctx: Context, command: PersonRef) -> HonninTsuuchiRow:
    """本人通知制度の登録廃止 (the person withdraws)."""
    atena_number = command.atena_number
    row = uow.session.scalars(
        select(HonninTsuuchiRow)
        .where(HonninTsuuchiRow.atena_number == atena_number, HonninTsuuchiRow.ended_on.is_(None))
        .with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(
            "not-found",
            f"宛名番号 {atena_number} の方の本人通知制度の登録はありません。",
            "宛名番号",
        )
    row.ended_on = ctx.today
    row.ended_by = ctx.actor.id
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="change.modify",
            function=FUNCTIONS.entry("residents.notice_end"),
            subjects=[atena_number],
            detail={"registration": row.id},
        ),
    )
    return row


def honnin_notices(uow: UnitOfWork, ctx: Context, query: PersonRef) -> list[HonninNoticeRow]:
    """The notices owed to (or sent to) a registered person; the read is audited."""
    atena_number = query.atena_number
    latest(uow, atena_number)
    rows = list(
        uow.session.scalars(
            select(HonninNoticeRow)
            .where(HonninNoticeRow.atena_number == atena_number)
            .order_by(HonninNoticeRow.id)
        )
    )
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=FUNCTIONS.entry("residents.notice_inquiry"),
            subjects=[atena_number],
            detail={"returned": len(rows)},
        ),
    )
    return rows


def issuance_history(uow: UnitOfWork, ctx: Context, query: PersonRef) -> list[issuance.Issuance]:
    """交付履歴照会 (spec 2.2.2): the certificates issued about one person, newest first."""
    atena_number = query.atena_number
    latest(uow, atena_number)
    found = issuance.issued_for(uow, atena_number)
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=FUNCTIONS.entry("residents.issuance_history"),
            subjects=[atena_number],
            detail={"returned": len(found)},
        ),
    )
    return found


def set_certifier(uow: UnitOfWork, ctx: Context, command: SetCertifier) -> CertifierSettingsRow:
    """職務代理者 and the 公印 phrase (spec 1.3.7, 1.3.9, 5.6); a setting change, audited."""
    deputy_title = command.deputy_title
    deputy_name = command.deputy_name
    deputy_from = command.deputy_from
    deputy_until = command.deputy_until
    deputy_seal_png = command.deputy_seal_png
    notice = command.notice
    if deputy_name and deputy_from is None:
        raise InvalidError(
            "certificates.deputy_period",
            "職務代理者の期間（開始日）を入力してください。",
            "職務代理期間",
        )
    if deputy_from and deputy_until and deputy_until < deputy_from:
        raise InvalidError(
            "certificates.deputy_period", "職務代理期間の終了日が開始日より前です。", "職務代理期間"
        )
    row = uow.session.get(CertifierSettingsRow, uow.tenant)
    if row is None:
        row = CertifierSettingsRow(tenant_code=uow.tenant, notice="")
        uow.session.add(row)
    row.deputy_title = deputy_title.strip()[:40]
    row.deputy_name = deputy_name.strip()[:100]
    row.deputy_from = deputy_from
    row.deputy_until = deputy_until
    if deputy_seal_png is not None:
        row.deputy_seal_png = deputy_seal_png
    if notice is not None:
        row.notice = notice.strip()[:100]
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("residents.certifier"),
            subjects=[uow.tenant],
            detail={"deputy": bool(row.deputy_name), "notice": row.notice},
        ),
    )
    return row


def check_seal_png(data: bytes, item: str) -> bytes:
    """A 公印 image must be a PNG whose drawn pixels are black (spec 5.6: 黒色)."""
    from io import BytesIO  # noqa: PLC0415 - only the settings screen needs Pillow here

    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        img = Image.open(BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidError(
            "certificates.seal_image",
            f"{item}の画像を読み込めません（PNG 形式で登録してください）。",
            item,
        ) from exc
    if img.format != "PNG" or max(img.size) > 2000 or min(img.size) < 50:
        raise InvalidError(
            "certificates.seal_image",
            f"{item}は 50〜2000 ピクセル四方の PNG 画像で登録してください。",
            item,
        )
    rgba = img.convert("RGBA")
    raw = rgba.tobytes()
    for i in range(0, len(raw), 4):
        r, g, b, a = raw[i], raw[i + 1], raw[i + 2], raw[i + 3]
        if a > 32 and max(r, g, b) > 96 and not (r > 224 and g > 224 and b > 224):
            raise InvalidError(
                "certificates.seal_image",
                f"{item}は黒色で登録してください（電子公印は黒色、標準仕様 5.6）。",
                item,
            )
    return data
