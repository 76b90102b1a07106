"""Endpoints of the 異動 that enter, change and remove persons: 転入, 出生, 転居, 転出 (予定・確定),
死亡, 世帯主変更, 修正, 異動の取消し, 職権記載 and 職権消除.

Why a module of its own: each endpoint maps one request to one use case and answers `ChangeOut`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kikan.platform.deps import DbDep, StaffDep, uses
from kikan.platform.functions import Function
from kikan.platform.types import (
    Chars,
    LegalDate,
    Version,
)
from kikan.residents import service
from kikan.residents.api._common import (
    MAX_PERSONS,
    AtenaNumber,
    AtenaNumbers,
    AtenaPath,
    ChangeOut,
    HouseholdNumber,
    IfMatchHeader,
    Note,
    VersionMap,
    ZokugaraMap,
    _if_match,
    _run_change,
)
from kikan.residents.domain import Address, OtherAddress, PersonInput, Reason

router = APIRouter()

# ---------------------------------------------------------------- schemas


class MoverIn(BaseModel):
    person: PersonInput
    my_number: Annotated[str, Chars(20)] | None = Field(
        default=None, description="個人番号（12桁。暗号化して保存）"
    )


class MoveInRequest(BaseModel):
    movers: list[MoverIn] = Field(
        min_length=1, max_length=MAX_PERSONS, description="異動者（家族で転入する場合は全員）"
    )
    address: Address = Field(description="転入先の住所")
    prior_address: OtherAddress | None = Field(
        default=None,
        description="転入前住所（国外の場合は国名コードと国外住所。"
        "第30条の46・47 の場合は省略して空欄）",
    )
    move_date: LegalDate = Field(description="異動日（転入した日）")
    notified_date: LegalDate | None = Field(default=None, description="届出日")
    reason: Literal["国内転入", "国外転入等"] = Field(default="国内転入", description="異動事由")
    join_household: HouseholdNumber | None = Field(
        default=None, description="既存世帯に入る場合の世帯番号"
    )
    expected_household_version: Version | None = Field(default=None, description="既存世帯の版")


class BirthRequest(BaseModel):
    household_number: HouseholdNumber = Field(description="出生子が入る世帯の世帯番号")
    person: PersonInput
    notified_date: LegalDate | None = None
    expected_household_version: Version | None = None


class MoveWithinRequest(BaseModel):
    household_number: HouseholdNumber
    address: Address = Field(description="転居先の住所")
    move_date: LegalDate = Field(description="異動日（転居した日）")
    notified_date: LegalDate | None = None
    expected_household_version: Version | None = None


class MoveOutRequest(BaseModel):
    atena_numbers: AtenaNumbers = Field()
    destination: OtherAddress = Field(description="転出先住所（予定）")
    planned_date: LegalDate = Field(description="転出予定年月日")
    notified_date: LegalDate = Field(description="転出届出年月日")
    expected_versions: VersionMap | None = None


class MoveOutConfirmRequest(BaseModel):
    atena_numbers: AtenaNumbers = Field()
    moved_date: LegalDate = Field(description="異動日（転出した日）")
    confirmed_destination: OtherAddress | None = Field(
        default=None, description="転出先住所（確定）"
    )
    expected_versions: VersionMap | None = None


class DeathRequest(BaseModel):
    atena_number: AtenaNumber
    death_date: LegalDate = Field(description="死亡年月日")
    notified_date: LegalDate | None = None
    expected_version: Version | None = None


class HeadChangeRequest(BaseModel):
    household_number: HouseholdNumber
    zokugara: ZokugaraMap = Field(description="宛名番号 → 新しい続柄（新世帯主は「世帯主」）")
    change_date: LegalDate
    notified_date: LegalDate | None = None
    expected_household_version: Version | None = None


class ExOfficioEntryRequest(BaseModel):
    movers: list[MoverIn] = Field(min_length=1, max_length=MAX_PERSONS, description="記載する者")
    address: Address = Field(description="住所")
    prior_address: OtherAddress | None = Field(
        default=None, description="転入前住所（不明・なしの場合は省略）"
    )
    entry_date: LegalDate = Field(description="異動日")
    notified_date: LegalDate | None = Field(default=None, description="戸籍届出・通知日又は申出日")
    reason: Literal["職権記載", "職権記載（帰化等）", "職権記載（国籍喪失）"] = "職権記載"
    join_household: HouseholdNumber | None = Field(
        default=None, description="既存世帯に入る場合の世帯番号"
    )
    expected_household_version: Version | None = Field(default=None, description="既存世帯の版")
    note: Note = Field(default="", description="留意事項（職権記載の理由など）")


class ExOfficioRemovalRequest(BaseModel):
    atena_numbers: AtenaNumbers = Field(description="消除する者の宛名番号")
    removal_date: LegalDate = Field(description="異動日（消除の年月日）")
    reason: Literal["職権消除", "職権消除（帰化等）", "職権消除（国籍喪失）"] = "職権消除"
    notified_date: LegalDate | None = Field(default=None, description="戸籍届出・通知日又は申出日")
    note: Note = Field(default="", description="留意事項（実態調査の結果など）")
    expected_versions: VersionMap | None = None


class CorrectionRequest(BaseModel):
    changes: dict[Annotated[str, Chars(40)], Any] = Field(
        max_length=40,
        description="修正する項目と新しい値（値は住民の記載事項と同じ型で検査する）",
    )
    reason: Literal["誤記修正", "職権修正", "軽微な修正"] = "誤記修正"
    note: Note = Field(default="", description="留意事項")


class CancelRequest(BaseModel):
    note: Note = Field(default="", description="取消しの理由")


# ---------------------------------------------------------------- endpoints: 異動


@router.post("/residents/move-in", response_model=ChangeOut, status_code=201, summary="転入")
def move_in(
    body: MoveInRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.move_in")],
    db: DbDep,
) -> ChangeOut:
    """転入（家族・再転入・国外転入・未届転入を含む）。

    転入前住所の `unreported` が真なら未届転入。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.move_in(
            uow,
            ctx,
            service.MoveIn(
                movers=[service.Mover(m.person, m.my_number) for m in body.movers],
                address=body.address,
                prior_address=body.prior_address,
                move_date=body.move_date,
                notified_date=body.notified_date,
                reason=Reason(body.reason),
                join_household=body.join_household,
                expected_household_version=body.expected_household_version,
            ),
        ),
    )


