"""附票 and their entries: create, 記載, 修正, 消除, 除附票, 改製 — every change a new row.

An entry is a sequence of full snapshots (`FuhyoEntryRow`, `rev` 1, 2, 3 …); nothing is ever
updated in place, so "what did the 附票 say before" is a read, not a reconstruction. A 附票's
own changes (除附票, 改製原附票) are events (`FuhyoRecordEventRow`); its `record_type` column is
the projection of its latest event, kept for the indexed reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select

from kikan.errors import ConflictError, NotFoundError
from kikan.fuhyo import domain
from kikan.fuhyo.module import FUNCTIONS
from kikan.fuhyo.settings import FuhyoSettings
from kikan.fuhyo.store import FuhyoEntryRow, FuhyoRecordEventRow, FuhyoRecordRow
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

# ---------------------------------------------------------------- helpers (steps of use cases)


def log(
    uow: UnitOfWork,
    actor: audit.Actor,
    key: str,
    action: str,
    *,
    subjects: Iterable[str] = (),
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One access-log record of this module (the function is a catalogue entry)."""
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="operation",
            action=action,
            function=FUNCTIONS.entry(key),
            subjects=tuple(subjects),
            detail=dict(detail or {}),
        ),
    )


def own_places(uow: UnitOfWork, settings: FuhyoSettings | None = None) -> list[tuple[str, str]]:
    """The (都道府県, 市区町村名) whose 本籍 this tenant keeps 附票 for: the tenant's own name
    (tenant data) and the names configured for it (`KIKAN_FUHYO_HONSEKI_NAMES`)."""
    tenant = tenancy.get_tenant(uow, uow.tenant)
    places = [(tenant.prefecture, tenant.name)]
    for text in (settings or FuhyoSettings()).honseki_names.get(uow.tenant, []):
        pref, sep, city = text.partition("/")
        places.append((pref, city) if sep else ("", pref))
    return places


def facts_of_row(row: FuhyoEntryRow) -> domain.EntryFacts:
    return domain.EntryFacts(
        family_name=row.family_name,
        given_name=row.given_name,
        family_name_kana=row.family_name_kana,
        given_name_kana=row.given_name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        juminhyo_code=row.juminhyo_code,
        address=domain.Address(row.prefecture, row.city, row.town, row.banchi, row.katagaki),
        address_set_date=row.address_set_date,
        zaigai_note=row.zaigai_note,
    )


def honseki_of_row(row: FuhyoRecordRow) -> domain.Honseki:
    return domain.Honseki(
        row.prefecture, row.city, row.town, row.chiban, row.head_family_name, row.head_given_name
    )


