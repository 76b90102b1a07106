"""Protection of persons: 支援措置 and 仮支援措置 (spec 3.4) and 抑止 (spec 3.1, 3.2), with
the checks other processes call (`inquiry_check`, `issue_blockers`, `suppression_flags`,
`denial_event`).

Why a module of its own: these use cases manage their own tables (support measures,
suppressions) and events, not history rows. The 抑止 gate every 異動 passes (`_enforce`) and
`is_protected` live in `_common`, because `_finish` needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from kikan.errors import NotFoundError
from kikan.platform import audit, outbox
from kikan.platform.context import JST, Context
from kikan.platform.functions import FunctionLabel
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    ProcessKind,
    RegisterError,
    SupportEndReason,
    SuppressedError,
    SuppressionLevel,
    SuppressionTarget,
    check_extension_allowed,
    check_release_duration,
    legal_date,
    suppression_in_force,
)
from kikan.residents.module import FUNCTIONS
from kikan.residents.service._common import (
    EVENT_TOPIC,
    SUPPRESSION_TOPIC,
    _applying,
    _audit_read,
    _current_row,
    _enforce,
    _open_suppressions,
    is_protected,
)
from kikan.residents.service.commands import (
    AddSuppression,
    ConfirmSupportMeasure,
    EndSupportMeasure,
    EndSuppression,
    ExtendSupportMeasure,
    PersonRef,
    ReleaseTemporarily,
    StartSupportMeasure,
    SupportMeasureQuery,
    SuppressionQuery,
)
from kikan.residents.store import CurrentRow, SupportMeasureRow, SuppressionRow

# ---------------------------------------------------------------- 支援措置


def support_measures(uow: UnitOfWork, atena: str, on: date) -> list[SupportMeasureRow]:
    """Measures not ended by staff, including expired ones: spec 3.4 wants an alert that the
    period has ended rather than silent expiry (the API marks them `expired`)."""
    stmt = select(SupportMeasureRow).where(
        SupportMeasureRow.atena_number == atena, SupportMeasureRow.ended_on.is_(None)
    )
    return list(uow.session.scalars(stmt))


def one_year_after(start: date) -> date:
    """Spec 3.4: the period is one year; 令和2年4月1日 → 令和3年3月31日."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 2月29日
        anniversary = date(start.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


def start_support_measure(
    uow: UnitOfWork, ctx: Context, command: StartSupportMeasure
) -> SupportMeasureRow:
    """支援措置 (or 仮支援措置 while the need is being confirmed) with the listed 加害者."""
    atena_number = command.atena_number
    start_date = command.start_date
    perpetrators = command.perpetrators
    provisional = command.provisional
    end_date = command.end_date
    note = command.note
    _current_row(uow, atena_number)
    start = legal_date(start_date, "支援措置開始年月日", today=ctx.today, allow_future=True)
    end = (
        legal_date(end_date, "支援措置終了年月日", today=ctx.today, allow_future=True)
        if end_date
        else one_year_after(start)
    )
    if end < start:
        raise RegisterError(
            "date.order", "支援措置終了年月日が開始年月日より前です。", "支援措置終了年月日"
        )
    row = SupportMeasureRow(
        atena_number=atena_number,
        kind="provisional" if provisional else "support",
        start_date=start,
        end_date=end,
        perpetrators=[dict(p) for p in perpetrators],
        note=note,
        created_by=ctx.actor.id,
    )
    uow.session.add(row)
    # the measure's id goes into the event and the audit record
    uow.session.flush()
    outbox.emit(
        uow,
        EVENT_TOPIC,
        {
            "tenant": uow.tenant,
            "atena_numbers": [atena_number],
            "household_numbers": [],
            "reason": "支援措置",
            "valid_from": start.isoformat(),
            "processed_on": ctx.today.isoformat(),
            "support_measure": [atena_number],
        },
    )
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="change.add",
            function=FUNCTIONS.entry("residents.support_measure_add"),
            subjects=[atena_number],
            detail={"kind": row.kind, "start": start.isoformat(), "end": end.isoformat()},
        ),
    )
    return row


