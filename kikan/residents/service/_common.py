"""Shared machinery of the resident-register use cases: the context, the result of a change,
loading and locking persons and households, version checks, and the one write path (`_append`
then `_finish`) every 異動 goes through.

Why it is one module: every use-case module depends on it and it depends on none of them, so the
package has no import cycles. That includes the 抑止 gate (`_enforce`) and `is_protected`, which
`_finish` calls for every change; the rest of 支援措置 and 抑止 lives in `protection`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from kikan.calendar import RegisterDate
from kikan.errors import NotFoundError, StaleError
from kikan.platform import audit, numbering, outbox
from kikan.platform.context import JST, Context
from kikan.platform.crypto import MyNumber
from kikan.platform.functions import FunctionLabel
from kikan.platform.ids import IdentifierError, make_atena_number, validate_my_number
from kikan.platform.sequences import next_value
from kikan.platform.types import TRUSTED
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    ProcessKind,
    Reason,
    RegisterError,
    Snapshot,
    Status,
    SuppressedError,
    SuppressionLevel,
    SuppressionTarget,
    check_household,
    legal_date,
    name_keys,
    search_keys,
    suppression_in_force,
    suppression_target_label,
)
from kikan.residents.module import FUNCTIONS
from kikan.residents.store import (
    CurrentRow,
    HistoryRow,
    HouseholdRow,
    NameKeyRow,
    SupportMeasureRow,
    SuppressionRow,
)
from kikan.standard.zokugara import parse_zokugara, rank

FUNCTION = "住民記録"
EVENT_TOPIC = "residents.changed"
#: 抑止の設定・終了 (spec 3.2 宛名システム等への連携, spec 3.1 コンビニ交付・CS への発行抑止の連携).
#: 一時解除 is deliberately never published (spec 3.1).
SUPPRESSION_TOPIC = "residents.suppression"


@dataclass(frozen=True)
class ChangeResult:
    reason: str
    atena_numbers: list[str]
    household_numbers: list[str]
    versions: dict[str, int]
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- loading


def _snapshot(row: HistoryRow) -> Snapshot:
    return Snapshot.model_validate(row.snapshot, context=TRUSTED)


def _current_row(uow: UnitOfWork, atena: str, *, lock: bool = True) -> CurrentRow:
    stmt = select(CurrentRow).where(CurrentRow.atena_number == atena)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.session.scalars(stmt).first()
    if row is None:
        raise NotFoundError(
            "not-found", "指定された宛名番号の住民は登録されていません。", "宛名番号"
        )
    return row


def latest(uow: UnitOfWork, atena: str) -> tuple[Snapshot, int]:
    """The latest snapshot and the person's version."""
    cur = _current_row(uow, atena, lock=False)
    row = uow.session.scalars(
        select(HistoryRow).where(
            HistoryRow.atena_number == atena, HistoryRow.history_no == cur.history_no
        )
    ).one()
    return _snapshot(row), cur.version


def household_members(
    uow: UnitOfWork, household_number: str, *, include_removed: bool = False
) -> list[Snapshot]:
    stmt = select(CurrentRow).where(CurrentRow.household_number == household_number)
    if not include_removed:
        stmt = stmt.where(CurrentRow.status.in_([Status.RESIDENT, Status.MOVING_OUT]))
    rows = uow.session.scalars(stmt).all()
    members = [latest(uow, r.atena_number)[0] for r in rows]
    return sorted(
        members, key=lambda s: (rank(parse_zokugara(s.zokugara)), s.birth_date, s.atena_number)
    )


def _lock_household(uow: UnitOfWork, household_number: str) -> HouseholdRow:
    row = uow.session.scalars(
        select(HouseholdRow)
        .where(HouseholdRow.household_number == household_number)
        .with_for_update()
    ).first()
    if row is None or not row.active:
        raise NotFoundError(
            "not-found", "指定された世帯番号の世帯は登録されていません。", "世帯番号"
        )
    return row


