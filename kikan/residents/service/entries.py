"""記載 of persons who were not residents before the change: 転入 (incl. 再転入 lookup,
未届転入, 国外転入等), 職権記載 and 出生.

Why a module of its own: these are the only use cases that create persons (a new or returning
宛名番号, encrypted My Number, often a new household), and they share `_enter_persons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from kikan.calendar import RegisterDate
from kikan.moji import search_key
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    Address,
    OtherAddress,
    PersonInput,
    Reason,
    RegisterError,
    Snapshot,
    Status,
    check_household,
    check_other_address,
    check_reason_applies,
    legal_date,
    validate_person,
)
from kikan.residents.service._common import (
    ChangeResult,
    _append,
    _check_household_version,
    _encrypt_my_number,
    _finish,
    _lock_household,
    _new_atena,
    _new_household,
    _notification_dates,
    household_members,
)
from kikan.residents.service.commands import (
    EnterExOfficio,
    MoveIn,
    Mover,
    RecordBirth,
)
from kikan.residents.store import CurrentRow


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


def move_in(uow: UnitOfWork, ctx: Context, command: MoveIn) -> ChangeResult:
    """転入 (国内転入 / 国外転入等, incl. 第30条の46・47): one or more persons move in together,
    as a new household or joining an existing one. Former residents keep their 宛名番号.

    A 国内転入 needs the domestic 転入前住所; for 国外転入等 it is the country and foreign address,
    or blank (第30条の46・47: a foreign resident with no former domestic address, spec 4.5.1-2).
    未届転入 (spec 4.1.1.4) marks the 転入前住所 （未届） and records it in the 留意事項."""
    movers = command.movers
    address = command.address
    prior_address = command.prior_address
    move_date = command.move_date
    notified_date = command.notified_date
    reason = command.reason
    join_household = command.join_household
    expected_household_version = command.expected_household_version
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


def enter_ex_officio(uow: UnitOfWork, ctx: Context, command: EnterExOfficio) -> ChangeResult:
    """職権記載 (spec 4.2.0.1, 4.2.1.1, 4.5.3-5): the office enters persons without a 届出, e.g.
    after 帰化 or 国籍喪失 (a 戸籍通知) or when someone was found living here. It works like a
    転入, but a former address is not required (it may be unknown); `notified_date` is the
    戸籍届出・通知日 or 申出日 (spec 4.2.0.4-5)."""
    movers = command.movers
    address = command.address
    entry_date = command.entry_date
    prior_address = command.prior_address
    notified_date = command.notified_date
    reason = command.reason
    join_household = command.join_household
    expected_household_version = command.expected_household_version
    note = command.note
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


def record_birth(uow: UnitOfWork, ctx: Context, command: RecordBirth) -> ChangeResult:
    """出生: a child is entered into an existing household; 異動日 is the date of birth."""
    household_number = command.household_number
    person = command.person
    notified_date = command.notified_date
    expected_household_version = command.expected_household_version
    p = validate_person(person, today=ctx.today)
    birth = RegisterDate.from_storage(p.birth_date)
    # a birth filed now becomes the 異動日: it must be a real day (不詳 and non-calendar
    # dates are kept only for entries that come from older records). A day that never existed
    # is refused with the same code and words whichever form it was typed in (2024-02-30 fails
    # in the parser, 令和6年2月30日 is a register form that reaches this point).
    if not birth.is_calendar_day:
        raise RegisterError("nonexistent_date", "生年月日は存在しない日付です。", "生年月日")
    if not birth.is_exact:
        raise RegisterError(
            "date.unknown_not_allowed",
            "出生の届出では生年月日に不詳の日付は使えません。",
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