def _measure_event(uow: UnitOfWork, ctx: Context, row: SupportMeasureRow, reason: str) -> None:
    """The `residents.changed` event other systems follow to start or stop protecting the person
    (the same shape as the one `start_support_measure` sends)."""
    outbox.emit(
        uow,
        EVENT_TOPIC,
        {
            "tenant": uow.tenant,
            "atena_numbers": [row.atena_number],
            "household_numbers": [],
            "reason": reason,
            "valid_from": ctx.today.isoformat(),
            "processed_on": ctx.today.isoformat(),
            "support_measure": (
                [row.atena_number] if is_protected(uow, row.atena_number, ctx.today) else []
            ),
        },
    )


def _audit_measure(
    uow: UnitOfWork, ctx: Context, row: SupportMeasureRow, function: FunctionLabel, **detail: Any
) -> None:
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="change.modify",
            function=function,
            subjects=[row.atena_number],
            detail={"measure": row.id, "kind": row.kind, **detail},
        ),
    )


def _open_measure(uow: UnitOfWork, atena: str, measure_id: int) -> SupportMeasureRow:
    """The person's measure, row-locked, which must not have been ended."""
    row = uow.session.scalars(
        select(SupportMeasureRow)
        .where(SupportMeasureRow.id == measure_id, SupportMeasureRow.atena_number == atena)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(
            "not-found", "この住民に指定された番号の支援措置はありません。", "支援措置"
        )
    if row.ended_on is not None:
        raise RegisterError("support.ended", "この支援措置は既に終了しています。", "支援措置")
    return row


def extend_support_measure(
    uow: UnitOfWork, ctx: Context, command: ExtendSupportMeasure
) -> SupportMeasureRow:
    """支援措置の延長 (spec 3.4): possible from the first day of the period's last month
    (`domain.final_month_start`); the new period starts the day after the old end and lasts one
    year. A late extension of an expired, not ended measure is accepted on the same terms, so the
    protection stays continuous. A 仮支援措置 is confirmed, not extended."""
    atena_number = command.atena_number
    measure_id = command.measure_id
    row = _open_measure(uow, atena_number, measure_id)
    if row.kind != "support":
        raise RegisterError(
            "support.provisional_extension",
            "仮支援措置は延長できません。必要性を確認のうえ支援措置に切り替えてください。",
            "支援措置",
        )
    check_extension_allowed(row.end_date, ctx.today)
    old_end = row.end_date
    row.period_start = old_end + timedelta(days=1)
    row.end_date = one_year_after(row.period_start)
    row.extensions += 1
    # written before the event, whose 支援措置 flag reads the measures back (is_protected)
    uow.session.flush()
    _measure_event(uow, ctx, row, "支援措置の延長")
    _audit_measure(
        uow,
        ctx,
        row,
        FUNCTIONS.entry("residents.support_measure_extend"),
        old_end=old_end.isoformat(),
        start=row.period_start.isoformat(),
        end=row.end_date.isoformat(),
    )
    return row


def end_support_measure(
    uow: UnitOfWork, ctx: Context, command: EndSupportMeasure
) -> SupportMeasureRow:
    """支援措置の終了 (spec 3.4) on the person's 申出, after the period passed without extension,
    or when the mayor finds support no longer needed. 期間経過 is only true after the end date."""
    atena_number = command.atena_number
    measure_id = command.measure_id
    reason = command.reason
    note = command.note
    row = _open_measure(uow, atena_number, measure_id)
    reason = SupportEndReason(reason)
    if reason is SupportEndReason.PERIOD_OVER and ctx.today <= row.end_date:
        raise RegisterError(
            "support.period_not_over",
            "支援措置の期間が終了していないため、終了事由に「期間経過」は指定できません。",
            "終了事由",
        )
    row.ended_on = ctx.today
    row.end_reason = reason.value
    row.ended_by = ctx.actor.id
    if note:
        row.note = f"{row.note}\n{note}".strip()
    # written before the event, whose 支援措置 flag reads the measures back (is_protected)
    uow.session.flush()
    _measure_event(uow, ctx, row, "支援措置の終了")
    _audit_measure(
        uow, ctx, row, FUNCTIONS.entry("residents.support_measure_end"), reason=reason.value
    )
    return row


def confirm_support_measure(
    uow: UnitOfWork, ctx: Context, command: ConfirmSupportMeasure
) -> SupportMeasureRow:
    """仮支援措置 → 支援措置 (spec 3.4): once the need is confirmed the measure starts for real on
    `start_date` (default: today) for one year unless an end date is given. The provisional
    start is kept (spec 1.1.16 仮支援措置の開始年月日)."""
    atena_number = command.atena_number
    measure_id = command.measure_id
    start_date = command.start_date
    end_date = command.end_date
    row = _open_measure(uow, atena_number, measure_id)
    if row.kind != "provisional":
        raise RegisterError(
            "support.not_provisional", "この措置は仮支援措置ではありません。", "支援措置"
        )
    start = (
        legal_date(start_date, "支援措置開始年月日", today=ctx.today, allow_future=True)
        if start_date
        else ctx.today
    )
    if start < row.start_date:
        raise RegisterError(
            "date.order",
            "支援措置開始年月日が仮支援措置の開始年月日より前です。",
            "支援措置開始年月日",
        )
    end = (
        legal_date(end_date, "支援措置終了年月日", today=ctx.today, allow_future=True)
        if end_date
        else one_year_after(start)
    )
    if end < start:
        raise RegisterError(
            "date.order", "支援措置終了年月日が開始年月日より前です。", "支援措置終了年月日"
        )
    row.provisional_start = row.start_date
    row.kind = "support"
    row.start_date = start
    row.end_date = end
    # written before the event, whose 支援措置 flag reads the measures back (is_protected)
    uow.session.flush()
    _measure_event(uow, ctx, row, "支援措置の開始（仮支援措置から切替）")
    _audit_measure(
        uow,
        ctx,
        row,
        FUNCTIONS.entry("residents.support_measure_confirm"),
        provisional_start=row.provisional_start.isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return row


def support_measure_records(
    uow: UnitOfWork, ctx: Context, query: SupportMeasureQuery
) -> list[SupportMeasureRow]:
    """支援対象者照会 (spec 2.2.4, 3.4): the measures with their 加害者, for the 支援措置責任者.
    Every read is audited, and says that the 加害者 were shown."""
    atena_number = query.atena_number
    include_ended = query.include_ended
    _current_row(uow, atena_number, lock=False)
    stmt = select(SupportMeasureRow).where(SupportMeasureRow.atena_number == atena_number)
    if not include_ended:
        stmt = stmt.where(SupportMeasureRow.ended_on.is_(None))
    rows = list(uow.session.scalars(stmt.order_by(SupportMeasureRow.id)))
    _audit_read(
        uow,
        ctx,
        FUNCTIONS.entry("residents.support_measure_inquiry"),
        [atena_number],
        perpetrators=True,
        measures=[r.id for r in rows],
    )
    return rows


def support_measure_perpetrators(
    uow: UnitOfWork, ctx: Context, query: PersonRef
) -> list[dict[str, Any]]:
    """The 加害者 listed by the person's measures that staff have not ended (expired ones
    included, like `is_protected`). The certificate and 閲覧 rules will call this to refuse a
    request by or for a listed 加害者 (spec 3.4). The read is audited: it takes `ctx` for the
    actor, which is why it differs from the plain `(uow, atena)` lookups."""
    atena_number = query.atena_number
    rows = support_measures(uow, atena_number, ctx.today)
    perpetrators = [
        {**p, "measure": r.id, "kind": r.kind} for r in rows for p in (r.perpetrators or [])
    ]
    _audit_read(
        uow,
        ctx,
        FUNCTIONS.entry("residents.support_measure_perpetrators"),
        [atena_number],
        perpetrators=True,
        measures=[r.id for r in rows],
    )
    return perpetrators


# ---------------------------------------------------------------- 抑止 (spec 3.1, 3.2)


@dataclass(frozen=True)
class SuppressionHit:
    """One 抑止 that applies to a process: what `issue_blockers` and the checks report."""

    id: int
    target_kind: str
    target_number: str
    level: str
    kinds: tuple[str, ...]
    released_until: datetime | None


def _hit(row: SuppressionRow) -> SuppressionHit:
    return SuppressionHit(
        row.id,
        row.target_kind,
        row.target_number,
        row.level,
        tuple(row.kinds),
        row.released_until,
    )


def inquiry_check(uow: UnitOfWork, ctx: Context, atena_number: str) -> list[str]:
    """照会抑止 of the person and of their current household: raises at level エラー (the caller
    audits the denial after rolling back), returns the warnings at level アラート."""
    cur = uow.session.scalars(
        select(CurrentRow).where(CurrentRow.atena_number == atena_number)
    ).first()
    # an unknown 宛名番号 is the reader's business (404, or an empty "as known at" history)
    households = [cur.household_number] if cur is not None else []
    return _enforce(uow, ctx, ProcessKind.INQUIRY, [atena_number], households)


def denial_event(exc: SuppressedError, function: FunctionLabel | str) -> audit.AuditEvent:
    """The access-log record of a refusal by 抑止. Append it with `audit.append_now` after the
    refused unit of work has ended (ADR 0001: denials outlive the failed request)."""
    return audit.AuditEvent(
        category="operation",
        action="denial",
        outcome="denied",
        function=function,
        subjects=exc.subjects,
        detail={
            "reason": "suppressed",
            "process": exc.process.value,
            "suppressions": exc.suppression_ids,
        },
    )


def issue_blockers(uow: UnitOfWork, atena_number: str, on: datetime) -> list[SuppressionHit]:
    """発行抑止 that apply to the person (or their household) at the moment `on`, both levels;
    the certificate issue decides: エラー refuses, アラート warns. `on` is a moment, not a day,
    because a temporary release (一時解除) lasts minutes. Not audited: the issue that calls it
    audits the issue or its denial."""
    cur = _current_row(uow, atena_number, lock=False)
    rows = _open_suppressions(uow, [atena_number], [cur.household_number])
    return [_hit(r) for r in _applying(rows, ProcessKind.ISSUE, on)]


def suppression_flags(
    uow: UnitOfWork, ctx: Context, rows: Sequence[CurrentRow]
) -> dict[str, list[str]]:
    """宛名番号 → suppressed processes, for a search result page (spec 3.1: 検索結果の表示の際、抑止
    対象であることが明らかとなること). A temporarily released 抑止 still marks its person: the
    release is temporary, the person remains a 抑止対象者."""
    open_rows = _open_suppressions(
        uow, [r.atena_number for r in rows], [r.household_number for r in rows]
    )
    flags: dict[str, list[str]] = {}
    for r in rows:
        kinds: set[str] = set()
        for s in open_rows:
            if s.start_date > ctx.today:
                continue
            if (s.target_kind, s.target_number) in (
                (SuppressionTarget.PERSON.value, r.atena_number),
                (SuppressionTarget.HOUSEHOLD.value, r.household_number),
            ):
                kinds.update(s.kinds)
        if kinds:
            flags[r.atena_number] = [k.value for k in ProcessKind if k.value in kinds]
    return flags


def _suppression_event(uow: UnitOfWork, ctx: Context, row: SuppressionRow, action: str) -> None:
    """Spec 3.2: 抑止の設定・解除 go to the 宛名システム and others; spec 3.1: 発行抑止 also to
    コンビニ交付 and the CS (the linkage layer routes by `kinds`). The reason text stays
    inside: it may describe a victim's situation."""
    person = row.target_kind == SuppressionTarget.PERSON.value
    outbox.emit(
        uow,
        SUPPRESSION_TOPIC,
        {
            "tenant": uow.tenant,
            "action": action,
            "suppression_id": row.id,
            "target_kind": row.target_kind,
            "atena_numbers": [row.target_number] if person else [],
            "household_numbers": [] if person else [row.target_number],
            "kinds": row.kinds,
            "level": row.level,
            "start_date": row.start_date.isoformat(),
            "end_date": row.end_date.isoformat() if row.end_date else None,
            "ended_on": row.ended_on.isoformat() if row.ended_on else None,
            "processed_on": ctx.today.isoformat(),
        },
    )


def _audit_suppression(
    uow: UnitOfWork,
    ctx: Context,
    row: SuppressionRow,
    atena_number: str,
    *,
    action: str,
    function: FunctionLabel,
    **detail: Any,
) -> None:
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action=action,
            function=function,
            subjects=sorted({atena_number, row.target_number}),
            detail={
                "suppression": row.id,
                "target_kind": row.target_kind,
                "kinds": row.kinds,
                "level": row.level,
                **detail,
            },
        ),
    )


