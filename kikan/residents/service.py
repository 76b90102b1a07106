"""Use cases of the resident register: every 異動 is one function, run in the caller's unit of work.

Each use case validates with `domain`, appends one history row per affected person (履歴番号 +1,
full snapshot), updates the `current` projection and the household, writes one outbox event
(`residents.changed`) and one audit record — all in the caller's transaction, so a failed
use case leaves nothing behind. Optimistic versions guard against lost updates: a caller that
read version N and passes it as `expected_versions` gets 409 if someone changed the person since.

抑止 (spec 3.1) is enforced here, not in the API: every 異動 checks the 異動抑止 of the persons and
households it touches (in `_finish`), every read of one person's entry checks the 照会抑止
(`inquiry_check`), and `issue_blockers` answers the certificate issue. Level エラー raises
`SuppressedError` (the caller rolls back and audits the denial); level アラート adds a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, select

from kikan.calendar import RegisterDate
from kikan.moji import address_key, search_key
from kikan.platform import audit, outbox
from kikan.platform.crypto import KeyRing, MyNumber
from kikan.platform.db import utcnow
from kikan.platform.errors import Conflict, NotFound
from kikan.platform.ids import (
    IdentifierError,
    make_atena_number,
    validate_juminhyo_code,
    validate_my_number,
)
from kikan.platform.sequences import next_value
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    DEFAULT_RELEASE,
    HEAD,
    KYUUJI_JAPANESE_ONLY,
    TSUUSHOU_FOREIGN_ONLY,
    Address,
    MoveOut,
    OtherAddress,
    PersonInput,
    ProcessKind,
    Reason,
    RegisterError,
    Snapshot,
    Status,
    SupportEndReason,
    SuppressedError,
    SuppressionLevel,
    SuppressionTarget,
    check_extension_allowed,
    check_household,
    check_other_address,
    check_reason_applies,
    check_release_duration,
    check_same_dwelling,
    clean_kyuuji,
    clean_tsuushou,
    legal_date,
    name_keys,
    new_zokugara,
    search_keys,
    support_period_alert,
    suppression_in_force,
    suppression_target_label,
    validate_person,
)
from kikan.residents.store import (
    CurrentRow,
    HistoryRow,
    HouseholdRow,
    NameKeyRow,
    SupportMeasureRow,
    SuppressionRow,
)
from kikan.standard.zokugara import ZokugaraError, parse_zokugara, rank

JST = ZoneInfo("Asia/Tokyo")
FUNCTION = "住民記録"
EVENT_TOPIC = "residents.changed"
#: 抑止の設定・終了 (spec 3.2 宛名システム等への連携, spec 3.1 コンビニ交付・CS への発行抑止の連携).
#: 一時解除 is deliberately never published (spec 3.1).
SUPPRESSION_TOPIC = "residents.suppression"
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """Who is doing the work and when: 入力場所, 入力端末 (spec 1.3.1) and the 処理日."""

    actor: audit.Actor
    now: datetime = field(default_factory=utcnow)
    keyring: KeyRing | None = None

    @property
    def today(self) -> date:
        """処理日: the processing day in Japan (spec 4.0.3: 処理当日が自動入力)."""
        return self.now.astimezone(JST).date()


@dataclass(frozen=True)
class ChangeResult:
    reason: str
    atena_numbers: list[str]
    household_numbers: list[str]
    versions: dict[str, int]
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- loading


def _snapshot(row: HistoryRow) -> Snapshot:
    return Snapshot.model_validate(row.snapshot)


def _current_row(uow: UnitOfWork, atena: str, *, lock: bool = True) -> CurrentRow:
    stmt = select(CurrentRow).where(CurrentRow.atena_number == atena)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"宛名番号 {atena} の住民は登録されていません。", item="宛名番号")
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
        raise NotFound(f"世帯番号 {household_number} の世帯は登録されていません。", item="世帯番号")
    return row


def _check_versions(uow: UnitOfWork, expected: Mapping[str, int] | None) -> None:
    for atena, version in (expected or {}).items():
        cur = _current_row(uow, atena)
        if cur.version != version:
            raise Conflict(
                f"宛名番号 {atena} の住民は他の処理で更新されています"
                f"（版 {version} → {cur.version}）。"
                "最新の内容を確認してから、もう一度処理してください。",
                item="版",
                slug="stale-version",
                current_version=cur.version,
            )


def _check_household_version(row: HouseholdRow, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(
            f"世帯番号 {row.household_number} の世帯は他の処理で更新されています。"
            "最新の内容を確認してから、もう一度処理してください。",
            item="版",
            slug="stale-version",
            current_version=row.version,
        )


# ---------------------------------------------------------------- writing


def _new_atena(uow: UnitOfWork) -> str:
    return make_atena_number(next_value(uow, "residents.atena"), 15)


def _new_household(uow: UnitOfWork) -> str:
    number = make_atena_number(next_value(uow, "residents.setai"), 15, item="世帯番号")
    uow.session.add(HouseholdRow(household_number=number, head_atena=None, version=1, active=True))
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
    uow.session.execute(delete(NameKeyRow).where(NameKeyRow.atena_number == snap.atena_number))
    for kind, key in name_keys(snap).items():
        uow.session.add(NameKeyRow(atena_number=snap.atena_number, kind=kind, key=key))
    uow.session.flush()
    return cur.version


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
    protected = sorted(a for a in atenas if is_protected(uow, a, ctx.today))
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
            function=f"{FUNCTION}：{reason.value}",
            subjects=atenas,
            mynumber_accessed=mynumber,
            detail={"households": household_list, "valid_from": valid_from.isoformat()},
        ),
    )
    return ChangeResult(reason.value, atenas, household_list, versions, all_warnings)


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


# ---------------------------------------------------------------- 記載: 転入, 出生


@dataclass(frozen=True)
class Mover:
    person: PersonInput
    my_number: str | None = None


def _find_returning(uow: UnitOfWork, p: PersonInput) -> str | None:
    """再転入 (spec 4.1.1.2): a former resident found by 住民票コード or the basic facts."""
    removed = [Status.MOVED_OUT.value, Status.REMOVED.value]
    if p.juminhyo_code:
        row = uow.session.scalars(
            select(CurrentRow).where(
                CurrentRow.juminhyo_code == p.juminhyo_code, CurrentRow.status.in_(removed)
            )
        ).first()
        if row is not None:
            return row.atena_number
    birth = RegisterDate.from_storage(p.birth_date)
    candidates = uow.session.scalars(
        select(CurrentRow).where(
            CurrentRow.name_key == search_key(p.family_name + p.given_name),
            CurrentRow.birth_sort == birth.internal_date,
            CurrentRow.sex == p.sex,
            CurrentRow.status.in_(removed),
        )
    ).all()
    return candidates[0].atena_number if len(candidates) == 1 else None


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


def move_in(
    uow: UnitOfWork,
    ctx: Context,
    *,
    movers: Sequence[Mover],
    address: Address,
    prior_address: OtherAddress | None,
    move_date: date | str,
    notified_date: date | str | None = None,
    reason: Reason = Reason.DOMESTIC_MOVE_IN,
    join_household: str | None = None,
    expected_household_version: int | None = None,
) -> ChangeResult:
    """転入 (国内転入 / 国外転入等, incl. 第30条の46・47): one or more persons move in together,
    as a new household or joining an existing one. Former residents keep their 宛名番号.

    A 国内転入 needs the domestic 転入前住所; for 国外転入等 it is the country and foreign address,
    or blank (第30条の46・47: a foreign resident with no former domestic address, spec 4.5.1-2).
    未届転入 (spec 4.1.1.4) marks the 転入前住所 （未届） and records it in the 留意事項."""
    if reason not in (Reason.DOMESTIC_MOVE_IN, Reason.FOREIGN_MOVE_IN):
        raise RegisterError("reason.invalid", "転入の異動事由が正しくありません。", "異動事由")
    day, notified = _notification_dates(ctx, move_date, notified_date)
    prior = check_other_address(prior_address, "転入前住所")
    if reason == Reason.DOMESTIC_MOVE_IN and (prior is None or prior.address is None):
        raise RegisterError(
            "prior.required", "国内転入では転入前住所を入力してください。", "転入前住所"
        )
    note = f"未届転入（転入前住所: {prior.text()}）" if prior and prior.unreported else ""
    return _enter_persons(
        uow,
        ctx,
        movers=movers,
        address=address,
        prior_address=prior,
        day=day,
        notified=notified,
        reason=reason,
        join_household=join_household,
        expected_household_version=expected_household_version,
        note=note,
    )


#: 職権記載 reasons (spec 1.2.2); the 帰化等/国籍喪失 variants are limited by resident kind.
EX_OFFICIO_ENTRY_REASONS = (
    Reason.EX_OFFICIO_ENTRY,
    Reason.EX_OFFICIO_ENTRY_NATURALISATION,
    Reason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS,
)


def enter_ex_officio(
    uow: UnitOfWork,
    ctx: Context,
    *,
    movers: Sequence[Mover],
    address: Address,
    entry_date: date | str,
    prior_address: OtherAddress | None = None,
    notified_date: date | str | None = None,
    reason: Reason = Reason.EX_OFFICIO_ENTRY,
    join_household: str | None = None,
    expected_household_version: int | None = None,
    note: str = "",
) -> ChangeResult:
    """職権記載 (spec 4.2.0.1, 4.2.1.1, 4.5.3-5): the office enters persons without a 届出, e.g.
    after 帰化 or 国籍喪失 (a 戸籍通知) or when someone was found living here. It works like a
    転入, but a former address is not required (it may be unknown); `notified_date` is the
    戸籍届出・通知日 or 申出日 (spec 4.2.0.4-5)."""
    if reason not in EX_OFFICIO_ENTRY_REASONS:
        raise RegisterError("reason.invalid", "職権記載の異動事由が正しくありません。", "異動事由")
    day, notified = _notification_dates(ctx, entry_date, notified_date)
    return _enter_persons(
        uow,
        ctx,
        movers=movers,
        address=address,
        prior_address=check_other_address(prior_address, "転入前住所"),
        day=day,
        notified=notified,
        reason=reason,
        join_household=join_household,
        expected_household_version=expected_household_version,
        note=note,
    )


def _became_foreign_resident(p: PersonInput, day: date) -> PersonInput:
    if p.foreign is None or p.foreign.became_foreign_resident:
        return p
    foreign = p.foreign.model_copy(update={"became_foreign_resident": day.isoformat()})
    return p.model_copy(update={"foreign": foreign})


def _enter_persons(
    uow: UnitOfWork,
    ctx: Context,
    *,
    movers: Sequence[Mover],
    address: Address,
    prior_address: OtherAddress | None,
    day: date,
    notified: date | None,
    reason: Reason,
    join_household: str | None,
    expected_household_version: int | None,
    note: str,
) -> ChangeResult:
    """The shared part of every 記載 of persons who were not residents before the change."""
    if not movers:
        raise RegisterError("movers.empty", "異動者を一人以上入力してください。", "異動者")
    people = [validate_person(m.person, today=ctx.today) for m in movers]
    for p in people:
        check_reason_applies(reason, p.resident_kind)
    if join_household:
        hh = _lock_household(uow, join_household)
        _check_household_version(hh, expected_household_version)
        household = join_household
        existing = household_members(uow, household)
    else:
        household = _new_household(uow)
        existing = []
    storage_day = RegisterDate.from_date(day).to_storage()
    if reason in (Reason.FOREIGN_MOVE_IN, Reason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS):
        # 外国人住民となった年月日: the day the person first appears here as a foreign resident
        people = [_became_foreign_resident(p, day) for p in people]
    snaps: list[Snapshot] = []
    indexes: dict[str, str] = {}
    versions: dict[str, int] = {}
    for p, m in zip(people, movers, strict=True):
        atena = _find_returning(uow, p) or _new_atena(uow)
        token, indexes[atena] = _encrypt_my_number(uow, ctx, m.my_number)
        snap = Snapshot(
            **p.model_dump(),
            atena_number=atena,
            household_number=household,
            status=Status.RESIDENT,
            address=address,
            became_resident_date=storage_day,
            address_set_date=storage_day,
            prior_address=prior_address,
            my_number_token=token,
        )
        snaps.append(snap)
    check_household(existing + snaps, allow_no_head=bool(join_household))
    for snap in snaps:
        versions[snap.atena_number] = _append(
            uow,
            ctx,
            snap,
            reason=reason,
            valid_from=day,
            notified=notified,
            note=note,
            mynumber_index=indexes[snap.atena_number] or None,
        )
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=snaps,
        versions=versions,
        households=[household],
        valid_from=day,
        mynumber=any(m.my_number for m in movers),
    )


def record_birth(
    uow: UnitOfWork,
    ctx: Context,
    *,
    household_number: str,
    person: PersonInput,
    notified_date: date | str | None = None,
    expected_household_version: int | None = None,
) -> ChangeResult:
    """出生: a child is entered into an existing household; 異動日 is the date of birth."""
    p = validate_person(person, today=ctx.today)
    birth = RegisterDate.from_storage(p.birth_date)
    if not birth.is_exact or not birth.is_calendar_day:
        # a birth filed now becomes the 異動日: it must be a real day (不詳 and non-calendar
        # dates are kept only for entries that come from older records)
        raise RegisterError(
            "birth.not_calendar_day",
            "出生の届出では実在する生年月日を入力してください。",
            "生年月日",
        )
    day = birth.internal_date
    notified = legal_date(notified_date, "届出日", today=ctx.today) if notified_date else None
    hh = _lock_household(uow, household_number)
    _check_household_version(hh, expected_household_version)
    members = household_members(uow, household_number)
    if not members:
        raise RegisterError("household.empty", "世帯に住民がいません。", "世帯番号")
    ref = members[0]
    snap = Snapshot(
        **p.model_dump(),
        atena_number=_new_atena(uow),
        household_number=household_number,
        address=ref.address,
        became_resident_date=p.birth_date,
        address_set_date=p.birth_date,
    )
    check_household([*members, snap])
    version = _append(uow, ctx, snap, reason=Reason.BIRTH, valid_from=day, notified=notified)
    return _finish(
        uow,
        ctx,
        reason=Reason.BIRTH,
        changed=[snap],
        versions={snap.atena_number: version},
        households=[household_number],
        valid_from=day,
    )


# ---------------------------------------------------------------- 修正: 転居, 世帯主変更, 訂正


def move_within(
    uow: UnitOfWork,
    ctx: Context,
    *,
    household_number: str,
    address: Address,
    move_date: date | str,
    notified_date: date | str | None = None,
    expected_household_version: int | None = None,
) -> ChangeResult:
    """転居: the whole household moves to another address in the municipality."""
    day = legal_date(move_date, "異動日", today=ctx.today)
    notified = legal_date(notified_date, "届出日", today=ctx.today) if notified_date else None
    hh = _lock_household(uow, household_number)
    _check_household_version(hh, expected_household_version)
    members = household_members(uow, household_number)
    if not members:
        raise RegisterError("household.empty", "世帯に住民がいません。", "世帯番号")
    if members[0].address == address:
        raise RegisterError("address.same", "転居先の住所が現住所と同じです。", "住所")
    storage_day = RegisterDate.from_date(day).to_storage()
    changed, versions = [], {}
    for m in members:
        snap = m.evolve(
            address=address,
            address_set_date=storage_day,
            previous_address=OtherAddress(address=m.address),
        )
        versions[m.atena_number] = _append(
            uow, ctx, snap, reason=Reason.MOVE_WITHIN, valid_from=day, notified=notified
        )
        changed.append(snap)
    return _finish(
        uow,
        ctx,
        reason=Reason.MOVE_WITHIN,
        changed=changed,
        versions=versions,
        households=[household_number],
        valid_from=day,
    )


def change_head(
    uow: UnitOfWork,
    ctx: Context,
    *,
    household_number: str,
    zokugara: Mapping[str, str],
    change_date: date | str,
    notified_date: date | str | None = None,
    expected_household_version: int | None = None,
) -> ChangeResult:
    """世帯主変更: new 続柄 for the household's members (exactly one becomes 世帯主)."""
    day = legal_date(change_date, "異動日", today=ctx.today)
    notified = legal_date(notified_date, "届出日", today=ctx.today) if notified_date else None
    hh = _lock_household(uow, household_number)
    _check_household_version(hh, expected_household_version)
    members = household_members(uow, household_number)
    by_atena = {m.atena_number: m for m in members}
    unknown = sorted(set(zokugara) - set(by_atena))
    if unknown:
        raise RegisterError(
            "household.not_member",
            f"宛名番号 {unknown[0]} はこの世帯の世帯員ではありません。",
            "宛名番号",
        )
    updated = []
    for atena, text in zokugara.items():
        try:
            display = parse_zokugara(text).display
        except ZokugaraError as exc:
            raise RegisterError(exc.code, exc.message, "続柄") from exc
        updated.append(by_atena[atena].evolve(zokugara=display))
    result_members = [by_atena[a] for a in by_atena if a not in zokugara] + updated
    check_household(result_members, allow_no_head=False)
    versions = {
        s.atena_number: _append(
            uow, ctx, s, reason=Reason.HEAD_CHANGE, valid_from=day, notified=notified
        )
        for s in updated
    }
    return _finish(
        uow,
        ctx,
        reason=Reason.HEAD_CHANGE,
        changed=updated,
        versions=versions,
        households=[household_number],
        valid_from=day,
        action="change.modify",
    )


