"""消除: 転出 (予定 and 確定), 死亡 and 職権消除, with the spec 4.0.4 rules for a household
whose head leaves (`_auto_head`).

Why a module of its own: these use cases take persons off the register (除票); `_auto_head` is
also used by 世帯分離 and 世帯変更 in `households`, which import it from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    HEAD,
    MoveOut,
    Reason,
    RegisterError,
    Snapshot,
    Status,
    check_reason_applies,
    legal_date,
)
from kikan.residents.service._common import (
    ChangeResult,
    _active_person,
    _append,
    _check_versions,
    _finish,
    _notification_dates,
    household_members,
    latest,
)
from kikan.residents.service.commands import (
    ConfirmMoveOut,
    PlanMoveOut,
    RecordDeath,
    RemoveExOfficio,
)

# ---------------------------------------------------------------- 消除: 転出, 死亡


def plan_move_out(uow: UnitOfWork, ctx: Context, command: PlanMoveOut) -> ChangeResult:
    """転出届 (予定): the persons stay residents until the move is confirmed; the planned date
    may lie in the future (spec 4.0.3: 転出を除き…)."""
    atena_numbers = command.atena_numbers
    destination = command.destination
    planned_date = command.planned_date
    notified_date = command.notified_date
    expected_versions = command.expected_versions
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


def confirm_move_out(uow: UnitOfWork, ctx: Context, command: ConfirmMoveOut) -> ChangeResult:
    """転出確定 (転入通知の受理 etc.): the persons are removed from the register (除票)."""
    atena_numbers = command.atena_numbers
    moved_date = command.moved_date
    confirmed_destination = command.confirmed_destination
    expected_versions = command.expected_versions
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


def record_death(uow: UnitOfWork, ctx: Context, command: RecordDeath) -> ChangeResult:
    """死亡: the person is removed; if the head dies, spec 4.0.4 applies (see `_auto_head`)."""
    atena_number = command.atena_number
    death_date = command.death_date
    notified_date = command.notified_date
    expected_version = command.expected_version
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


def remove_ex_officio(uow: UnitOfWork, ctx: Context, command: RemoveExOfficio) -> ChangeResult:
    """職権消除 (spec 4.2.0.1, 4.2.2.2): the office removes persons who no longer live here (実態
    調査), were declared missing (失踪), or left the foreign-resident register by 帰化 and the like.
    The entries become 除票; a leaving head triggers the spec 4.0.4 rules (`_auto_head`)."""
    atena_numbers = command.atena_numbers
    removal_date = command.removal_date
    reason = command.reason
    notified_date = command.notified_date
    note = command.note
    expected_versions = command.expected_versions
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