def record_row(uow: UnitOfWork, record_id: int, *, for_update: bool = False) -> FuhyoRecordRow:
    stmt = select(FuhyoRecordRow).where(FuhyoRecordRow.id == record_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = uow.session.scalars(stmt).first()
    if row is None:
        raise NotFoundError("fuhyo-not-found", "指定された附票はありません。", "record_id")
    return row


def open_record(uow: UnitOfWork, honseki: domain.Honseki) -> FuhyoRecordRow | None:
    """The current 附票 (type 附票) of a 戸籍, if any."""
    return uow.session.scalars(
        select(FuhyoRecordRow)
        .where(
            FuhyoRecordRow.honseki_key == honseki.key, FuhyoRecordRow.record_type == domain.FUHYO
        )
        .order_by(FuhyoRecordRow.id.desc())
    ).first()


def current_entries(uow: UnitOfWork, record_id: int) -> list[FuhyoEntryRow]:
    """The latest version of every entry of a 附票, in entry order."""
    latest = (
        select(FuhyoEntryRow.entry_no, func.max(FuhyoEntryRow.rev).label("rev"))
        .where(FuhyoEntryRow.record_id == record_id)
        .group_by(FuhyoEntryRow.entry_no)
        .subquery()
    )
    return list(
        uow.session.scalars(
            select(FuhyoEntryRow)
            .join(
                latest,
                (FuhyoEntryRow.entry_no == latest.c.entry_no) & (FuhyoEntryRow.rev == latest.c.rev),
            )
            .where(FuhyoEntryRow.record_id == record_id)
            .order_by(FuhyoEntryRow.entry_no)
        )
    )


def current_entry(uow: UnitOfWork, record_id: int, entry_no: int) -> FuhyoEntryRow:
    row = uow.session.scalars(
        select(FuhyoEntryRow)
        .where(FuhyoEntryRow.record_id == record_id, FuhyoEntryRow.entry_no == entry_no)
        .order_by(FuhyoEntryRow.rev.desc())
    ).first()
    if row is None:
        raise NotFoundError(
            "fuhyo-entry-not-found", "指定された附票の記載はありません。", "entry_no"
        )
    return row


def entries_of_person(
    uow: UnitOfWork, *, atena_number: str = "", juminhyo_code: str = ""
) -> list[FuhyoEntryRow]:
    """Current, not removed entries of one person on 附票 (type 附票), found by 宛名番号 (this
    city's residents) or 住民票コード."""
    if not atena_number and not juminhyo_code:
        return []
    cond = (
        FuhyoEntryRow.atena_number == atena_number
        if atena_number
        else FuhyoEntryRow.juminhyo_code == juminhyo_code
    )
    keys = {
        (r.record_id, r.entry_no)
        for r in uow.session.execute(
            select(FuhyoEntryRow.record_id, FuhyoEntryRow.entry_no).where(cond)
        )
    }
    found: list[FuhyoEntryRow] = []
    for record_id, entry_no in sorted(keys):
        record = record_row(uow, record_id)
        entry = current_entry(uow, record_id, entry_no)
        if record.record_type == domain.FUHYO and not entry.removed:
            found.append(entry)
    return found


def new_record(
    uow: UnitOfWork, ctx: Context, honseki: domain.Honseki, *, reason: str
) -> FuhyoRecordRow:
    row = FuhyoRecordRow(
        tenant_code=uow.tenant,
        record_type=domain.FUHYO,
        honseki_key=honseki.key,
        prefecture=honseki.prefecture,
        city=honseki.city,
        town=honseki.town,
        chiban=honseki.chiban,
        head_family_name=honseki.head_family_name,
        head_given_name=honseki.head_given_name,
        created_by=ctx.actor.id[:100],
    )
    uow.session.add(row)
    uow.session.flush()  # the record id goes into its first event
    _event(uow, ctx, row, "作成", on=ctx.today, reason=reason)
    return row


def _event(
    uow: UnitOfWork, ctx: Context, row: FuhyoRecordRow, action: str, *, on: date | None, reason: str
) -> None:
    uow.session.add(
        FuhyoRecordEventRow(
            tenant_code=uow.tenant,
            record_id=row.id,
            action=action,
            record_type=row.record_type,
            effective_on=on,
            reason=reason[:200],
            recorded_by=ctx.actor.id[:100],
        )
    )


def write_entry(
    uow: UnitOfWork,
    ctx: Context,
    record: FuhyoRecordRow,
    facts: domain.EntryFacts,
    *,
    entry_no: int | None,
    source: str,
    reason: str,
    atena_number: str = "",
    removed_on: date | None = None,
    notice_id: int | None = None,
) -> FuhyoEntryRow:
    """A new version of an entry (or a new entry when `entry_no` is None): a full snapshot."""
    if record.record_type != domain.FUHYO:
        raise ConflictError(
            "fuhyo-closed",
            f"この附票は{record.record_type}のため、記載を変更できません。",
            "record_id",
        )
    if entry_no is None:
        last = uow.session.scalar(
            select(func.max(FuhyoEntryRow.entry_no)).where(FuhyoEntryRow.record_id == record.id)
        )
        entry_no, rev = (last or 0) + 1, 1
        previous = None
    else:
        previous = current_entry(uow, record.id, entry_no)
        if previous.removed:
            raise ConflictError(
                "fuhyo-entry-removed", "この記載は既に消除されています。", "entry_no"
            )
        rev = previous.rev + 1
        atena_number = atena_number or previous.atena_number
    a = facts.address
    row = FuhyoEntryRow(
        tenant_code=uow.tenant,
        record_id=record.id,
        entry_no=entry_no,
        rev=rev,
        atena_number=atena_number,
        family_name=facts.family_name,
        given_name=facts.given_name,
        family_name_kana=facts.family_name_kana,
        given_name_kana=facts.given_name_kana,
        birth_date=facts.birth_date,
        sex=facts.sex,
        juminhyo_code=facts.juminhyo_code,
        prefecture=a.prefecture,
        city=a.city,
        town=a.town,
        banchi=a.banchi,
        katagaki=a.katagaki,
        address_set_date=facts.address_set_date,
        zaigai_note=facts.zaigai_note,
        removed=removed_on is not None,
        removed_on=removed_on,
        source=source,
        reason=reason[:200],
        notice_id=notice_id,
        recorded_by=ctx.actor.id[:100],
    )
    uow.session.add(row)
    uow.session.flush()  # the new version counts in the "everyone removed" read below
    if removed_on is not None and all(e.removed for e in current_entries(uow, record.id)):
        # everyone removed: the 附票 becomes a 除附票
        record.record_type = domain.JO_FUHYO
        record.closed_on = removed_on
        _event(uow, ctx, record, "除附票", on=removed_on, reason="全員の記載の消除")
    return row


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class EntryVersion:
    entry_no: int
    rev: int
    atena_number: str
    facts: domain.EntryFacts
    removed: bool
    removed_on: date | None
    source: str
    reason: str
    notice_id: int | None
    recorded_by: str

    @classmethod
    def of(cls, row: FuhyoEntryRow) -> EntryVersion:
        return cls(
            entry_no=row.entry_no,
            rev=row.rev,
            atena_number=row.atena_number,
            facts=facts_of_row(row),
            removed=row.removed,
            removed_on=row.removed_on,
            source=row.source,
            reason=row.reason,
            notice_id=row.notice_id,
            recorded_by=row.recorded_by,
        )


@dataclass(frozen=True)
class RecordEvent:
    action: str
    record_type: str
    on: date | None
    reason: str


@dataclass(frozen=True)
class RecordView:
    id: int
    record_type: str
    honseki: domain.Honseki
    closed_on: date | None
    replaced_by: int | None
    entries: tuple[EntryVersion, ...]
    history: tuple[EntryVersion, ...] = ()
    events: tuple[RecordEvent, ...] = field(default=())


def _view(uow: UnitOfWork, row: FuhyoRecordRow, *, history: bool = False) -> RecordView:
    entries = tuple(EntryVersion.of(e) for e in current_entries(uow, row.id))
    past: tuple[EntryVersion, ...] = ()
    events: tuple[RecordEvent, ...] = ()
    if history:
        past = tuple(
            EntryVersion.of(e)
            for e in uow.session.scalars(
                select(FuhyoEntryRow)
                .where(FuhyoEntryRow.record_id == row.id)
                .order_by(FuhyoEntryRow.entry_no, FuhyoEntryRow.rev)
            )
        )
        events = tuple(
            RecordEvent(e.action, e.record_type, e.effective_on, e.reason)
            for e in uow.session.scalars(
                select(FuhyoRecordEventRow)
                .where(FuhyoRecordEventRow.record_id == row.id)
                .order_by(FuhyoRecordEventRow.id)
            )
        )
    return RecordView(
        id=row.id,
        record_type=row.record_type,
        honseki=honseki_of_row(row),
        closed_on=row.closed_on,
        replaced_by=row.replaced_by,
        entries=entries,
        history=past,
        events=events,
    )


# ---------------------------------------------------------------- use cases


@dataclass(frozen=True)
class RecordQuery:
    record_id: int


@dataclass(frozen=True)
class FindRecords:
    """附票 by 本籍 (contains) and/or 筆頭者 (exact key); `record_type` empty: every type."""

    honseki: str = ""
    head: str = ""
    record_type: str = ""
    limit: int = 100


@dataclass(frozen=True)
class CreateRecord:
    honseki: domain.Honseki
    reason: str


@dataclass(frozen=True)
class AddEntry:
    record_id: int
    facts: domain.EntryFacts
    reason: str
    atena_number: str = ""


@dataclass(frozen=True)
class CorrectEntry:
    record_id: int
    entry_no: int
    facts: domain.EntryFacts
    reason: str
    expected_rev: int | None = None


@dataclass(frozen=True)
class RemoveEntry:
    record_id: int
    entry_no: int
    removed_on: date
    reason: str


@dataclass(frozen=True)
class Remake:
    """改製: a new 附票 with the entries still on it; the old one becomes 改製原附票."""

    record_id: int
    on: date
    reason: str


def get_record(uow: UnitOfWork, ctx: Context, query: RecordQuery) -> RecordView:
    row = record_row(uow, query.record_id)
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.read",
        "read",
        subjects=_subjects(uow, row.id),
        detail={"record_id": row.id},
    )
    return _view(uow, row, history=True)