#: Items a correction may change (identity numbers and status have their own use cases).
CORRECTABLE = frozenset(
    {
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "name_furigana",
        "roman_name",
        "foreign_kanji_name",
        "sex",
        "birth_date",
        "honseki",
        "foreign",
        "memberships",
        "district_code",
        "address",
    }
)
CORRECTION_REASONS = (
    Reason.CLERICAL_CORRECTION,
    Reason.EX_OFFICIO_CORRECTION,
    Reason.MINOR_CORRECTION,
)


def correct(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    changes: Mapping[str, Any],
    reason: Reason = Reason.CLERICAL_CORRECTION,
    note: str = "",
    expected_version: int | None = None,
) -> ChangeResult:
    """誤記修正 / 職権修正 / 軽微な修正: the entry was wrong. The correction is a new row valid
    from the same day as the row it corrects, so "as of" answers show the corrected value
    while "as known at" answers before the correction still show what the register said then."""
    if reason not in CORRECTION_REASONS:
        raise RegisterError("reason.invalid", "修正の異動事由が正しくありません。", "異動事由")
    bad = sorted(set(changes) - CORRECTABLE)
    if bad:
        raise RegisterError("correction.item", f"項目 {bad[0]} は修正できません。", bad[0])
    if not changes:
        raise RegisterError("correction.empty", "修正する項目を指定してください。", "修正内容")
    _check_versions(uow, {atena_number: expected_version} if expected_version is not None else None)
    snap, _ = latest(uow, atena_number)
    if not snap.status.is_active:
        raise RegisterError("status.removed", "消除された住民は修正できません。", "住民状態")
    current_row = _latest_row(uow, atena_number)
    candidate = snap.evolve(**dict(changes))
    checked = validate_person(
        PersonInput(**candidate.model_dump(include=set(PersonInput.model_fields))), today=ctx.today
    )
    corrected = candidate.evolve(**checked.model_dump())
    version = _append(
        uow,
        ctx,
        corrected,
        reason=reason,
        valid_from=current_row.valid_from,
        notified=None,
        note=note,
    )
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=[corrected],
        versions={atena_number: version},
        households=[corrected.household_number],
        valid_from=current_row.valid_from,
        action="change.modify",
    )