def _check_versions(uow: UnitOfWork, expected: Mapping[str, int] | None) -> None:
    for atena, version in (expected or {}).items():
        cur = _current_row(uow, atena)
        if cur.version != version:
            raise StaleError(
                "stale-version",
                f"宛名番号 {atena} の住民は他の処理で更新されています"
                f"（版 {version} → {cur.version}）。"
                "最新の内容を確認してから、もう一度処理してください。",
                "版",
                current_version=cur.version,
            )


def _check_household_version(row: HouseholdRow, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise StaleError(
            "stale-version",
            f"世帯番号 {row.household_number} の世帯は他の処理で更新されています。"
            "最新の内容を確認してから、もう一度処理してください。",
            "版",
            current_version=row.version,
        )


def _raise_not_found(atena: str) -> HistoryRow:
    raise NotFoundError("not-found", "指定された宛名番号の住民は登録されていません。", "宛名番号")


def _active_person(uow: UnitOfWork, atena: str) -> Snapshot:
    snap, _ = latest(uow, atena)
    if not snap.status.is_active:
        raise RegisterError(
            "status.not_resident",
            f"宛名番号 {atena} の方は住民ではありません（{snap.status.label}）。",
            "住民状態",
        )
    return snap


def _notification_dates(
    ctx: Context, day_value: date | str, notified_value: date | str | None, *, item: str = "異動日"
) -> tuple[date, date | None]:
    """異動日 (≤ 処理日, spec 4.0.3) and the optional 届出日 (or 請求日/申出日),
    which can never precede the 異動日."""
    day = legal_date(day_value, item, today=ctx.today)
    notified = legal_date(notified_value, "届出日", today=ctx.today) if notified_value else None
    if notified and notified < day:
        raise RegisterError("date.order", f"届出日が{item}より前になっています。", "届出日")
    return day, notified


# ---------------------------------------- 抑止 and 支援措置 checks of every change (spec 3.1, 3.4)


def protected_among(uow: UnitOfWork, atenas: Sequence[str]) -> set[str]:
    """Which of these persons a 支援措置 (or 仮支援措置) protects, in one query.

    Spec 3.1: a suppression does not end by itself when its end date passes; an expired, not
    extended measure still protects (with an alert) until staff end it explicitly.
    """
    if not atenas:
        return set()
    stmt = select(SupportMeasureRow.atena_number).where(
        SupportMeasureRow.atena_number.in_(list(atenas)), SupportMeasureRow.ended_on.is_(None)
    )
    return set(uow.session.scalars(stmt))


def is_protected(uow: UnitOfWork, atena: str, on: date) -> bool:
    """Whether 支援措置 protects the person (`on` kept for callers; see `protected_among`)."""
    return atena in protected_among(uow, [atena])


def _open_suppressions(
    uow: UnitOfWork, atenas: Iterable[str], households: Iterable[str]
) -> list[SuppressionRow]:
    """Suppressions not ended by staff that target these persons or households (one query).
    Whether each applies right now is decided in Python by `domain.suppression_in_force`, the
    same way on both backends."""
    persons, homes = sorted(set(atenas)), sorted(set(households))
    targets: list[ColumnElement[bool]] = []
    if persons:
        targets.append(
            and_(
                SuppressionRow.target_kind == SuppressionTarget.PERSON.value,
                SuppressionRow.target_number.in_(persons),
            )
        )
    if homes:
        targets.append(
            and_(
                SuppressionRow.target_kind == SuppressionTarget.HOUSEHOLD.value,
                SuppressionRow.target_number.in_(homes),
            )
        )
    if not targets:
        return []
    stmt = (
        select(SuppressionRow)
        .where(SuppressionRow.ended_on.is_(None), or_(*targets))
        .order_by(SuppressionRow.id)
    )
    return list(uow.session.scalars(stmt))


def _applying(
    rows: Iterable[SuppressionRow], process: ProcessKind, now: datetime
) -> list[SuppressionRow]:
    today = now.astimezone(JST).date()
    return [
        r
        for r in rows
        if process.value in r.kinds
        and suppression_in_force(
            start_date=r.start_date,
            ended_on=r.ended_on,
            released_until=r.released_until,
            now=now,
            today=today,
        )
    ]


def _enforce(
    uow: UnitOfWork,
    ctx: Context,
    process: ProcessKind,
    atenas: Sequence[str],
    households: Sequence[str],
) -> list[str]:
    """Apply the 抑止 of `process` to these persons and households: raise `SuppressedError` if
    one at level エラー applies, else return a warning per one at level アラート."""
    rows = _applying(_open_suppressions(uow, atenas, households), process, ctx.now)
    errors = [r for r in rows if r.level == SuppressionLevel.ERROR.value]
    if errors:
        first = errors[0]
        raise SuppressedError(
            f"{suppression_target_label(first.target_kind, first.target_number)}に"
            f"{process.suppression_label}（エラー、抑止番号 {first.id}）が設定されているため、"
            f"{process.label}の処理はできません。"
            "必要な場合は権限のある職員が抑止の一時解除を行ってください。",
            process=process,
            subjects=sorted({*atenas, *households}),
            suppression_ids=[r.id for r in errors],
        )
    return [
        f"{suppression_target_label(r.target_kind, r.target_number)}に"
        f"{process.suppression_label}（アラート、抑止番号 {r.id}）が設定されています。"
        "内容を確認のうえ処理してください。"
        for r in rows
    ]


def _audit_read(
    uow: UnitOfWork, ctx: Context, function: FunctionLabel, subjects: Sequence[str], **detail: Any
) -> None:
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=function,
            subjects=list(subjects),
            detail=detail,
        ),
    )