def find_records(uow: UnitOfWork, ctx: Context, query: FindRecords) -> list[RecordView]:
    stmt = select(FuhyoRecordRow).order_by(FuhyoRecordRow.id).limit(max(1, min(query.limit, 500)))
    if query.record_type:
        if query.record_type not in domain.RECORD_TYPES:
            raise domain.FuhyoRuleError(
                "fuhyo.record_type_unknown",
                f"附票の種別は{'・'.join(domain.RECORD_TYPES)}のいずれかです。",
                "record_type",
            )
        stmt = stmt.where(FuhyoRecordRow.record_type == query.record_type)
    if query.honseki:
        stmt = stmt.where(FuhyoRecordRow.honseki_key.contains(domain.key_text(query.honseki)))
    if query.head:
        stmt = stmt.where(FuhyoRecordRow.honseki_key.endswith(_head_key(query.head)))
    rows = list(uow.session.scalars(stmt))
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.read",
        "search",
        detail={"count": len(rows), "record_type": query.record_type},
    )
    return [_view(uow, r) for r in rows]


def _head_key(head: str) -> str:
    family, _, given = domain.clean(head).replace(" ", "　").partition("　")
    return f"|{domain.key_text(family)}|{domain.key_text(given)}"


def _subjects(uow: UnitOfWork, record_id: int) -> list[str]:
    return [e.atena_number for e in current_entries(uow, record_id) if e.atena_number]