def _latest_row(uow: UnitOfWork, atena: str) -> HistoryRow:
    return uow.session.scalars(
        select(HistoryRow)
        .where(HistoryRow.atena_number == atena)
        .order_by(HistoryRow.history_no.desc())
    ).first() or _raise_not_found(atena)


def _raise_not_found(atena: str) -> HistoryRow:
    raise NotFound(f"宛名番号 {atena} の住民は登録されていません。", item="宛名番号")


# ---------------------------------------------------------------- 消除: 転出, 死亡


def plan_move_out(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_numbers: Sequence[str],
    destination: OtherAddress,
    planned_date: date | str,
    notified_date: date | str,
    expected_versions: Mapping[str, int] | None = None,
) -> ChangeResult:
    """転出届 (予定): the persons stay residents until the move is confirmed; the planned date
    may lie in the future (spec 4.0.3: 転出を除き…)."""
    planned = legal_date(planned_date, "転出予定年月日", today=ctx.today, allow_future=True)
    notified = legal_date(notified_date, "転出届出年月日", today=ctx.today)
    if planned > ctx.today + timedelta(days=30):
        raise RegisterError(
            "date.too_far",
            "転出予定年月日は届出からおおむね30日以内で入力してください。",
            "転出予定年月日",
        )
    _check_versions(uow, expected_versions)
    reason = (
        Reason.DOMESTIC_MOVE_OUT if destination.address is not None else Reason.FOREIGN_MOVE_OUT
    )
    changed, versions, households = [], {}, set()
    for atena in atena_numbers:
        snap, _ = latest(uow, atena)
        if snap.status != Status.RESIDENT:
            raise RegisterError(
                "status.not_resident",
                f"宛名番号 {atena} の方は住民ではない（{snap.status.label}）ため、"
                "転出届を受理できません。",
                "住民状態",
            )
        new = snap.evolve(
            status=Status.MOVING_OUT,
            move_out=MoveOut(
                destination=destination,
                planned_date=planned.isoformat(),
                notified_date=notified.isoformat(),
            ),
        )
        versions[atena] = _append(
            uow, ctx, new, reason=reason, valid_from=notified, notified=notified
        )
        changed.append(new)
        households.add(snap.household_number)
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=changed,
        versions=versions,
        households=households,
        valid_from=notified,
        warnings=_head_leaving_warnings(uow, changed),
    )


def confirm_move_out(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_numbers: Sequence[str],
    moved_date: date | str,
    confirmed_destination: OtherAddress | None = None,
    expected_versions: Mapping[str, int] | None = None,
) -> ChangeResult:
    """転出確定 (転入通知の受理 etc.): the persons are removed from the register (除票)."""
    day = legal_date(moved_date, "異動日", today=ctx.today)
    _check_versions(uow, expected_versions)
    changed, versions, households = [], {}, set()
    reason = Reason.DOMESTIC_MOVE_OUT
    for atena in atena_numbers:
        snap, _ = latest(uow, atena)
        if snap.status != Status.MOVING_OUT or snap.move_out is None:
            raise RegisterError(
                "status.no_move_out", f"宛名番号 {atena} の方には転出予定がありません。", "住民状態"
            )
        dest = confirmed_destination or snap.move_out.destination
        reason = Reason.DOMESTIC_MOVE_OUT if dest.address is not None else Reason.FOREIGN_MOVE_OUT
        new = snap.evolve(
            status=Status.MOVED_OUT,
            move_out=snap.move_out.model_copy(update={"destination": dest, "confirmed": True}),
            removal_reason=reason.value,
            removal_date=day.isoformat(),
            zokugara=snap.zokugara,
        )
        versions[atena] = _append(uow, ctx, new, reason=reason, valid_from=day, notified=None)
        changed.append(new)
        households.add(snap.household_number)
    warnings, promoted, promoted_versions = _auto_head(uow, ctx, households, day)
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=[*changed, *promoted],
        versions={**versions, **promoted_versions},
        households=households,
        valid_from=day,
        action="change.add",
        warnings=warnings,
    )