@router.post("/residents/birth", response_model=ChangeOut, status_code=201, summary="出生")
def birth(
    body: BirthRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.birth")],
    db: DbDep,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.record_birth(
            uow,
            ctx,
            service.RecordBirth(
                household_number=body.household_number,
                person=body.person,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        ),
    )


@router.post("/residents/move-within", response_model=ChangeOut, summary="転居")
def move_within(
    body: MoveWithinRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.move_within")],
    db: DbDep,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.move_within(
            uow,
            ctx,
            service.MoveWithin(
                household_number=body.household_number,
                address=body.address,
                move_date=body.move_date,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        ),
    )


@router.post("/residents/move-out", response_model=ChangeOut, summary="転出届（予定）")
def move_out(
    body: MoveOutRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.move_out")],
    db: DbDep,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.plan_move_out(
            uow,
            ctx,
            service.PlanMoveOut(
                atena_numbers=body.atena_numbers,
                destination=body.destination,
                planned_date=body.planned_date,
                notified_date=body.notified_date,
                expected_versions=body.expected_versions,
            ),
        ),
    )


@router.post("/residents/move-out/confirm", response_model=ChangeOut, summary="転出確定")
def move_out_confirm(
    body: MoveOutConfirmRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.move_out_confirm")],
    db: DbDep,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.confirm_move_out(
            uow,
            ctx,
            service.ConfirmMoveOut(
                atena_numbers=body.atena_numbers,
                moved_date=body.moved_date,
                confirmed_destination=body.confirmed_destination,
                expected_versions=body.expected_versions,
            ),
        ),
    )


@router.post("/residents/death", response_model=ChangeOut, summary="死亡")
def death(
    body: DeathRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.death")],
    db: DbDep,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.record_death(
            uow,
            ctx,
            service.RecordDeath(
                atena_number=body.atena_number,
                death_date=body.death_date,
                notified_date=body.notified_date,
                expected_version=body.expected_version,
            ),
        ),
    )


@router.post("/households/head-change", response_model=ChangeOut, summary="世帯主変更")
def head_change(
    body: HeadChangeRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.head_change")],
    db: DbDep,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.change_head(
            uow,
            ctx,
            service.ChangeHead(
                household_number=body.household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        ),
    )


@router.post(
    "/residents/{atena_number}/corrections",
    response_model=ChangeOut,
    summary="修正（誤記修正・職権修正）",
)
def corrections(
    atena_number: AtenaPath,
    *,
    body: CorrectionRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.correct")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.correct(
            uow,
            ctx,
            service.Correct(
                atena_number=atena_number,
                changes=body.changes,
                reason=Reason(body.reason),
                note=body.note,
                expected_version=_if_match(if_match),
            ),
        ),
    )


@router.post("/residents/{atena_number}/cancel", response_model=ChangeOut, summary="異動の取消し")
def cancel(
    atena_number: AtenaPath,
    *,
    body: CancelRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.cancel")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.cancel_last(
            uow,
            ctx,
            service.CancelLast(
                atena_number=atena_number, note=body.note, expected_version=_if_match(if_match)
            ),
        ),
    )


# ---------------------------------------------------------------- endpoints: 職権記載・職権消除


@router.post(
    "/residents/ex-officio-entry", response_model=ChangeOut, status_code=201, summary="職権記載"
)
def ex_officio_entry(
    body: ExOfficioEntryRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.ex_officio_entry")],
    db: DbDep,
) -> ChangeOut:
    """職権記載（帰化・国籍喪失の戸籍通知、実態調査による記載など）。転入前住所は任意。

    職権による記載は審査・決裁を経るため、審査権限（approver）の職員だけが行える。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.enter_ex_officio(
            uow,
            ctx,
            service.EnterExOfficio(
                movers=[service.Mover(m.person, m.my_number) for m in body.movers],
                address=body.address,
                prior_address=body.prior_address,
                entry_date=body.entry_date,
                notified_date=body.notified_date,
                reason=Reason(body.reason),
                join_household=body.join_household,
                expected_household_version=body.expected_household_version,
                note=body.note,
            ),
        ),
    )


@router.post("/residents/ex-officio-removal", response_model=ChangeOut, summary="職権消除")
def ex_officio_removal(
    body: ExOfficioRemovalRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.ex_officio_removal")],
    db: DbDep,
) -> ChangeOut:
    """職権消除（実態調査、失踪宣告、帰化・国籍喪失など）。審査権限の職員だけが行える。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.remove_ex_officio(
            uow,
            ctx,
            service.RemoveExOfficio(
                atena_numbers=body.atena_numbers,
                removal_date=body.removal_date,
                reason=Reason(body.reason),
                notified_date=body.notified_date,
                note=body.note,
                expected_versions=body.expected_versions,
            ),
        ),
    )