def _check_honseki(h: domain.Honseki) -> domain.Honseki:
    h = domain.Honseki(
        *(
            domain.clean(v)
            for v in (h.prefecture, h.city, h.town, h.chiban, h.head_family_name, h.head_given_name)
        )
    )
    if not h.city or not h.chiban:
        raise domain.FuhyoRuleError(
            "fuhyo.honseki_missing", "本籍（市区町村名と地番）を入力してください。", "honseki"
        )
    if not h.head_family_name:
        raise domain.FuhyoRuleError(
            "fuhyo.head_missing", "筆頭者の氏を入力してください。", "head_family_name"
        )
    return h


def create_record(uow: UnitOfWork, ctx: Context, command: CreateRecord) -> RecordView:
    """職権 a 附票 for a 戸籍 of this city (one 附票 per 戸籍: a second one is refused)."""
    honseki = _check_honseki(command.honseki)
    reason = domain.check_reason(command.reason)
    if not domain.is_own_honseki(honseki, own_places(uow)):
        raise domain.FuhyoRuleError(
            "fuhyo.honseki_elsewhere",
            "本籍がこの市区町村にないため、附票を作成できません。",
            "honseki",
        )
    if open_record(uow, honseki) is not None:
        raise ConflictError("fuhyo-exists", "この戸籍の附票は既にあります。", "honseki")
    row = new_record(uow, ctx, honseki, reason=reason)
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.change",
        "create",
        detail={"record_id": row.id, "reason": reason},
    )
    return _view(uow, row)


def checked_facts(facts: domain.EntryFacts) -> domain.EntryFacts:
    if not facts.family_name:
        raise domain.FuhyoRuleError("fuhyo.name_missing", "氏名を入力してください。", "family_name")
    return replace(
        facts,
        sex=domain.check_sex(facts.sex),
        juminhyo_code=domain.check_juminhyo_code(facts.juminhyo_code),
        birth_date=domain.storage_date(facts.birth_date, "birth_date", "生年月日"),
        address_set_date=domain.storage_date(
            facts.address_set_date, "address_set_date", "住所を定めた年月日"
        ),
    )