def record_death(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    death_date: date | str,
    notified_date: date | str | None = None,
    expected_version: int | None = None,
) -> ChangeResult:
    """死亡: the person is removed; if the head dies, spec 4.0.4 applies (see `_auto_head`)."""
    day = legal_date(death_date, "死亡年月日", today=ctx.today)
    notified = legal_date(notified_date, "届出日", today=ctx.today) if notified_date else None
    _check_versions(uow, {atena_number: expected_version} if expected_version is not None else None)
    snap, _ = latest(uow, atena_number)
    if not snap.status.is_active:
        raise RegisterError(
            "status.not_resident",
            f"宛名番号 {atena_number} の方は既に消除されています。",
            "住民状態",
        )
    new = snap.evolve(
        status=Status.DEAD, removal_reason=Reason.DEATH.value, removal_date=day.isoformat()
    )
    version = _append(uow, ctx, new, reason=Reason.DEATH, valid_from=day, notified=notified)
    warnings, promoted, promoted_versions = _auto_head(uow, ctx, {snap.household_number}, day)
    return _finish(
        uow,
        ctx,
        reason=Reason.DEATH,
        changed=[new, *promoted],
        versions={atena_number: version, **promoted_versions},
        households=[snap.household_number],
        valid_from=day,
        warnings=warnings,
    )


def _head_leaving_warnings(uow: UnitOfWork, leaving: Sequence[Snapshot]) -> list[str]:
    return [
        f"世帯主（{s.full_name}）が転出予定です。残る世帯員が二人以上の場合は世帯主変更が必要です。"
        for s in leaving
        if s.is_head
    ]


def _auto_head(
    uow: UnitOfWork, ctx: Context, households: Iterable[str], day: date
) -> tuple[list[str], list[Snapshot], dict[str, int]]:
    """Spec 4.0.4: when the head leaves and exactly one member remains, that member becomes
    世帯主 ex officio; with two or more remaining the household is 世帯主不在 until a 世帯主変更.

    Returns the warnings and the promoted persons with their new versions: the promotion is a
    change of that person's 続柄, so it belongs in the change's event and audit record too."""
    warnings: list[str] = []
    promoted: list[Snapshot] = []
    versions: dict[str, int] = {}
    for h in sorted(set(households)):
        members = household_members(uow, h)
        if any(m.is_head for m in members) or not members:
            continue
        if len(members) == 1:
            only = members[0].evolve(zokugara=HEAD)
            versions[only.atena_number] = _append(
                uow,
                ctx,
                only,
                reason=Reason.HEAD_CHANGE,
                valid_from=day,
                notified=None,
                note="世帯主不在のため職権で世帯主とした（残存世帯員1人）",
            )
            promoted.append(only)
            warnings.append(
                f"{only.full_name} を職権で世帯主にしました（世帯主変更通知書の対象）。"
            )
        else:
            warnings.append(
                f"世帯番号 {h} は世帯主不在です（残存世帯員 {len(members)} 人）。"
                "世帯主変更を行ってください。"
            )
    return warnings, promoted, versions


# ---------------------------------------------------------------- 職権消除


#: 職権消除 reasons (spec 1.2.2); the 帰化等/国籍喪失 variants are limited by resident kind.
EX_OFFICIO_REMOVAL_REASONS = (
    Reason.EX_OFFICIO_REMOVAL,
    Reason.EX_OFFICIO_REMOVAL_NATURALISATION,
    Reason.EX_OFFICIO_REMOVAL_NATIONALITY_LOSS,
)


def remove_ex_officio(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_numbers: Sequence[str],
    removal_date: date | str,
    reason: Reason = Reason.EX_OFFICIO_REMOVAL,
    notified_date: date | str | None = None,
    note: str = "",
    expected_versions: Mapping[str, int] | None = None,
) -> ChangeResult:
    """職権消除 (spec 4.2.0.1, 4.2.2.2): the office removes persons who no longer live here (実態
    調査), were declared missing (失踪), or left the foreign-resident register by 帰化 and the like.
    The entries become 除票; a leaving head triggers the spec 4.0.4 rules (`_auto_head`)."""
    if reason not in EX_OFFICIO_REMOVAL_REASONS:
        raise RegisterError("reason.invalid", "職権消除の異動事由が正しくありません。", "異動事由")
    if not atena_numbers:
        raise RegisterError("movers.empty", "異動者を一人以上入力してください。", "異動者")
    day, notified = _notification_dates(ctx, removal_date, notified_date)
    _check_versions(uow, expected_versions)
    changed: list[Snapshot] = []
    versions: dict[str, int] = {}
    households: set[str] = set()
    for atena in dict.fromkeys(atena_numbers):
        snap = _active_person(uow, atena)
        check_reason_applies(reason, snap.resident_kind)
        new = snap.evolve(
            status=Status.REMOVED, removal_reason=reason.value, removal_date=day.isoformat()
        )
        versions[atena] = _append(
            uow, ctx, new, reason=reason, valid_from=day, notified=notified, note=note
        )
        changed.append(new)
        households.add(snap.household_number)
    warnings, promoted, promoted_versions = _auto_head(uow, ctx, households, day)
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=[*changed, *promoted],
        versions={**versions, **promoted_versions},
        households=households,
        valid_from=day,
        warnings=warnings,
    )


# ---------------------------------------------------------------- 世帯分離・世帯合併・世帯変更


def _active_person(uow: UnitOfWork, atena: str) -> Snapshot:
    snap, _ = latest(uow, atena)
    if not snap.status.is_active:
        raise RegisterError(
            "status.not_resident",
            f"宛名番号 {atena} の方は住民ではありません（{snap.status.label}）。",
            "住民状態",
        )
    return snap


def _lock_households(
    uow: UnitOfWork, numbers: Sequence[str], expected: Mapping[str, int] | None
) -> None:
    """Lock the households in one fixed order, so two changes touching the same pair of
    households queue behind each other instead of deadlocking, then check the caller's versions."""
    for number in sorted(set(numbers)):
        _check_household_version(_lock_household(uow, number), (expected or {}).get(number))


def _pick_members(
    members: Sequence[Snapshot], zokugara: Mapping[str, str], household: str
) -> list[Snapshot]:
    """The members named in `zokugara`, who must be current residents of `household`."""
    by_atena = {m.atena_number: m for m in members}
    for atena in zokugara:
        member = by_atena.get(atena)
        if member is None:
            raise RegisterError(
                "household.not_member",
                f"宛名番号 {atena} は世帯番号 {household} の世帯員ではありません。",
                "宛名番号",
            )
        if member.status != Status.RESIDENT:
            raise RegisterError(
                "status.not_resident",
                f"宛名番号 {atena} の方は{member.status.label}のため、世帯の変更はできません。",
                "住民状態",
            )
    return [by_atena[a] for a in zokugara]


def _move_members(
    uow: UnitOfWork,
    ctx: Context,
    movers: Sequence[Snapshot],
    *,
    household: str,
    zokugara: Mapping[str, str],
    reason: Reason,
    day: date,
    notified: date | None,
) -> tuple[list[Snapshot], dict[str, int]]:
    moved = [
        m.evolve(household_number=household, zokugara=zokugara[m.atena_number]) for m in movers
    ]
    versions = {
        s.atena_number: _append(uow, ctx, s, reason=reason, valid_from=day, notified=notified)
        for s in moved
    }
    return moved, versions


def split_household(
    uow: UnitOfWork,
    ctx: Context,
    *,
    household_number: str,
    zokugara: Mapping[str, str],
    change_date: date | str,
    notified_date: date | str | None = None,
    expected_household_version: int | None = None,
) -> ChangeResult:
    """世帯分離 (spec 4.1.4.1): the members named in `zokugara` leave their household and form
    a new one at the same address, with their 続柄 in the new household (exactly one 世帯主).
    If the head leaves, the remaining household follows spec 4.0.4 (`_auto_head`)."""
    day, notified = _notification_dates(ctx, change_date, notified_date)
    wanted = new_zokugara(dict(zokugara))
    hh = _lock_household(uow, household_number)
    _check_household_version(hh, expected_household_version)
    members = household_members(uow, household_number)
    movers = _pick_members(members, wanted, household_number)
    if len(movers) == len(members):
        raise RegisterError(
            "split.everyone",
            "世帯員全員を分離することはできません。残る世帯員を一人以上にしてください。",
            "異動者",
        )
    check_household(
        [m.evolve(zokugara=wanted[m.atena_number]) for m in movers], allow_no_head=False
    )
    new_household = _new_household(uow)
    moved, versions = _move_members(
        uow,
        ctx,
        movers,
        household=new_household,
        zokugara=wanted,
        reason=Reason.HOUSEHOLD_SPLIT,
        day=day,
        notified=notified,
    )
    warnings, promoted, promoted_versions = _auto_head(uow, ctx, [household_number], day)
    return _finish(
        uow,
        ctx,
        reason=Reason.HOUSEHOLD_SPLIT,
        changed=[*moved, *promoted],
        versions={**versions, **promoted_versions},
        households=[household_number, new_household],
        valid_from=day,
        action="change.modify",
        warnings=warnings,
    )


