"""世帯分離・世帯合併・世帯変更 (spec 4.1.4.1): persons move between households at the same
address.

Why a module of its own: these use cases lock two households in a fixed order and move members
with new 続柄 (`_lock_households`, `_pick_members`, `_move_members`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    Reason,
    RegisterError,
    Snapshot,
    Status,
    check_household,
    check_same_dwelling,
    new_zokugara,
)
from kikan.residents.service._common import (
    ChangeResult,
    _append,
    _check_household_version,
    _finish,
    _lock_household,
    _new_household,
    _notification_dates,
    household_members,
)
from kikan.residents.service.commands import (
    ChangeHousehold,
    MergeHouseholds,
    SplitHousehold,
)
from kikan.residents.service.removals import _auto_head


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
                "指定された宛名番号の方は、この世帯の世帯員ではありません。",
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


def split_household(uow: UnitOfWork, ctx: Context, command: SplitHousehold) -> ChangeResult:
    """世帯分離 (spec 4.1.4.1): the members named in `zokugara` leave their household and form
    a new one at the same address, with their 続柄 in the new household (exactly one 世帯主).
    If the head leaves, the remaining household follows spec 4.0.4 (`_auto_head`)."""
    household_number = command.household_number
    zokugara = command.zokugara
    change_date = command.change_date
    notified_date = command.notified_date
    expected_household_version = command.expected_household_version
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
    return _move_from(
        uow,
        ctx,
        movers,
        source=household_number,
        target=_new_household(uow),
        zokugara=wanted,
        reason=Reason.HOUSEHOLD_SPLIT,
        day=day,
        notified=notified,
    )


def merge_households(uow: UnitOfWork, ctx: Context, command: MergeHouseholds) -> ChangeResult:
    """世帯合併 (spec 4.1.4.1): every member of `merging_household_number` joins
    `household_number` at the same address, with a new 続柄 each; the merged household ends.
    At most one 世帯主 may result (the joining head usually gets another 続柄)."""
    household_number = command.household_number
    merging_household_number = command.merging_household_number
    zokugara = command.zokugara
    change_date = command.change_date
    notified_date = command.notified_date
    expected_household_versions = command.expected_household_versions
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


def change_household(uow: UnitOfWork, ctx: Context, command: ChangeHousehold) -> ChangeResult:
    """世帯変更（構成変更） (spec 4.1.4.1): some members of `household_number` join the existing
    household `target_household_number` at the same address, with new 続柄. Moving everyone is a
    世帯合併, which linkage partners must see as such, so it is refused here."""
    household_number = command.household_number
    target_household_number = command.target_household_number
    zokugara = command.zokugara
    change_date = command.change_date
    notified_date = command.notified_date
    expected_household_versions = command.expected_household_versions
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
    return _move_from(
        uow,
        ctx,
        movers,
        source=household_number,
        target=target_household_number,
        zokugara=wanted,
        reason=Reason.HOUSEHOLD_CHANGE,
        day=day,
        notified=notified,
    )


def _move_from(
    uow: UnitOfWork,
    ctx: Context,
    movers: Sequence[Snapshot],
    *,
    source: str,
    target: str,
    zokugara: Mapping[str, str],
    reason: Reason,
    day: date,
    notified: date | None,
) -> ChangeResult:
    """Move some members of `source` into `target`, then apply spec 4.0.4 to what remains of
    `source` (世帯分離 and 世帯変更 differ only in where the members go)."""
    moved, versions = _move_members(
        uow,
        ctx,
        movers,
        household=target,
        zokugara=zokugara,
        reason=reason,
        day=day,
        notified=notified,
    )
    warnings, promoted, promoted_versions = _auto_head(uow, ctx, [source], day)
    return _finish(
        uow,
        ctx,
        reason=reason,
        changed=[*moved, *promoted],
        versions={**versions, **promoted_versions},
        households=[source, target],
        valid_from=day,
        action="change.modify",
        warnings=warnings,
    )