# ---------------------------------------------------------------- writing


def _new_atena(uow: UnitOfWork) -> str:
    # the tenant's one 宛名番号 space, shared with 住登外者 (宛名管理): the platform's service
    return numbering.next_atena_number(uow)


def _new_household(uow: UnitOfWork) -> str:
    number = make_atena_number(next_value(uow, "residents.setai"), 15, item="世帯番号")
    uow.session.add(HouseholdRow(household_number=number, head_atena=None, version=1, active=True))
    # the new 世帯番号 (primary key) is checked here, inside the use case, not at commit
    uow.session.flush()
    return number


def _append(
    uow: UnitOfWork,
    ctx: Context,
    snap: Snapshot,
    *,
    reason: Reason,
    valid_from: date,
    notified: date | None,
    note: str = "",
    cancels: int | None = None,
    mynumber_index: str | None = None,
) -> int:
    """Append the next history row for `snap` and refresh its projection; returns the version."""
    cur = uow.session.scalars(
        select(CurrentRow).where(CurrentRow.atena_number == snap.atena_number).with_for_update()
    ).first()
    check_unique_numbers(uow, snap, cur, mynumber_index)
    history_no = (cur.history_no if cur else 0) + 1
    uow.session.add(
        HistoryRow(
            atena_number=snap.atena_number,
            history_no=history_no,
            household_number=snap.household_number,
            status=snap.status.value,
            reason=reason.value,
            valid_from=valid_from,
            recorded_at=ctx.now,
            notified_date=notified,
            operator=ctx.actor.id,
            terminal=ctx.actor.terminal,
            place=ctx.actor.place,
            note=note,
            cancels_history_no=cancels,
            snapshot=snap.model_dump(mode="json"),
        )
    )
    keys = search_keys(snap)
    birth = RegisterDate.from_storage(snap.birth_date)
    values: dict[str, Any] = {
        "history_no": history_no,
        "household_number": snap.household_number,
        "status": snap.status.value,
        "resident_kind": snap.resident_kind,
        "full_name": snap.full_name,
        "full_kana": snap.full_kana,
        "address_text": snap.address.text(),
        "birth_sort": birth.internal_date,
        "birth_display": birth.display(),
        "sex": snap.sex,
        "zokugara": snap.zokugara,
        "juminhyo_code": snap.juminhyo_code,
        **keys,
    }
    if mynumber_index is not None:
        values["mynumber_index"] = mynumber_index
    if cur is None:
        cur = CurrentRow(atena_number=snap.atena_number, version=1, **values)
        uow.session.add(cur)
    else:
        for k, v in values.items():
            setattr(cur, k, v)
        cur.version += 1
    try:  # the projection first: the unique indexes of migration 0013 are checked here
        uow.session.flush()
    except IntegrityError as exc:
        conflict = number_race_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc
    uow.session.execute(delete(NameKeyRow).where(NameKeyRow.atena_number == snap.atena_number))
    for kind, key in name_keys(snap).items():
        uow.session.add(NameKeyRow(atena_number=snap.atena_number, kind=kind, key=key))
    # the name keys are written now, after the delete above ran (a bulk DELETE), not at commit
    uow.session.flush()
    return cur.version