def add_entry(uow: UnitOfWork, ctx: Context, command: AddEntry) -> EntryVersion:
    """職権記載: a person added to a 附票 by staff."""
    record = record_row(uow, command.record_id, for_update=True)
    reason = domain.check_reason(command.reason)
    row = write_entry(
        uow,
        ctx,
        record,
        checked_facts(command.facts),
        entry_no=None,
        source=domain.SOURCE_STAFF,
        reason=f"職権記載：{reason}",
        atena_number=command.atena_number,
    )
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.change",
        "create",
        subjects=[row.atena_number] if row.atena_number else [],
        detail={"record_id": record.id, "entry_no": row.entry_no, "reason": reason},
    )
    return EntryVersion.of(row)


def correct_entry(uow: UnitOfWork, ctx: Context, command: CorrectEntry) -> EntryVersion:
    """職権修正: a new version with the corrected facts (the former one stays, with its reason)."""
    record = record_row(uow, command.record_id, for_update=True)
    reason = domain.check_reason(command.reason)
    previous = current_entry(uow, record.id, command.entry_no)
    if command.expected_rev is not None and previous.rev != command.expected_rev:
        raise ConflictError(
            "stale-version",
            "この記載は他の職員によって更新されています。最新の内容を確認してください。",
            "rev",
        )
    facts = checked_facts(command.facts)
    changed = domain.changed_items(facts_of_row(previous), facts)
    if not changed:
        raise domain.FuhyoRuleError("fuhyo.nothing_changed", "変更された項目がありません。", None)
    row = write_entry(
        uow,
        ctx,
        record,
        facts,
        entry_no=command.entry_no,
        source=domain.SOURCE_STAFF,
        reason=f"職権修正：{reason}",
    )
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.change",
        "update",
        subjects=[row.atena_number] if row.atena_number else [],
        detail={
            "record_id": record.id,
            "entry_no": row.entry_no,
            "items": changed,
            "reason": reason,
        },
    )
    return EntryVersion.of(row)


def remove_entry(uow: UnitOfWork, ctx: Context, command: RemoveEntry) -> EntryVersion:
    """消除 (e.g. 除籍 by the 戸籍 side, 転籍): the entry is kept, marked removed with its day."""
    record = record_row(uow, command.record_id, for_update=True)
    reason = domain.check_reason(command.reason)
    previous = current_entry(uow, record.id, command.entry_no)
    row = write_entry(
        uow,
        ctx,
        record,
        facts_of_row(previous),
        entry_no=command.entry_no,
        source=domain.SOURCE_STAFF,
        reason=f"消除：{reason}",
        removed_on=command.removed_on,
    )
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.change",
        "delete",
        subjects=[row.atena_number] if row.atena_number else [],
        detail={"record_id": record.id, "entry_no": row.entry_no, "reason": reason},
    )
    return EntryVersion.of(row)


def remake(uow: UnitOfWork, ctx: Context, command: Remake) -> RecordView:
    """改製: the entries still on the 附票 are written to a new 附票 (same 本籍・筆頭者); the old
    one becomes a 改製原附票 pointing to it. Its rows stay as they were."""
    old = record_row(uow, command.record_id, for_update=True)
    reason = domain.check_reason(command.reason)
    if old.record_type != domain.FUHYO:
        raise ConflictError(
            "fuhyo-closed", f"この附票は{old.record_type}のため、改製できません。", "record_id"
        )
    entries = [e for e in current_entries(uow, old.id) if not e.removed]
    old.record_type = domain.KAISEI_GEN
    old.closed_on = command.on
    new = new_record(uow, ctx, honseki_of_row(old), reason=f"改製：{reason}")
    old.replaced_by = new.id
    _event(uow, ctx, old, "改製", on=command.on, reason=reason)
    for entry in entries:
        write_entry(
            uow,
            ctx,
            new,
            facts_of_row(entry),
            entry_no=None,
            source=domain.SOURCE_STAFF,
            reason="改製による移記",
            atena_number=entry.atena_number,
        )
    log(
        uow,
        ctx.actor,
        "fuhyo.audit.change",
        "create",
        detail={"record_id": new.id, "replaces": old.id, "reason": reason},
    )
    return _view(uow, new)