def merge_households(
    uow: UnitOfWork,
    ctx: Context,
    *,
    household_number: str,
    merging_household_number: str,
    zokugara: Mapping[str, str],
    change_date: date | str,
    notified_date: date | str | None = None,
    expected_household_versions: Mapping[str, int] | None = None,
) -> ChangeResult:
    """世帯合併 (spec 4.1.4.1): every member of `merging_household_number` joins
    `household_number` at the same address, with a new 続柄 each; the merged household ends.
    At most one 世帯主 may result (the joining head usually gets another 続柄)."""
    day, notified = _notification_dates(ctx, change_date, notified_date)
    if household_number == merging_household_number:
        raise RegisterError(
            "merge.same", "合併先と合併元に同じ世帯を指定することはできません。", "世帯番号"
        )
    wanted = new_zokugara(dict(zokugara))
    _lock_households(uow, [household_number, merging_household_number], expected_household_versions)
    target = household_members(uow, household_number)
    joining = household_members(uow, merging_household_number)
    if not target or not joining:
        raise RegisterError("household.empty", "世帯に住民がいません。", "世帯番号")
    movers = _pick_members(joining, wanted, merging_household_number)
    missing = [m.atena_number for m in joining if m.atena_number not in wanted]
    if missing:
        raise RegisterError(
            "merge.zokugara_missing",
            f"世帯合併では合併元の世帯員全員の続柄を入力してください（宛名番号 {missing[0]}）。",
            "続柄",
        )
    check_same_dwelling(target[0].address, joining[0].address)
    check_household([*target, *(m.evolve(zokugara=wanted[m.atena_number]) for m in movers)])
    moved, versions = _move_members(
        uow,
        ctx,
        movers,
        household=household_number,
        zokugara=wanted,
        reason=Reason.HOUSEHOLD_MERGE,
        day=day,
        notified=notified,
    )
    return _finish(
        uow,
        ctx,
        reason=Reason.HOUSEHOLD_MERGE,
        changed=moved,
        versions=versions,
        households=[household_number, merging_household_number],
        valid_from=day,
        action="change.modify",
    )


def change_household(
    uow: UnitOfWork,
    ctx: Context,
    *,
    household_number: str,
    target_household_number: str,
    zokugara: Mapping[str, str],
    change_date: date | str,
    notified_date: date | str | None = None,
    expected_household_versions: Mapping[str, int] | None = None,
) -> ChangeResult:
    """世帯変更（構成変更） (spec 4.1.4.1): some members of `household_number` join the existing
    household `target_household_number` at the same address, with new 続柄. Moving everyone is a
    世帯合併, which linkage partners must see as such, so it is refused here."""
    day, notified = _notification_dates(ctx, change_date, notified_date)
    if household_number == target_household_number:
        raise RegisterError(
            "change.same", "異動元と異動先に同じ世帯を指定することはできません。", "世帯番号"
        )
    wanted = new_zokugara(dict(zokugara))
    _lock_households(uow, [household_number, target_household_number], expected_household_versions)
    source = household_members(uow, household_number)
    target = household_members(uow, target_household_number)
    movers = _pick_members(source, wanted, household_number)
    if len(movers) == len(source):
        raise RegisterError(
            "change.everyone",
            "世帯員全員が他の世帯に入る場合は、世帯合併として処理してください。",
            "異動者",
        )
    if not target:
        raise RegisterError("household.empty", "異動先の世帯に住民がいません。", "世帯番号")
    check_same_dwelling(target[0].address, movers[0].address)
    check_household([*target, *(m.evolve(zokugara=wanted[m.atena_number]) for m in movers)])
    moved, versions = _move_members(
        uow,
        ctx,
        movers,
        household=target_household_number,
        zokugara=wanted,
        reason=Reason.HOUSEHOLD_CHANGE,
        day=day,
        notified=notified,
    )
    warnings, promoted, promoted_versions = _auto_head(uow, ctx, [household_number], day)
    return _finish(
        uow,
        ctx,
        reason=Reason.HOUSEHOLD_CHANGE,
        changed=[*moved, *promoted],
        versions={**versions, **promoted_versions},
        households=[household_number, target_household_number],
        valid_from=day,
        action="change.modify",
        warnings=warnings,
    )


# ------------------------------------------------ 旧氏・通称, 個人番号, 住民票コード


def _change_person(
    uow: UnitOfWork,
    ctx: Context,
    new: Snapshot,
    *,
    reason: Reason,
    day: date,
    notified: date | None,
    mynumber_index: str | None = None,
) -> ChangeResult:
    """One person's 修正 that touches no household: one history row, event and audit record."""
    version = _append(
        uow,
        ctx,
        new,
        reason=reason,
        valid_from=day,
        notified=notified,
        mynumber_index=mynumber_index,
    )
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=[new],
        versions={new.atena_number: version},
        households=[new.household_number],
        valid_from=day,
        action="change.modify",
        mynumber=mynumber_index is not None,
    )


def _expect(atena: str, version: int | None) -> dict[str, int] | None:
    return {atena: version} if version is not None else None


def record_kyuuji(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    kyuuji: str,
    requested_date: date | str,
    kyuuji_kana: str = "",
    expected_version: int | None = None,
) -> ChangeResult:
    """旧氏の記載 (spec 1.1.7) on the person's 請求, or 旧氏の変更 when one is already recorded.
    Japanese residents only. The 請求日 is the row's 異動日 and its notified date."""
    day = legal_date(requested_date, "請求日", today=ctx.today)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    name, kana = clean_kyuuji(snap.resident_kind, kyuuji, kyuuji_kana)
    if (name, kana) == (snap.kyuuji, snap.kyuuji_kana):
        raise RegisterError("kyuuji.same", "同じ旧氏が既に記載されています。", "旧氏")
    reason = Reason.KYUUJI_CHANGE if snap.kyuuji else Reason.KYUUJI_ADD
    new = snap.evolve(kyuuji=name, kyuuji_kana=kana)
    return _change_person(uow, ctx, new, reason=reason, day=day, notified=day)


def delete_kyuuji(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    requested_date: date | str,
    expected_version: int | None = None,
) -> ChangeResult:
    """旧氏の削除 (spec 1.1.7) on the person's 請求."""
    day = legal_date(requested_date, "請求日", today=ctx.today)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    if snap.resident_kind != "1":
        raise RegisterError("kyuuji.foreign", KYUUJI_JAPANESE_ONLY, "旧氏")
    if not snap.kyuuji:
        raise RegisterError("kyuuji.none", "旧氏は記載されていません。", "旧氏")
    new = snap.evolve(kyuuji="", kyuuji_kana="")
    return _change_person(uow, ctx, new, reason=Reason.KYUUJI_DELETE, day=day, notified=day)


def record_tsuushou(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    tsuushou: str,
    offered_date: date | str,
    tsuushou_kana: str = "",
    expected_version: int | None = None,
) -> ChangeResult:
    """通称の記載 (spec 1.1.7) on the foreign resident's 申出. The spec knows no 通称の変更:
    a different 通称 is a 削除 followed by a new 記載, so an existing one is refused."""
    day = legal_date(offered_date, "申出日", today=ctx.today)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    name, kana = clean_tsuushou(snap.resident_kind, tsuushou, tsuushou_kana)
    if snap.tsuushou:
        raise RegisterError(
            "tsuushou.exists",
            "既に通称が記載されています。変更する場合は、通称の削除の後に記載してください。",
            "通称",
        )
    new = snap.evolve(tsuushou=name, tsuushou_kana=kana)
    return _change_person(uow, ctx, new, reason=Reason.TSUUSHOU_ADD, day=day, notified=day)