# ---------------------------------------------------------------- unique numbers

#: The partial unique indexes of migration 0013 (among current residents only) and the item
#: each protects. SQLite names the columns in its message, PostgreSQL the index.
UNIQUE_NUMBER_INDEXES = {
    "uq_residents_current_mynumber": ("mynumber_index", "個人番号"),
    "uq_residents_current_juminhyo": ("juminhyo_code", "住民票コード"),
}
#: A My Number held by another current resident: the answer names nobody and does not say that
#: someone else holds it (issue 14, item 14: no look-up oracle for counter staff). The 個人番号の
#: 変更 endpoint audits and throttles this refusal; see docs/identifiers.md.
MYNUMBER_UNUSABLE = "mynumber.unusable"
MYNUMBER_UNUSABLE_MESSAGE = (
    "入力された個人番号では変更できません。本人の個人番号カード等で番号を確認してください。"
)
JUMINHYO_CODE_DUPLICATE = "入力された住民票コードは他の住民に記載されています。"


def _held_by_other(uow: UnitOfWork, atena: str, column: Any, value: str) -> bool:
    return (
        uow.session.scalars(
            select(CurrentRow.atena_number).where(
                column == value,
                CurrentRow.atena_number != atena,
                CurrentRow.status.in_([Status.RESIDENT.value, Status.MOVING_OUT.value]),
            )
        ).first()
        is not None
    )


def check_unique_numbers(
    uow: UnitOfWork, snap: Snapshot, cur: CurrentRow | None, mynumber_index: str | None
) -> None:
    """A My Number and a 住民票コード belong to one current resident only.

    Every write of the register goes through `_append`, which calls this: 転入, 職権記載, 出生,
    修正, 個人番号・住民票コードの変更, 異動の取消し (which can bring a number back) and any
    path added later. Only what changes is checked: a number newly set, or a person who becomes
    a resident again. The unique indexes of migration 0013 enforce the same rule against
    concurrent requests (see `number_race_conflict`).
    """
    if not snap.status.is_active:
        return
    held_index, held_code = "", ""
    if cur is not None and Status(cur.status).is_active:
        held_index, held_code = cur.mynumber_index, cur.juminhyo_code
    index = mynumber_index if mynumber_index is not None else (cur.mynumber_index if cur else "")
    if (
        index
        and index != held_index
        and _held_by_other(uow, snap.atena_number, CurrentRow.mynumber_index, index)
    ):
        raise RegisterError(MYNUMBER_UNUSABLE, MYNUMBER_UNUSABLE_MESSAGE, "個人番号")
    code = snap.juminhyo_code
    if (
        code
        and code != held_code
        and _held_by_other(uow, snap.atena_number, CurrentRow.juminhyo_code, code)
    ):
        raise RegisterError("juminhyo_code.duplicate", JUMINHYO_CODE_DUPLICATE, "住民票コード")


