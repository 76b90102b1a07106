"""附票記載事項通知 from other municipalities (the 住所地 tells the 本籍地), and the worklist.

Every notice received is kept (`FuhyoNoticeRow`) whatever happens to it: applied to the entry it
matches, or left `pending` for staff when it matches none, who attach it to an entry (or enter
the person) or reject it with a reason. Nothing is lost. The one refusal without a trace in the
table is a notice older than the entry it would change (409, nothing written): the sender must
know at once that its notice was not taken, and a stale notice must never overwrite a newer
address.

Matching is deliberately narrow (never the wrong person): the 住民票コード on a current entry, or
else the 戸籍 (本籍 + 筆頭者 exactly) and, on its 附票, the same 氏名 and 生年月日. Anything
else goes to staff.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select

from kikan.errors import ConflictError, NotFoundError
from kikan.fuhyo import domain
from kikan.fuhyo.service import records
from kikan.fuhyo.store import FuhyoEntryRow, FuhyoNoticeRow
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork

APPLIED, PENDING, ATTACHED, REJECTED = "applied", "pending", "attached", "rejected"
STATUS_LABELS = {APPLIED: "反映済み", PENDING: "未処理", ATTACHED: "職員が反映", REJECTED: "却下"}


@dataclass(frozen=True)
class Notice:
    """One 附票記載事項通知 as received (already shape-checked by the API's model)."""

    sender_code: str
    sender_name: str
    notice_date: date
    reason: str
    honseki: domain.Honseki
    facts: domain.EntryFacts
    client_id: str = ""


@dataclass(frozen=True)
class NoticeResult:
    notice_id: int
    status: str
    record_id: int | None
    entry_no: int | None
    message: str


@dataclass(frozen=True)
class NoticeView:
    id: int
    status: str
    sender_code: str
    sender_name: str
    notice_date: date
    reason: str
    payload: dict[str, Any]
    record_id: int | None
    entry_no: int | None
    resolution: str


@dataclass(frozen=True)
class OpenNotices:
    """The worklist: notices that matched no entry (`status` another status: that list)."""

    status: str = PENDING
    limit: int = 100


@dataclass(frozen=True)
class Attach:
    """Apply a pending notice to an entry (`entry_no`) or enter the person on the 附票 (None)."""

    notice_id: int
    record_id: int
    entry_no: int | None
    reason: str


@dataclass(frozen=True)
class Reject:
    notice_id: int
    reason: str


def _payload(notice: Notice) -> dict[str, Any]:
    f, h, a = notice.facts, notice.honseki, notice.facts.address
    return {
        "honseki": {
            "prefecture": h.prefecture,
            "city": h.city,
            "town": h.town,
            "chiban": h.chiban,
            "head_family_name": h.head_family_name,
            "head_given_name": h.head_given_name,
        },
        "person": {
            "family_name": f.family_name,
            "given_name": f.given_name,
            "family_name_kana": f.family_name_kana,
            "given_name_kana": f.given_name_kana,
            "birth_date": f.birth_date,
            "sex": f.sex,
            "juminhyo_code": f.juminhyo_code,
            "address_set_date": f.address_set_date,
            "address": {
                "prefecture": a.prefecture,
                "city": a.city,
                "town": a.town,
                "banchi": a.banchi,
                "katagaki": a.katagaki,
            },
        },
    }


def _facts_of_payload(payload: dict[str, Any]) -> domain.EntryFacts:
    p = payload["person"]
    return domain.EntryFacts(
        family_name=p["family_name"],
        given_name=p["given_name"],
        family_name_kana=p.get("family_name_kana", ""),
        given_name_kana=p.get("given_name_kana", ""),
        birth_date=p.get("birth_date", ""),
        sex=p.get("sex", ""),
        juminhyo_code=p.get("juminhyo_code", ""),
        address=domain.Address(**p["address"]),
        address_set_date=p.get("address_set_date", ""),
    )


def merged(current: domain.EntryFacts, notice: domain.EntryFacts) -> domain.EntryFacts:
    """The entry after the notice: what the notice says, the rest (the 在外選挙人 note, items
    the notice left empty) as recorded."""
    return replace(
        current,
        family_name=notice.family_name or current.family_name,
        given_name=notice.given_name or current.given_name,
        family_name_kana=notice.family_name_kana or current.family_name_kana,
        given_name_kana=notice.given_name_kana or current.given_name_kana,
        birth_date=notice.birth_date or current.birth_date,
        sex=notice.sex or current.sex,
        juminhyo_code=notice.juminhyo_code or current.juminhyo_code,
        address=notice.address if notice.address.text else current.address,
        address_set_date=notice.address_set_date or current.address_set_date,
    )


def _match(uow: UnitOfWork, notice: Notice) -> FuhyoEntryRow | None:
    """The one current entry the notice is about, or None (then staff decide)."""
    facts = notice.facts
    if facts.juminhyo_code:
        found = records.entries_of_person(uow, juminhyo_code=facts.juminhyo_code)
        if len(found) == 1:
            return found[0]
        if found:
            return None
    record = records.open_record(uow, notice.honseki)
    if record is None:
        return None
    name = domain.key_text(facts.name)
    same = [
        e
        for e in records.current_entries(uow, record.id)
        if not e.removed
        and domain.key_text(records.facts_of_row(e).name) == name
        and e.birth_date == facts.birth_date
        and (
            not facts.juminhyo_code or not e.juminhyo_code or e.juminhyo_code == facts.juminhyo_code
        )
    ]
    return same[0] if len(same) == 1 else None


def _checked(notice: Notice) -> Notice:
    facts = records.checked_facts(notice.facts)
    if not facts.address.text:
        raise domain.FuhyoRuleError("fuhyo.address_missing", "住所を入力してください。", "address")
    if not facts.address_set_date:
        raise domain.FuhyoRuleError(
            "fuhyo.date_missing", "住所を定めた年月日を入力してください。", "address_set_date"
        )
    return replace(notice, facts=facts)


def receive(uow: UnitOfWork, ctx: Context, command: Notice) -> NoticeResult:
    """Take one 附票記載事項通知: apply it to the entry it matches, or keep it for staff."""
    notice = _checked(command)
    entry = _match(uow, notice)
    if entry is not None:
        record = records.record_row(uow, entry.record_id, for_update=True)
        entry = records.current_entry(uow, record.id, entry.entry_no)
        domain.check_not_older(notice.facts.address_set_date, entry.address_set_date)
    row = FuhyoNoticeRow(
        tenant_code=uow.tenant,
        client_id=notice.client_id[:100],
        sender_code=notice.sender_code,
        sender_name=notice.sender_name[:100],
        notice_date=notice.notice_date,
        reason=notice.reason[:40],
        payload=_payload(notice),
        status=PENDING if entry is None else APPLIED,
    )
    uow.session.add(row)
    uow.session.flush()  # the notice id goes into the entry row and the access log
    if entry is None:
        records.log(
            uow,
            ctx.actor,
            "fuhyo.audit.notice",
            "create",
            detail={"notice_id": row.id, "status": PENDING, "sender": notice.sender_code},
        )
        return NoticeResult(
            row.id, PENDING, None, None, "該当する附票の記載がないため、職員の確認待ちとしました。"
        )
    new = _apply(uow, ctx, row, entry, notice.facts, who=f"{notice.sender_name}からの通知")
    return NoticeResult(row.id, APPLIED, new.record_id, new.entry_no, "附票に反映しました。")


def _apply(
    uow: UnitOfWork,
    ctx: Context,
    row: FuhyoNoticeRow,
    entry: FuhyoEntryRow,
    facts: domain.EntryFacts,
    *,
    who: str,
) -> FuhyoEntryRow:
    record = records.record_row(uow, entry.record_id)
    new = records.write_entry(
        uow,
        ctx,
        record,
        merged(records.facts_of_row(entry), facts),
        entry_no=entry.entry_no,
        source=domain.SOURCE_NOTICE,
        reason=f"附票記載事項通知（{row.reason}、{who}）",
        notice_id=row.id,
    )
    row.record_id, row.entry_no = record.id, entry.entry_no
    records.log(
        uow,
        ctx.actor,
        "fuhyo.audit.notice",
        "update",
        subjects=[new.atena_number] if new.atena_number else [],
        detail={"notice_id": row.id, "record_id": record.id, "entry_no": entry.entry_no},
    )
    return new


def _notice(uow: UnitOfWork, notice_id: int) -> FuhyoNoticeRow:
    row = uow.session.scalars(
        select(FuhyoNoticeRow).where(FuhyoNoticeRow.id == notice_id).with_for_update()
    ).first()
    if row is None:
        raise NotFoundError("fuhyo-notice-not-found", "指定された通知はありません。", "notice_id")
    if row.status != PENDING:
        raise ConflictError(
            "fuhyo-notice-resolved",
            f"この通知は既に処理されています（{STATUS_LABELS.get(row.status, row.status)}）。",
            "notice_id",
        )
    return row


def attach(uow: UnitOfWork, ctx: Context, command: Attach) -> NoticeView:
    """Staff resolve a pending notice: apply it to an entry (refused if older than the entry)
    or enter the person on the chosen 附票."""
    reason = domain.check_reason(command.reason)
    row = _notice(uow, command.notice_id)
    record = records.record_row(uow, command.record_id, for_update=True)
    facts = _facts_of_payload(row.payload)
    if command.entry_no is None:
        new = records.write_entry(
            uow,
            ctx,
            record,
            facts,
            entry_no=None,
            source=domain.SOURCE_NOTICE,
            reason=f"附票記載事項通知による記載（{reason}）",
            notice_id=row.id,
        )
        row.record_id, row.entry_no = record.id, new.entry_no
    else:
        entry = records.current_entry(uow, record.id, command.entry_no)
        domain.check_not_older(facts.address_set_date, entry.address_set_date)
        _apply(uow, ctx, row, entry, facts, who=f"職員の照合：{reason}")
    row.status, row.resolution = ATTACHED, reason
    row.resolved_at, row.resolved_by = utcnow(), ctx.actor.id[:100]
    records.log(
        uow,
        ctx.actor,
        "fuhyo.audit.notice",
        "update",
        detail={"notice_id": row.id, "status": ATTACHED, "reason": reason},
    )
    return view(row)


def reject(uow: UnitOfWork, ctx: Context, command: Reject) -> NoticeView:
    """Staff refuse a pending notice (e.g. 本籍 not in this city); the reason is kept."""
    reason = domain.check_reason(command.reason)
    row = _notice(uow, command.notice_id)
    row.status, row.resolution = REJECTED, reason
    row.resolved_at, row.resolved_by = utcnow(), ctx.actor.id[:100]
    records.log(
        uow,
        ctx.actor,
        "fuhyo.audit.notice",
        "update",
        detail={"notice_id": row.id, "status": REJECTED, "reason": reason},
    )
    return view(row)


def view(row: FuhyoNoticeRow) -> NoticeView:
    return NoticeView(
        id=row.id,
        status=row.status,
        sender_code=row.sender_code,
        sender_name=row.sender_name,
        notice_date=row.notice_date,
        reason=row.reason,
        payload=dict(row.payload),
        record_id=row.record_id,
        entry_no=row.entry_no,
        resolution=row.resolution,
    )


def worklist(uow: UnitOfWork, ctx: Context, query: OpenNotices) -> list[NoticeView]:
    rows = uow.session.scalars(
        select(FuhyoNoticeRow)
        .where(FuhyoNoticeRow.status == query.status)
        .order_by(FuhyoNoticeRow.id)
        .limit(max(1, min(query.limit, 500)))
    )
    found = [view(r) for r in rows]
    records.log(
        uow,
        ctx.actor,
        "fuhyo.audit.read",
        "search",
        detail={"notices": query.status, "count": len(found)},
    )
    return found