def delete_tsuushou(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    offered_date: date | str,
    expected_version: int | None = None,
) -> ChangeResult:
    """通称の削除 (spec 1.1.7) on the foreign resident's 申出."""
    day = legal_date(offered_date, "申出日", today=ctx.today)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    if snap.resident_kind != "2":
        raise RegisterError("tsuushou.japanese", TSUUSHOU_FOREIGN_ONLY, "通称")
    if not snap.tsuushou:
        raise RegisterError("tsuushou.none", "通称は記載されていません。", "通称")
    new = snap.evolve(tsuushou="", tsuushou_kana="")
    return _change_person(uow, ctx, new, reason=Reason.TSUUSHOU_DELETE, day=day, notified=day)


MYNUMBER_REASONS = (Reason.MYNUMBER_CHANGE, Reason.MYNUMBER_EX_OFFICIO)
JUMINHYO_CODE_REASONS = (Reason.JUMINHYO_CODE_CHANGE, Reason.JUMINHYO_CODE_EX_OFFICIO)


def _others_active(uow: UnitOfWork, atena: str, column: Any, value: str) -> bool:
    """Whether a current resident other than `atena` carries `value` in `column`."""
    row = uow.session.scalars(
        select(CurrentRow.atena_number).where(
            column == value,
            CurrentRow.atena_number != atena,
            CurrentRow.status.in_([Status.RESIDENT.value, Status.MOVING_OUT.value]),
        )
    ).first()
    return row is not None


def change_my_number(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    my_number: str,
    change_date: date | str,
    reason: Reason = Reason.MYNUMBER_CHANGE,
    notified_date: date | str | None = None,
    expected_version: int | None = None,
) -> ChangeResult:
    """個人番号の変更 (spec 4.4, 7.1.2.1): on request (変更請求, e.g. the number leaked) or ex
    officio (職権修正). The new number is checked, stored encrypted with the tenant as context and
    its blind index replaced; it never appears in an error, event or audit record, and the
    audit record says that a My Number was handled."""
    if reason not in MYNUMBER_REASONS:
        raise RegisterError("reason.invalid", "個人番号の異動事由が正しくありません。", "異動事由")
    if not my_number.strip():
        raise RegisterError("required", "個人番号を入力してください。", "個人番号")
    day, notified = _notification_dates(ctx, change_date, notified_date)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    token, index = _encrypt_my_number(uow, ctx, my_number.strip())
    if _current_row(uow, atena_number).mynumber_index == index:
        raise RegisterError(
            "mynumber.same", "入力された個人番号は現在の個人番号と同じです。", "個人番号"
        )
    if _others_active(uow, atena_number, CurrentRow.mynumber_index, index):
        raise RegisterError(
            "mynumber.duplicate", "入力された個人番号は他の住民に記載されています。", "個人番号"
        )
    new = snap.evolve(my_number_token=token)
    return _change_person(
        uow, ctx, new, reason=reason, day=day, notified=notified, mynumber_index=index
    )


def change_juminhyo_code(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    juminhyo_code: str,
    change_date: date | str,
    reason: Reason = Reason.JUMINHYO_CODE_CHANGE,
    notified_date: date | str | None = None,
    expected_version: int | None = None,
) -> ChangeResult:
    """住民票コードの変更請求 (the person asks for a new code, 住基法 第30条の4) or 職権記載
    (spec 4.3.1-2: the office enters a code, e.g. for someone who had none)."""
    if reason not in JUMINHYO_CODE_REASONS:
        raise RegisterError(
            "reason.invalid", "住民票コードの異動事由が正しくありません。", "異動事由"
        )
    try:
        code = validate_juminhyo_code(juminhyo_code.strip())
    except IdentifierError as exc:
        raise RegisterError(exc.code, exc.message, "住民票コード") from exc
    day, notified = _notification_dates(ctx, change_date, notified_date)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    if reason == Reason.JUMINHYO_CODE_CHANGE and not snap.juminhyo_code:
        raise RegisterError(
            "juminhyo_code.none",
            "住民票コードが記載されていないため変更請求はできません。職権記載で処理してください。",
            "住民票コード",
        )
    if snap.juminhyo_code == code:
        raise RegisterError(
            "juminhyo_code.same", "入力された住民票コードは現在のものと同じです。", "住民票コード"
        )
    if _others_active(uow, atena_number, CurrentRow.juminhyo_code, code):
        raise RegisterError(
            "juminhyo_code.duplicate",
            "入力された住民票コードは他の住民に記載されています。",
            "住民票コード",
        )
    new = snap.evolve(juminhyo_code=code)
    return _change_person(uow, ctx, new, reason=reason, day=day, notified=notified)


# ---------------------------------------------------------------- 異動取消


def cancel_last(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    note: str = "",
    expected_version: int | None = None,
) -> ChangeResult:
    """異動の取消し: the person's latest 異動 never happened. A new row restores the snapshot
    before it (or removes a person whose first row is cancelled); both rows stay in history."""
    _check_versions(uow, {atena_number: expected_version} if expected_version is not None else None)
    rows = uow.session.scalars(
        select(HistoryRow)
        .where(HistoryRow.atena_number == atena_number)
        .order_by(HistoryRow.history_no)
    ).all()
    if not rows:
        _raise_not_found(atena_number)
    cancelled = {r.cancels_history_no for r in rows if r.cancels_history_no}
    effective = [r for r in rows if r.cancels_history_no is None and r.history_no not in cancelled]
    if not effective:
        raise RegisterError("cancel.nothing", "取り消せる異動がありません。", "異動")
    target = effective[-1]
    before = effective[-2] if len(effective) > 1 else None
    target_snap = _snapshot(target)
    if before is None:
        restored = target_snap.evolve(
            status=Status.REMOVED,
            removal_reason="異動の取消し",
            removal_date=target.valid_from.isoformat(),
        )
        reason = Reason.CANCEL_REMOVE
    else:
        restored = _snapshot(before)
        was_active, now_active = target_snap.status.is_active, restored.status.is_active
        reason = (
            Reason.CANCEL_ADD
            if now_active and not was_active
            else Reason.CANCEL_REMOVE
            if was_active and not now_active
            else Reason.CANCEL_MODIFY
        )
    if restored.status.is_active:
        members = [
            m
            for m in household_members(uow, restored.household_number)
            if m.atena_number != atena_number
        ]
        check_household([*members, restored])
    version = _append(
        uow,
        ctx,
        restored,
        reason=reason,
        valid_from=target.valid_from,
        notified=None,
        note=note or f"履歴番号 {target.history_no} の異動（{target.reason}）を取り消し",
        cancels=target.history_no,
    )
    households = {restored.household_number, target_snap.household_number}
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=[restored],
        versions={atena_number: version},
        households=households,
        valid_from=target.valid_from,
        action="change.delete",
    )


# ---------------------------------------------------------------- reading (audited)


@dataclass(frozen=True)
class HistoryEntry:
    history_no: int
    reason: str
    valid_from: date
    recorded_at: datetime
    notified_date: date | None
    operator: str
    terminal: str
    place: str
    note: str
    cancels_history_no: int | None
    cancelled: bool
    snapshot: Snapshot


