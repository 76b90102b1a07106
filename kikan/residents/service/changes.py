"""修正 of persons who stay residents: 転居, 世帯主変更, 誤記修正・職権修正, 旧氏・通称,
個人番号, 住民票コード, and 異動の取消し.

Why a module of its own: each use case rewrites existing persons' snapshots in place in their
household (no one enters or leaves the register), mostly one person at a time via
`_change_person`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kikan.calendar import RegisterDate
from kikan.platform.context import Context
from kikan.platform.ids import IdentifierError, validate_juminhyo_code
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    KYUUJI_JAPANESE_ONLY,
    TSUUSHOU_FOREIGN_ONLY,
    OtherAddress,
    PersonInput,
    Reason,
    RegisterError,
    Snapshot,
    Status,
    check_household,
    clean_kyuuji,
    clean_tsuushou,
    legal_date,
    validate_person,
)
from kikan.residents.service._common import (
    MYNUMBER_UNUSABLE as MYNUMBER_UNUSABLE,  # noqa: PLC0414 - re-exported for the API
)
from kikan.residents.service._common import (
    ChangeResult,
    _active_person,
    _append,
    _check_household_version,
    _check_versions,
    _current_row,
    _encrypt_my_number,
    _finish,
    _index_of_token,
    _lock_household,
    _notification_dates,
    _raise_not_found,
    _snapshot,
    household_members,
    latest,
)
from kikan.residents.service.commands import (
    CancelLast,
    ChangeHead,
    ChangeJuminhyoCode,
    ChangeMyNumber,
    Correct,
    DeleteKyuuji,
    DeleteTsuushou,
    MoveWithin,
    RecordKyuuji,
    RecordTsuushou,
)
from kikan.residents.store import HistoryRow
from kikan.standard.zokugara import ZokugaraError, parse_zokugara

# ---------------------------------------------------------------- 修正: 転居, 世帯主変更, 訂正


def move_within(uow: UnitOfWork, ctx: Context, command: MoveWithin) -> ChangeResult:
    """転居: the whole household moves to another address in the municipality."""
    household_number = command.household_number
    address = command.address
    move_date = command.move_date
    notified_date = command.notified_date
    expected_household_version = command.expected_household_version
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


def change_head(uow: UnitOfWork, ctx: Context, command: ChangeHead) -> ChangeResult:
    """世帯主変更: new 続柄 for the household's members (exactly one becomes 世帯主)."""
    household_number = command.household_number
    zokugara = command.zokugara
    change_date = command.change_date
    notified_date = command.notified_date
    expected_household_version = command.expected_household_version
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
            "指定された宛名番号の方は、この世帯の世帯員ではありません。",
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


def correct(uow: UnitOfWork, ctx: Context, command: Correct) -> ChangeResult:
    """誤記修正 / 職権修正 / 軽微な修正: the entry was wrong. The correction is a new row valid
    from the same day as the row it corrects, so "as of" answers show the corrected value
    while "as known at" answers before the correction still show what the register said then."""
    atena_number = command.atena_number
    changes = command.changes
    reason = command.reason
    note = command.note
    expected_version = command.expected_version
    if reason not in CORRECTION_REASONS:
        raise RegisterError("reason.invalid", "修正の異動事由が正しくありません。", "異動事由")
    bad = sorted(set(changes) - CORRECTABLE)
    if bad:
        raise RegisterError("correction.item", "修正できない項目が指定されています。", "修正内容")
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


def record_kyuuji(uow: UnitOfWork, ctx: Context, command: RecordKyuuji) -> ChangeResult:
    """旧氏の記載 (spec 1.1.7) on the person's 請求, or 旧氏の変更 when one is already recorded.
    Japanese residents only. The 請求日 is the row's 異動日 and its notified date."""
    atena_number = command.atena_number
    kyuuji = command.kyuuji
    requested_date = command.requested_date
    kyuuji_kana = command.kyuuji_kana
    expected_version = command.expected_version
    day = legal_date(requested_date, "請求日", today=ctx.today)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    name, kana = clean_kyuuji(snap.resident_kind, kyuuji, kyuuji_kana)
    if (name, kana) == (snap.kyuuji, snap.kyuuji_kana):
        raise RegisterError("kyuuji.same", "同じ旧氏が既に記載されています。", "旧氏")
    reason = Reason.KYUUJI_CHANGE if snap.kyuuji else Reason.KYUUJI_ADD
    new = snap.evolve(kyuuji=name, kyuuji_kana=kana)
    return _change_person(uow, ctx, new, reason=reason, day=day, notified=day)