def add_suppression(uow: UnitOfWork, ctx: Context, command: AddSuppression) -> SuppressionRow:
    """抑止の設定 (spec 3.1) for the person or, with `target="household"`, for the household the
    person belongs to now. Several may coexist; each names its processes and level. The end date
    is optional and informational: the 抑止 applies until `end_suppression`."""
    atena_number = command.atena_number
    kinds = command.kinds
    level = command.level
    start_date = command.start_date
    reason = command.reason
    end_date = command.end_date
    target = command.target
    note = command.note
    cur = _current_row(uow, atena_number, lock=False)
    try:
        target_kind = SuppressionTarget(target)
    except ValueError as exc:
        raise RegisterError("suppression.target", "抑止の対象が正しくありません。", "対象") from exc
    try:
        processes = {ProcessKind(k) for k in kinds}
    except ValueError as exc:
        raise RegisterError(
            "suppression.kind", "抑止する処理が正しくありません。", "抑止する処理"
        ) from exc
    if not processes:
        raise RegisterError(
            "suppression.kind", "抑止する処理を一つ以上指定してください。", "抑止する処理"
        )
    try:
        level_value = SuppressionLevel(level)
    except ValueError as exc:
        raise RegisterError(
            "suppression.level", "抑止レベルはエラー又はアラートを指定してください。", "抑止レベル"
        ) from exc
    start = legal_date(start_date, "抑止開始日", today=ctx.today, allow_future=True)
    end = (
        legal_date(end_date, "抑止終了日", today=ctx.today, allow_future=True) if end_date else None
    )
    if end is not None and end < start:
        raise RegisterError("date.order", "抑止終了日が抑止開始日より前です。", "抑止終了日")
    if not reason.strip():
        raise RegisterError("required", "抑止の理由を入力してください。", "抑止の理由")
    row = SuppressionRow(
        target_kind=target_kind.value,
        target_number=(
            atena_number if target_kind is SuppressionTarget.PERSON else cur.household_number
        ),
        suppress_change=ProcessKind.CHANGE in processes,
        suppress_issue=ProcessKind.ISSUE in processes,
        suppress_inquiry=ProcessKind.INQUIRY in processes,
        level=level_value.value,
        start_date=start,
        end_date=end,
        reason=reason.strip(),
        note=note,
        created_by=ctx.actor.id,
        created_at=ctx.now,
        ended_by="",
        end_note="",
        released_by="",
        release_note="",
    )
    uow.session.add(row)
    # the suppression's id goes into the event and the audit record
    uow.session.flush()
    _suppression_event(uow, ctx, row, "added")
    _audit_suppression(
        uow,
        ctx,
        row,
        atena_number,
        action="change.add",
        function=FUNCTIONS.entry("residents.suppression_add"),
        start=start.isoformat(),
        end=end.isoformat() if end else None,
    )
    return row


