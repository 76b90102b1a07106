"""Endpoints of 世帯分離・世帯合併・世帯変更 (spec 4.1.4.1).

Why a module of its own: these requests name two households and carry a version per household.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kikan.platform.deps import DbDep, StaffDep, uses
from kikan.platform.functions import Function
from kikan.platform.types import (
    LegalDate,
    Version,
)
from kikan.residents import service
from kikan.residents.api._common import (
    ChangeOut,
    HouseholdNumber,
    VersionMap,
    ZokugaraMap,
    _run_change,
)

router = APIRouter()

# ---------------------------------------------------------------- schemas


class HouseholdSplitRequest(BaseModel):
    household_number: HouseholdNumber = Field(description="分離元の世帯番号")
    zokugara: ZokugaraMap = Field(
        description="分離する世帯員の宛名番号 → 新しい世帯での続柄（世帯主は一人）"
    )
    change_date: LegalDate = Field(description="異動日")
    notified_date: LegalDate | None = Field(default=None, description="届出日")
    expected_household_version: Version | None = Field(default=None, description="分離元世帯の版")


class HouseholdMergeRequest(BaseModel):
    household_number: HouseholdNumber = Field(description="合併先（存続する）世帯の世帯番号")
    merging_household_number: HouseholdNumber = Field(
        description="合併元（消滅する）世帯の世帯番号"
    )
    zokugara: ZokugaraMap = Field(description="合併元の全世帯員の宛名番号 → 新しい続柄")
    change_date: LegalDate = Field(description="異動日")
    notified_date: LegalDate | None = Field(default=None, description="届出日")
    expected_household_versions: VersionMap | None = Field(
        default=None, description="世帯番号 → 版"
    )


class HouseholdChangeRequest(BaseModel):
    household_number: HouseholdNumber = Field(description="異動元の世帯番号")
    target_household_number: HouseholdNumber = Field(description="異動先（既存）の世帯番号")
    zokugara: ZokugaraMap = Field(description="移る世帯員の宛名番号 → 異動先での続柄")
    change_date: LegalDate = Field(description="異動日")
    notified_date: LegalDate | None = Field(default=None, description="届出日")
    expected_household_versions: VersionMap | None = Field(
        default=None, description="世帯番号 → 版"
    )


# ---------------------------------------------------------------- endpoints: 世帯


@router.post("/households/split", response_model=ChangeOut, summary="世帯分離")
def household_split(
    body: HouseholdSplitRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.household_split")],
    db: DbDep,
) -> ChangeOut:
    """指定した世帯員が同じ住所で新しい世帯を作る。新しい世帯番号は応答の household_numbers。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.split_household(
            uow,
            ctx,
            service.SplitHousehold(
                household_number=body.household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        ),
    )


@router.post("/households/merge", response_model=ChangeOut, summary="世帯合併")
def household_merge(
    body: HouseholdMergeRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.household_merge")],
    db: DbDep,
) -> ChangeOut:
    """合併元の世帯員全員が同じ住所の合併先世帯に入り、合併元の世帯は消滅する。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.merge_households(
            uow,
            ctx,
            service.MergeHouseholds(
                household_number=body.household_number,
                merging_household_number=body.merging_household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_versions=body.expected_household_versions,
            ),
        ),
    )


@router.post("/households/change", response_model=ChangeOut, summary="世帯変更（構成変更）")
def household_change(
    body: HouseholdChangeRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.household_change")],
    db: DbDep,
) -> ChangeOut:
    """世帯員の一部が同じ住所の既存の世帯に移る。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.change_household(
            uow,
            ctx,
            service.ChangeHousehold(
                household_number=body.household_number,
                target_household_number=body.target_household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_versions=body.expected_household_versions,
            ),
        ),
    )