def delete_kyuuji(uow: UnitOfWork, ctx: Context, command: DeleteKyuuji) -> ChangeResult:
    """旧氏の削除 (spec 1.1.7) on the person's 請求."""
    atena_number = command.atena_number
    requested_date = command.requested_date
    expected_version = command.expected_version
    day = legal_date(requested_date, "請求日", today=ctx.today)
    _check_versions(uow, _expect(atena_number, expected_version))
    snap = _active_person(uow, atena_number)
    if snap.resident_kind != "1":
        raise RegisterError("kyuuji.foreign", KYUUJI_JAPANESE_ONLY, "旧氏")
    if not snap.kyuuji:
        raise RegisterError("kyuuji.none", "旧氏は記載されていません。", "旧氏")
    new = snap.evolve(kyuuji="", kyuuji_kana="")
    return _change_person(uow, ctx, new, reason=Reason.KYUUJI_DELETE, day=day, notified=day)


def record_tsuushou(uow: UnitOfWork, ctx: Context, command: RecordTsuushou) -> ChangeResult:
    """通称の記載 (spec 1.1.7) on the foreign resident's 申出. The spec knows no 通称の変更:
    a different 通称 is a 削除 followed by a new 記載, so an existing one is refused."""
    atena_number = command.atena_number
    tsuushou = command.tsuushou
    offered_date = command.offered_date
    tsuushou_kana = command.tsuushou_kana
    expected_version = command.expected_version
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


def delete_tsuushou(uow: UnitOfWork, ctx: Context, command: DeleteTsuushou) -> ChangeResult:
    """通称の削除 (spec 1.1.7) on the foreign resident's 申出."""
    atena_number = command.atena_number
    offered_date = command.offered_date
    expected_version = command.expected_version
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


def change_my_number(uow: UnitOfWork, ctx: Context, command: ChangeMyNumber) -> ChangeResult:
    """個人番号の変更 (spec 4.4, 7.1.2.1): on request (変更請求, e.g. the number leaked) or ex
    officio (職権修正). The new number is checked, stored encrypted with the tenant as context and
    its blind index replaced; it never appears in an error, event or audit record, and the
    audit record says that a My Number was handled."""
    atena_number = command.atena_number
    my_number = command.my_number
    change_date = command.change_date
    reason = command.reason
    notified_date = command.notified_date
    expected_version = command.expected_version
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
    # Checked last, in `_append` (the shared check of every write path): only a request that
    # would really change this person's number gets there, and its refusal, `mynumber.unusable`,
    # names nobody and does not say "someone else has it" (see docs/identifiers.md).
    new = snap.evolve(my_number_token=token)
    return _change_person(
        uow, ctx, new, reason=reason, day=day, notified=notified, mynumber_index=index
    )


def change_juminhyo_code(
    uow: UnitOfWork, ctx: Context, command: ChangeJuminhyoCode
) -> ChangeResult:
    """住民票コードの変更請求 (the person asks for a new code, 住基法 第30条の4) or 職権記載
    (spec 4.3.1-2: the office enters a code, e.g. for someone who had none)."""
    atena_number = command.atena_number
    juminhyo_code = command.juminhyo_code
    change_date = command.change_date
    reason = command.reason
    notified_date = command.notified_date
    expected_version = command.expected_version
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
    # a code held by another resident is refused by the shared check in `_append`
    new = snap.evolve(juminhyo_code=code)
    return _change_person(uow, ctx, new, reason=reason, day=day, notified=notified)


# ---------------------------------------------------------------- 異動取消


def cancel_last(uow: UnitOfWork, ctx: Context, command: CancelLast) -> ChangeResult:
    """異動の取消し: the person's latest 異動 never happened. A new row restores the snapshot
    before it (or removes a person whose first row is cancelled); both rows stay in history."""
    atena_number = command.atena_number
    note = command.note
    expected_version = command.expected_version
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
    # cancelling a 個人番号の変更 brings the earlier number back: its blind index too, so the
    # projection (search, the uniqueness rule) agrees with the restored entry
    index = (
        _index_of_token(uow, ctx, restored.my_number_token)
        if restored.my_number_token != target_snap.my_number_token
        else None
    )
    version = _append(
        uow,
        ctx,
        restored,
        reason=reason,
        valid_from=target.valid_from,
        notified=None,
        note=note or f"履歴番号 {target.history_no} の異動（{target.reason}）を取り消し",
        cancels=target.history_no,
        mynumber_index=index,
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