def _suppression_of(
    uow: UnitOfWork, atena_number: str, suppression_id: int, *, lock: bool = True
) -> SuppressionRow:
    """A 抑止 reached through the person: it must target them or their current household."""
    cur = _current_row(uow, atena_number, lock=False)
    stmt = select(SuppressionRow).where(SuppressionRow.id == suppression_id)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.session.scalars(stmt).first()
    if row is None or (row.target_kind, row.target_number) not in (
        (SuppressionTarget.PERSON.value, atena_number),
        (SuppressionTarget.HOUSEHOLD.value, cur.household_number),
    ):
        raise NotFoundError(
            "not-found",
            "この住民（又はその世帯）に指定された抑止番号の抑止は設定されていません。",
            "抑止番号",
        )
    return row


def end_suppression(uow: UnitOfWork, ctx: Context, command: EndSuppression) -> SuppressionRow:
    """抑止の終了 (本解除, spec 3.1): the only way a 抑止 stops applying for good. Published to
    other systems (spec 3.2), unlike a temporary release."""
    atena_number = command.atena_number
    suppression_id = command.suppression_id
    note = command.note
    row = _suppression_of(uow, atena_number, suppression_id)
    if row.ended_on is not None:
        raise RegisterError("suppression.ended", "この抑止は既に終了しています。", "抑止番号")
    row.ended_on = ctx.today
    row.ended_by = ctx.actor.id
    row.end_note = note
    row.released_until = None
    _suppression_event(uow, ctx, row, "ended")
    _audit_suppression(
        uow,
        ctx,
        row,
        atena_number,
        action="change.modify",
        function=FUNCTIONS.entry("residents.suppression_end"),
    )
    return row