def _audit_read(
    uow: UnitOfWork, ctx: Context, function: str, subjects: Sequence[str], **detail: Any
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


@dataclass(frozen=True)
class Guarded(Generic[T]):
    """What an audited read returns when 照会抑止 at level アラート applies: the value and the
    warnings the clerk must see beside it (spec 3.1)."""

    value: T
    warnings: list[str] = field(default_factory=list)


def read_history(
    uow: UnitOfWork, ctx: Context, atena_number: str, *, known_at: datetime | None = None
) -> Guarded[list[HistoryEntry]]:
    """異動履歴 (spec 2.2.1), optionally as the register knew it at `known_at`, after the
    照会抑止 check (refused at level エラー, warnings at level アラート)."""
    warnings = inquiry_check(uow, ctx, atena_number)
    stmt = (
        select(HistoryRow)
        .where(HistoryRow.atena_number == atena_number)
        .order_by(HistoryRow.history_no)
    )
    if known_at is not None:
        stmt = stmt.where(HistoryRow.recorded_at <= known_at)
    rows = uow.session.scalars(stmt).all()
    if not rows and known_at is None:
        _raise_not_found(atena_number)
    cancelled = {r.cancels_history_no for r in rows if r.cancels_history_no}
    _audit_read(
        uow,
        ctx,
        "異動履歴照会",
        [atena_number],
        known_at=known_at.isoformat() if known_at else None,
    )
    entries = [
        HistoryEntry(
            r.history_no,
            r.reason,
            r.valid_from,
            r.recorded_at,
            r.notified_date,
            r.operator,
            r.terminal,
            r.place,
            r.note,
            r.cancels_history_no,
            r.history_no in cancelled,
            _snapshot(r),
        )
        for r in rows
    ]
    return Guarded(entries, warnings)


def history(
    uow: UnitOfWork, ctx: Context, atena_number: str, *, known_at: datetime | None = None
) -> list[HistoryEntry]:
    """`read_history` without the warnings, for callers that show none (batch, benchmarks)."""
    return read_history(uow, ctx, atena_number, known_at=known_at).value


def read_as_of(
    uow: UnitOfWork,
    ctx: Context,
    atena_number: str,
    *,
    valid_on: date | None = None,
    known_at: datetime | None = None,
) -> Guarded[HistoryEntry | None]:
    """The entry in force on `valid_on` according to what was recorded by `known_at`
    (defaults: today, now). Cancelled 異動 and the cancelling rows themselves are ignored."""
    read = read_history(uow, ctx, atena_number, known_at=known_at)
    day = valid_on or ctx.today
    live = [e for e in read.value if not e.cancelled and e.cancels_history_no is None]
    candidates = [e for e in live if e.valid_from <= day]
    if not candidates:
        return Guarded(None, read.warnings)
    return Guarded(max(candidates, key=lambda e: (e.valid_from, e.history_no)), read.warnings)


def as_of(
    uow: UnitOfWork,
    ctx: Context,
    atena_number: str,
    *,
    valid_on: date | None = None,
    known_at: datetime | None = None,
) -> HistoryEntry | None:
    """`read_as_of` without the warnings."""
    return read_as_of(uow, ctx, atena_number, valid_on=valid_on, known_at=known_at).value


@dataclass(frozen=True)
class ResidentDetail:
    snapshot: Snapshot
    version: int
    measures: list[SupportMeasureRow]
    warnings: list[str]


def detail(uow: UnitOfWork, ctx: Context, atena_number: str) -> ResidentDetail:
    """住民照会: the latest entry with its 支援措置 (spec 2.2.4: visibly flagged) after the
    照会抑止 check. Warnings: 照会抑止 at level アラート and the 支援措置 period alerts of
    spec 3.4."""
    warnings = inquiry_check(uow, ctx, atena_number)
    snap, version = latest(uow, atena_number)
    measures = support_measures(uow, atena_number, ctx.today)
    warnings += [
        alert
        for m in measures
        if (alert := support_period_alert(m.kind, m.end_date, ctx.today)) is not None
    ]
    _audit_read(uow, ctx, "住民照会", [atena_number], support_measure=bool(measures))
    return ResidentDetail(snap, version, measures, warnings)


@dataclass(frozen=True)
class SearchCriteria:
    name: str = ""
    kana: str = ""
    birth_date: str = ""
    address: str = ""
    atena_number: str = ""
    juminhyo_code: str = ""
    include_removed: bool = False
    page: int = 1
    page_size: int = 20


def _prefix(column: Any, key: str) -> ColumnElement[bool]:
    """`column` starts with `key`, written as a range so that PostgreSQL can use the index.

    LIKE is not leakproof, so under row-level security PostgreSQL evaluates it only after the
    policy, as a filter over every row of the tenant (≈0.7 s for a common surname among a
    million residents); the comparison operators are leakproof and become index conditions.
    The keys are compared by code point (collation "C" on PostgreSQL, binary on SQLite), so
    every string with the prefix lies in [key, key + U+10FFFF).
    """
    return and_(column >= key, column < key + "\U0010ffff")


#: Totals above this are reported as "more than" (`total == SEARCH_COUNT_CAP + 1`).
SEARCH_COUNT_CAP = 1000


def search(
    uow: UnitOfWork, ctx: Context, c: SearchCriteria
) -> tuple[list[CurrentRow], int, set[str]]:
    """基本検索 (spec 2.1.3): any combination of criteria; name keys are prefix matches over
    氏名, 通称, 旧氏 and foreign residents' names. The total is exact up to SEARCH_COUNT_CAP."""
    conditions: list[ColumnElement[bool]] = []
    if c.name:
        matching = select(NameKeyRow.atena_number).where(
            _prefix(NameKeyRow.key, search_key(c.name))
        )
        conditions.append(CurrentRow.atena_number.in_(matching))
    if c.kana:
        conditions.append(_prefix(CurrentRow.kana_key, search_key(c.kana)))
    if c.birth_date:
        try:
            birth = RegisterDate.parse(c.birth_date)
        except ValueError as exc:
            raise RegisterError("search.birth", f"生年月日: {exc}", "生年月日") from exc
        conditions.append(CurrentRow.birth_sort == birth.internal_date)
    if c.address:
        conditions.append(CurrentRow.address_key.contains(address_key(c.address), autoescape=True))
    if c.atena_number:
        conditions.append(CurrentRow.atena_number == c.atena_number)
    if c.juminhyo_code:
        conditions.append(CurrentRow.juminhyo_code == c.juminhyo_code)
    if not conditions:
        raise RegisterError("search.empty", "検索条件を一つ以上入力してください。", "検索条件")
    if not c.include_removed:
        conditions.append(CurrentRow.status.in_([Status.RESIDENT, Status.MOVING_OUT]))
    where = and_(*conditions)
    # the total is counted up to a cap: a clerk narrows a search of thousands, and an exact
    # count of a common surname in a big city would cost more than the page itself
    capped = select(CurrentRow.atena_number).where(where).limit(SEARCH_COUNT_CAP + 1).subquery()
    total = uow.session.scalar(select(func.count()).select_from(capped)) or 0
    rows = list(
        uow.session.scalars(
            select(CurrentRow)
            .where(where)
            .order_by(CurrentRow.kana_key, CurrentRow.atena_number)
            .limit(c.page_size)
            .offset((c.page - 1) * c.page_size)
        )
    )
    protected = protected_among(uow, [r.atena_number for r in rows])
    _audit_read(
        uow,
        ctx,
        "住民検索",
        [r.atena_number for r in rows],
        total=total,
        criteria=sorted(
            k
            for k in ("name", "kana", "birth_date", "address", "atena_number", "juminhyo_code")
            if getattr(c, k)
        ),
    )
    return rows, total, protected


# ---------------------------------------------------------------- 支援措置


def support_measures(uow: UnitOfWork, atena: str, on: date) -> list[SupportMeasureRow]:
    """Measures not ended by staff, including expired ones: spec 3.4 wants an alert that the
    period has ended rather than silent expiry (the API marks them `expired`)."""
    stmt = select(SupportMeasureRow).where(
        SupportMeasureRow.atena_number == atena, SupportMeasureRow.ended_on.is_(None)
    )
    return list(uow.session.scalars(stmt))


def protected_among(uow: UnitOfWork, atenas: Sequence[str]) -> set[str]:
    """Which of these persons a 支援措置 protects (one query for a result page)."""
    if not atenas:
        return set()
    stmt = select(SupportMeasureRow.atena_number).where(
        SupportMeasureRow.atena_number.in_(list(atenas)), SupportMeasureRow.ended_on.is_(None)
    )
    return set(uow.session.scalars(stmt))


def is_protected(uow: UnitOfWork, atena: str, on: date) -> bool:
    """Whether 支援措置 (or 仮支援措置) protects the person on `on`.

    Spec 3.1: a suppression does not end by itself when its end date passes; an expired, not
    extended measure is still shown as protected with an alert until staff end it explicitly.
    """
    stmt = select(SupportMeasureRow.id).where(
        SupportMeasureRow.atena_number == atena, SupportMeasureRow.ended_on.is_(None)
    )
    return uow.session.scalars(stmt).first() is not None


def one_year_after(start: date) -> date:
    """Spec 3.4: the period is one year; 令和2年4月1日 → 令和3年3月31日."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 2月29日
        anniversary = date(start.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


def start_support_measure(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    start_date: date | str,
    perpetrators: Sequence[Mapping[str, str]],
    provisional: bool = False,
    end_date: date | str | None = None,
    note: str = "",
) -> SupportMeasureRow:
    """支援措置 (or 仮支援措置 while the need is being confirmed) with the listed 加害者."""
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
            function="支援措置登録",
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
    uow: UnitOfWork, ctx: Context, row: SupportMeasureRow, function: str, **detail: Any
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
        raise NotFound(
            f"宛名番号 {atena} の住民に番号 {measure_id} の支援措置はありません。",
            item="支援措置",
        )
    if row.ended_on is not None:
        raise RegisterError("support.ended", "この支援措置は既に終了しています。", "支援措置")
    return row


def extend_support_measure(
    uow: UnitOfWork, ctx: Context, *, atena_number: str, measure_id: int
) -> SupportMeasureRow:
    """支援措置の延長 (spec 3.4): possible from the first day of the period's last month
    (`domain.final_month_start`); the new period starts the day after the old end and lasts one
    year. A late extension of an expired, not ended measure is accepted on the same terms, so the
    protection stays continuous. A 仮支援措置 is confirmed, not extended."""
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
    uow.session.flush()
    _measure_event(uow, ctx, row, "支援措置の延長")
    _audit_measure(
        uow,
        ctx,
        row,
        "支援措置の延長",
        old_end=old_end.isoformat(),
        start=row.period_start.isoformat(),
        end=row.end_date.isoformat(),
    )
    return row


def end_support_measure(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    measure_id: int,
    reason: SupportEndReason,
    note: str = "",
) -> SupportMeasureRow:
    """支援措置の終了 (spec 3.4) on the person's 申出, after the period passed without extension,
    or when the mayor finds support no longer needed. 期間経過 is only true after the end date."""
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
    uow.session.flush()
    _measure_event(uow, ctx, row, "支援措置の終了")
    _audit_measure(uow, ctx, row, "支援措置の終了", reason=reason.value)
    return row


def confirm_support_measure(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    measure_id: int,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
) -> SupportMeasureRow:
    """仮支援措置 → 支援措置 (spec 3.4): once the need is confirmed the measure starts for real on
    `start_date` (default: today) for one year unless an end date is given. The provisional
    start is kept (spec 1.1.16 仮支援措置の開始年月日)."""
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
    uow.session.flush()
    _measure_event(uow, ctx, row, "支援措置の開始（仮支援措置から切替）")
    _audit_measure(
        uow,
        ctx,
        row,
        "仮支援措置の確定",
        provisional_start=row.provisional_start.isoformat(),
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return row


def support_measure_records(
    uow: UnitOfWork, ctx: Context, atena_number: str, *, include_ended: bool = False
) -> list[SupportMeasureRow]:
    """支援対象者照会 (spec 2.2.4, 3.4): the measures with their 加害者, for the 支援措置責任者.
    Every read is audited, and says that the 加害者 were shown."""
    _current_row(uow, atena_number, lock=False)
    stmt = select(SupportMeasureRow).where(SupportMeasureRow.atena_number == atena_number)
    if not include_ended:
        stmt = stmt.where(SupportMeasureRow.ended_on.is_(None))
    rows = list(uow.session.scalars(stmt.order_by(SupportMeasureRow.id)))
    _audit_read(
        uow, ctx, "支援対象者照会", [atena_number], perpetrators=True, measures=[r.id for r in rows]
    )
    return rows


def support_measure_perpetrators(
    uow: UnitOfWork, ctx: Context, atena_number: str
) -> list[dict[str, Any]]:
    """The 加害者 listed by the person's measures that staff have not ended (expired ones
    included, like `is_protected`). The certificate and 閲覧 rules will call this to refuse a
    request by or for a listed 加害者 (spec 3.4). The read is audited: it takes `ctx` for the
    actor, which is why it differs from the plain `(uow, atena)` lookups."""
    rows = support_measures(uow, atena_number, ctx.today)
    perpetrators = [
        {**p, "measure": r.id, "kind": r.kind} for r in rows for p in (r.perpetrators or [])
    ]
    _audit_read(
        uow,
        ctx,
        "支援対象者照会（加害者）",
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


def inquiry_check(uow: UnitOfWork, ctx: Context, atena_number: str) -> list[str]:
    """照会抑止 of the person and of their current household: raises at level エラー (the caller
    audits the denial after rolling back), returns the warnings at level アラート."""
    cur = uow.session.scalars(
        select(CurrentRow).where(CurrentRow.atena_number == atena_number)
    ).first()
    # an unknown 宛名番号 is the reader's business (404, or an empty "as known at" history)
    households = [cur.household_number] if cur is not None else []
    return _enforce(uow, ctx, ProcessKind.INQUIRY, [atena_number], households)


def denial_event(exc: SuppressedError, function: str) -> audit.AuditEvent:
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
    function: str,
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


def add_suppression(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    kinds: Sequence[str],
    level: str,
    start_date: date | str,
    reason: str,
    end_date: date | str | None = None,
    target: str = SuppressionTarget.PERSON.value,
    note: str = "",
) -> SuppressionRow:
    """抑止の設定 (spec 3.1) for the person or, with `target="household"`, for the household the
    person belongs to now. Several may coexist; each names its processes and level. The end date
    is optional and informational: the 抑止 applies until `end_suppression`."""
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
    uow.session.flush()
    _suppression_event(uow, ctx, row, "added")
    _audit_suppression(
        uow,
        ctx,
        row,
        atena_number,
        action="change.add",
        function="抑止の設定",
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
        raise NotFound(
            f"宛名番号 {atena_number} の住民（又はその世帯）に抑止番号 {suppression_id} の抑止は"
            "設定されていません。",
            item="抑止番号",
        )
    return row


def end_suppression(
    uow: UnitOfWork, ctx: Context, *, atena_number: str, suppression_id: int, note: str = ""
) -> SuppressionRow:
    """抑止の終了 (本解除, spec 3.1): the only way a 抑止 stops applying for good. Published to
    other systems (spec 3.2), unlike a temporary release."""
    row = _suppression_of(uow, atena_number, suppression_id)
    if row.ended_on is not None:
        raise RegisterError("suppression.ended", "この抑止は既に終了しています。", "抑止番号")
    row.ended_on = ctx.today
    row.ended_by = ctx.actor.id
    row.end_note = note
    row.released_until = None
    uow.session.flush()
    _suppression_event(uow, ctx, row, "ended")
    _audit_suppression(uow, ctx, row, atena_number, action="change.modify", function="抑止の終了")
    return row


def release_temporarily(
    uow: UnitOfWork,
    ctx: Context,
    *,
    atena_number: str,
    suppression_id: int,
    duration: timedelta = DEFAULT_RELEASE,
    note: str = "",
) -> SuppressionRow:
    """抑止の一時解除 (spec 3.1): the 抑止 stops applying until `now + duration`, then applies
    again by itself (default 30 minutes; the municipality's setting is passed as `duration`).
    Audited, but deliberately NOT published: other systems, コンビニ交付 included, must never
    mistake it for an end. Releasing again restarts the period."""
    duration = check_release_duration(duration)
    row = _suppression_of(uow, atena_number, suppression_id)
    if row.ended_on is not None:
        raise RegisterError("suppression.ended", "終了した抑止は一時解除できません。", "抑止番号")
    row.released_until = ctx.now + duration
    row.released_by = ctx.actor.id
    row.release_note = note
    uow.session.flush()
    _audit_suppression(
        uow,
        ctx,
        row,
        atena_number,
        action="change.modify",
        function="抑止の一時解除",
        until=row.released_until.isoformat(),
        minutes=int(duration.total_seconds() // 60),
    )
    return row


def list_suppressions(
    uow: UnitOfWork, ctx: Context, atena_number: str, *, include_ended: bool = False
) -> list[SuppressionRow]:
    """The person's and their current household's 抑止 (audited read)."""
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
    _audit_read(uow, ctx, "抑止照会", [atena_number], suppressions=[r.id for r in rows])
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