def number_race_conflict(exc: IntegrityError) -> StaleError | None:
    """The 409 for two concurrent requests that set the same number: `check_unique_numbers`
    passed in both (neither saw the other's uncommitted row) and the index refused the second.
    Any other integrity error is not ours to explain (None)."""
    message = str(exc.orig)
    for index_name, (column, item) in UNIQUE_NUMBER_INDEXES.items():
        if index_name in message or f"residents_current.{column}" in message:
            return StaleError(
                "duplicate-number",
                f"同じ{item}が同時に他の住民に記載されました。内容を確認してください。",
                item,
            )
    return None


def _refresh_household(uow: UnitOfWork, household_number: str) -> list[str]:
    """Recompute the head after a change; returns warnings for the clerk (spec 4.0.4)."""
    row = _lock_household(uow, household_number)
    members = household_members(uow, household_number)
    check_household(members)
    heads = [m for m in members if m.is_head]
    row.head_atena = heads[0].atena_number if heads else None
    row.active = bool(members)
    row.version += 1
    if members and not heads:
        return [f"世帯番号 {household_number} は世帯主不在です。世帯主変更を行ってください。"]
    return []


def _finish(
    uow: UnitOfWork,
    ctx: Context,
    *,
    reason: Reason,
    changed: Sequence[Snapshot],
    versions: dict[str, int],
    households: Iterable[str],
    valid_from: date,
    action: str = "change.add",
    warnings: list[str] | None = None,
    mynumber: bool = False,
) -> ChangeResult:
    household_list = sorted(set(households))
    atenas = [s.atena_number for s in changed]
    # 異動抑止 (spec 3.1) is checked here, after the use case did its work in the caller's
    # transaction: every 異動 passes through `_finish`, so none can forget the check, and it sees
    # exactly the persons and households the change touches (ex officio head promotions too).
    # A refusal rolls the whole unit of work back, so nothing of the change is written.
    all_warnings = _enforce(uow, ctx, ProcessKind.CHANGE, atenas, household_list)
    all_warnings += list(warnings or [])
    for h in household_list:
        fresh = _refresh_household(uow, h)
        if not any(f"世帯番号 {h} " in w for w in all_warnings):
            all_warnings += fresh
    protected = sorted(protected_among(uow, atenas))
    outbox.emit(
        uow,
        EVENT_TOPIC,
        {
            "tenant": uow.tenant,
            "atena_numbers": atenas,
            "household_numbers": household_list,
            "reason": reason.value,
            "valid_from": valid_from.isoformat(),
            "processed_on": ctx.today.isoformat(),
            "support_measure": protected,
        },
    )
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action=action,
            function=FUNCTIONS.entry("residents.register").qualified(reason.value),
            subjects=atenas,
            mynumber_accessed=mynumber,
            detail={"households": household_list, "valid_from": valid_from.isoformat()},
        ),
    )
    return ChangeResult(reason.value, atenas, household_list, versions, all_warnings)


def _index_of_token(uow: UnitOfWork, ctx: Context, token: str) -> str:
    """The blind index of a stored My Number token ("" for none): what the projection must hold
    when a change brings an earlier token back (異動の取消し of a 個人番号の変更)."""
    if not token:
        return ""
    if ctx.keyring is None:
        raise RegisterError("mynumber.no_key", "個人番号の暗号鍵が設定されていません。", "個人番号")
    number = ctx.keyring.decrypt_my_number(token, context=uow.tenant)
    return ctx.keyring.blind_index(number.reveal(), context=uow.tenant)


def _encrypt_my_number(uow: UnitOfWork, ctx: Context, value: str | None) -> tuple[str, str]:
    if not value:
        return "", ""
    if ctx.keyring is None:
        raise RegisterError("mynumber.no_key", "個人番号の暗号鍵が設定されていません。", "個人番号")
    try:
        number = MyNumber(validate_my_number(value))
    except IdentifierError as exc:
        raise RegisterError(exc.code, exc.message, "個人番号") from exc
    return (
        ctx.keyring.encrypt_my_number(number, context=uow.tenant),
        ctx.keyring.blind_index(number.reveal(), context=uow.tenant),
    )