def release_temporarily(
    uow: UnitOfWork, ctx: Context, command: ReleaseTemporarily
) -> SuppressionRow:
    """抑止の一時解除 (spec 3.1): the 抑止 stops applying until `now + duration`, then applies
    again by itself (default 30 minutes; the municipality's setting is passed as `duration`).
    Audited, but deliberately NOT published: other systems, コンビニ交付 included, must never
    mistake it for an end. Releasing again restarts the period."""
    atena_number = command.atena_number
    suppression_id = command.suppression_id
    duration = command.duration
    note = command.note
    duration = check_release_duration(duration)
    row = _suppression_of(uow, atena_number, suppression_id)
    if row.ended_on is not None:
        raise RegisterError("suppression.ended", "終了した抑止は一時解除できません。", "抑止番号")
    row.released_until = ctx.now + duration
    row.released_by = ctx.actor.id
    row.release_note = note
    _audit_suppression(
        uow,
        ctx,
        row,
        atena_number,
        action="change.modify",
        function=FUNCTIONS.entry("residents.suppression_release"),
        until=row.released_until.isoformat(),
        minutes=int(duration.total_seconds() // 60),
    )
    return row


def list_suppressions(
    uow: UnitOfWork, ctx: Context, query: SuppressionQuery
) -> list[SuppressionRow]:
    """The person's and their current household's 抑止 (audited read)."""
    atena_number = query.atena_number
    include_ended = query.include_ended
    cur = _current_row(uow, atena_number, lock=False)
    stmt = select(SuppressionRow).where(
        or_(
            and_(
                SuppressionRow.target_kind == SuppressionTarget.PERSON.value,
                SuppressionRow.target_number == atena_number,
            ),
            and_(
                SuppressionRow.target_kind == SuppressionTarget.HOUSEHOLD.value,
                SuppressionRow.target_number == cur.household_number,
            ),
        )
    )
    if not include_ended:
        stmt = stmt.where(SuppressionRow.ended_on.is_(None))
    rows = list(uow.session.scalars(stmt.order_by(SuppressionRow.id)))
    _audit_read(
        uow,
        ctx,
        FUNCTIONS.entry("residents.suppression_inquiry"),
        [atena_number],
        suppressions=[r.id for r in rows],
    )
    return rows


def suppression_applies(row: SuppressionRow, now: datetime) -> bool:
    """Whether the 抑止 applies at `now` (for display: 適用中 / 一時解除中 / 開始前 / 終了)."""
    return suppression_in_force(
        start_date=row.start_date,
        ended_on=row.ended_on,
        released_until=row.released_until,
        now=now,
        today=now.astimezone(JST).date(),
    )
