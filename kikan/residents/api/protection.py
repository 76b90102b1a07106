"""Endpoints of 支援措置 (spec 3.4) and 抑止 (spec 3.1), for approvers (支援措置責任者).

Why a module of its own: these endpoints manage measures and suppressions, not history rows,
and answer with their own schemas.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from kikan.platform import auth
from kikan.platform.context import Context
from kikan.platform.deps import DbDep, StaffDep, uses
from kikan.platform.functions import Function
from kikan.platform.types import (
    Chars,
    Id,
    ItemClass,
    LegalDate,
)
from kikan.residents import service
from kikan.residents.api._common import (
    AtenaPath,
    Note,
    SupportMeasureOut,
    _measure_fields,
    _measures,
    _run,
    _today,
)
from kikan.residents.domain import DEFAULT_RELEASE, SupportEndReason
from kikan.residents.store import SuppressionRow

router = APIRouter()

MeasureIdPath = Annotated[Id, Path(description="支援措置の番号")]
SuppressionIdPath = Annotated[Id, Path(description="抑止番号")]

# ---------------------------------------------------------------- endpoints: 支援措置 (spec 3.4)


#: 加害者: a few named items (氏名・生年月日・住所 …), each one line.
Perpetrator = Annotated[
    dict[Annotated[str, Chars(40)], Annotated[str, Chars(400)]], Field(max_length=20)
]


class SupportMeasureRequest(BaseModel):
    start_date: LegalDate
    end_date: LegalDate | None = Field(default=None, description="省略時は開始日から1年")
    provisional: bool = Field(default=False, description="仮支援措置")
    perpetrators: list[Perpetrator] = Field(
        default_factory=list, max_length=20, description="加害者（氏名・生年月日・住所 等）"
    )
    note: Note = ""


class SupportMeasureDetailOut(SupportMeasureOut):
    perpetrators: list[dict[str, Any]] = Field(description="加害者（閲覧は監査記録に残る）")
    note: str = Field(description="備考")
    created_by: str


def _measure_details(rows: list[Any], today: date) -> list[SupportMeasureDetailOut]:
    return [
        SupportMeasureDetailOut(
            **_measure_fields(r, today),
            perpetrators=list(r.perpetrators or []),
            note=r.note,
            created_by=r.created_by,
        )
        for r in rows
    ]


class SupportEndRequest(BaseModel):
    reason: Literal["申出", "期間経過", "必要性なし"] = Field(description="終了事由")
    note: Note = Field(default="", description="備考")


class SupportConfirmRequest(BaseModel):
    start_date: LegalDate | None = Field(
        default=None, description="支援措置の開始年月日（省略時は当日）"
    )
    end_date: LegalDate | None = Field(default=None, description="省略時は開始日から1年")


@router.post(
    "/residents/{atena_number}/support-measures",
    status_code=201,
    response_model=SupportMeasureOut,
    summary="支援措置の登録",
)
def add_support_measure(
    atena_number: AtenaPath,
    *,
    body: SupportMeasureRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.support_measure_add")],
    db: DbDep,
) -> SupportMeasureOut:
    row = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.start_support_measure(
            uow,
            ctx,
            service.StartSupportMeasure(
                atena_number=atena_number,
                start_date=body.start_date,
                end_date=body.end_date,
                perpetrators=body.perpetrators,
                provisional=body.provisional,
                note=body.note,
            ),
        ),
    )
    return _measures([row], _today(staff))[0]


@router.get(
    "/residents/{atena_number}/support-measures",
    response_model=list[SupportMeasureDetailOut],
    summary="支援対象者照会（加害者を含む）",
)
def list_support_measures(
    atena_number: AtenaPath,
    *,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.support_measure_inquiry")],
    db: DbDep,
    include_ended: bool = False,
) -> list[SupportMeasureDetailOut]:
    """支援措置のデータベース（spec 1.1.16, 2.2.4）。加害者を含むため審査権限（支援措置責任者）
    だけが照会でき、照会は監査記録に残る。"""
    rows = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.support_measure_records(
            uow,
            ctx,
            service.SupportMeasureQuery(atena_number=atena_number, include_ended=include_ended),
        ),
    )
    return _measure_details(rows, _today(staff))


@router.post(
    "/residents/{atena_number}/support-measures/{measure_id}/extend",
    response_model=SupportMeasureOut,
    summary="支援措置の延長",
)
def extend_support_measure(
    atena_number: AtenaPath,
    measure_id: MeasureIdPath,
    *,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.support_measure_extend")],
    db: DbDep,
) -> SupportMeasureOut:
    """期間終了日の1か月前（期間の最後の1か月の初日）から延長できる。延長後の期間は、延長前の
    終了日の翌日から1年。"""
    row = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.extend_support_measure(
            uow, ctx, service.ExtendSupportMeasure(atena_number=atena_number, measure_id=measure_id)
        ),
    )
    return _measures([row], _today(staff))[0]


@router.post(
    "/residents/{atena_number}/support-measures/{measure_id}/end",
    response_model=SupportMeasureOut,
    summary="支援措置の終了",
)
def end_support_measure(
    atena_number: AtenaPath,
    measure_id: MeasureIdPath,
    *,
    body: SupportEndRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.support_measure_end")],
    db: DbDep,
) -> SupportMeasureOut:
    """終了事由: 申出、期間経過（期間終了日の翌日以降）、必要性なし。"""
    row = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.end_support_measure(
            uow,
            ctx,
            service.EndSupportMeasure(
                atena_number=atena_number,
                measure_id=measure_id,
                reason=SupportEndReason(body.reason),
                note=body.note,
            ),
        ),
    )
    return _measures([row], _today(staff))[0]


@router.post(
    "/residents/{atena_number}/support-measures/{measure_id}/confirm",
    response_model=SupportMeasureOut,
    summary="仮支援措置から支援措置への切替",
)
def confirm_support_measure(
    atena_number: AtenaPath,
    measure_id: MeasureIdPath,
    *,
    body: SupportConfirmRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.support_measure_confirm")],
    db: DbDep,
) -> SupportMeasureOut:
    """支援の必要性を確認した仮支援措置を支援措置にする。仮支援措置の開始年月日は残る。"""
    row = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.confirm_support_measure(
            uow,
            ctx,
            service.ConfirmSupportMeasure(
                atena_number=atena_number,
                measure_id=measure_id,
                start_date=body.start_date,
                end_date=body.end_date,
            ),
        ),
    )
    return _measures([row], _today(staff))[0]


# ---------------------------------------------------------------- endpoints: 抑止 (spec 3.1)


ProcessName = Literal["change", "issue", "inquiry"]


class SuppressionRequest(BaseModel):
    target: Literal["person", "household"] = Field(
        default="person", description="person（この住民） / household（この住民の現在の世帯）"
    )
    kinds: list[ProcessName] = Field(
        min_length=1,
        max_length=3,
        description="抑止する処理: change（異動）, issue（証明書発行）, inquiry（照会）",
    )
    level: Literal["error", "alert"] = Field(
        description="error（処理不可） / alert（警告を表示して処理可）"
    )
    start_date: LegalDate = Field(description="抑止開始日")
    end_date: LegalDate | None = Field(
        default=None, description="抑止終了日（経過しても抑止は自動的に終了しない）"
    )
    reason: Annotated[str, Chars(2000, ItemClass.TEXT, min_length=1)] = Field(
        description="抑止の理由"
    )
    note: Note = Field(default="", description="備考")


class SuppressionEndRequest(BaseModel):
    note: Note = Field(default="", description="終了の理由・備考")


class SuppressionReleaseRequest(BaseModel):
    minutes: int = Field(
        default=int(DEFAULT_RELEASE.total_seconds() // 60),
        ge=1,
        le=480,
        description="抑止状態に戻るまでの時間（分）",
    )
    note: Note = Field(default="", description="一時解除の理由")


class SuppressionOut(BaseModel):
    id: int = Field(description="抑止番号")
    target_kind: str = Field(description="person（個人） / household（世帯）")
    target_number: str = Field(description="宛名番号又は世帯番号")
    kinds: list[str] = Field(description="抑止する処理")
    level: str = Field(description="error / alert")
    start_date: date
    end_date: date | None
    past_end_date: bool = Field(description="終了日を経過している（抑止は終了処理まで続く）")
    reason: str
    note: str
    created_by: str
    ended_on: date | None
    released_until: datetime | None = Field(
        description="一時解除の期限（この時刻に抑止状態に戻る）"
    )
    in_force: bool = Field(description="現在この抑止が適用されている")


def _suppression_out(row: SuppressionRow, now: datetime) -> SuppressionOut:
    today = now.astimezone(service.JST).date()
    return SuppressionOut(
        id=row.id,
        target_kind=row.target_kind,
        target_number=row.target_number,
        kinds=row.kinds,
        level=row.level,
        start_date=row.start_date,
        end_date=row.end_date,
        past_end_date=row.end_date is not None and row.end_date < today,
        reason=row.reason,
        note=row.note,
        created_by=row.created_by,
        ended_on=row.ended_on,
        released_until=row.released_until,
        in_force=service.suppression_applies(row, now),
    )


def _suppression_result(
    db: DbDep, staff: auth.Principal, request: Request, function: Function, fn: Any
) -> Any:
    """Run a 抑止 use case and shape its row(s) with the same `now` the use case saw."""

    def run(uow: Any, ctx: Context) -> Any:
        result = fn(uow, ctx)
        if isinstance(result, list):
            return [_suppression_out(r, ctx.now) for r in result]
        return _suppression_out(result, ctx.now)

    return _run(db, staff, request, function=function, fn=run)


@router.post(
    "/residents/{atena_number}/suppressions",
    response_model=SuppressionOut,
    status_code=201,
    summary="抑止の設定",
)
def add_suppression(
    atena_number: AtenaPath,
    *,
    body: SuppressionRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.suppression_add")],
    db: DbDep,
) -> SuppressionOut:
    """異動・証明書発行・照会の抑止を、個人又は世帯単位で設定する（複数設定可）。審査権限が必要。
    設定は他システムに連携される。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        op,
        lambda uow, ctx: service.add_suppression(
            uow,
            ctx,
            service.AddSuppression(
                atena_number=atena_number,
                target=body.target,
                kinds=body.kinds,
                level=body.level,
                start_date=body.start_date,
                end_date=body.end_date,
                reason=body.reason,
                note=body.note,
            ),
        ),
    )


@router.get(
    "/residents/{atena_number}/suppressions",
    response_model=list[SuppressionOut],
    summary="抑止の照会",
)
def list_suppressions(
    atena_number: AtenaPath,
    *,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.suppression_inquiry")],
    db: DbDep,
    include_ended: bool = False,
) -> list[SuppressionOut]:
    """この住民と、その現在の世帯に設定された抑止。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        op,
        lambda uow, ctx: service.list_suppressions(
            uow,
            ctx,
            service.SuppressionQuery(atena_number=atena_number, include_ended=include_ended),
        ),
    )


@router.post(
    "/residents/{atena_number}/suppressions/{suppression_id}/end",
    response_model=SuppressionOut,
    summary="抑止の終了（解除）",
)
def end_suppression(
    atena_number: AtenaPath,
    suppression_id: SuppressionIdPath,
    *,
    body: SuppressionEndRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.suppression_end")],
    db: DbDep,
) -> SuppressionOut:
    """抑止を終了する（終了日を経過しても自動では終了しない）。審査権限が必要。他システムに連携される。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        op,
        lambda uow, ctx: service.end_suppression(
            uow,
            ctx,
            service.EndSuppression(
                atena_number=atena_number, suppression_id=suppression_id, note=body.note
            ),
        ),
    )


@router.post(
    "/residents/{atena_number}/suppressions/{suppression_id}/release",
    response_model=SuppressionOut,
    summary="抑止の一時解除",
)
def release_suppression(
    atena_number: AtenaPath,
    suppression_id: SuppressionIdPath,
    *,
    body: SuppressionReleaseRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.suppression_release")],
    db: DbDep,
) -> SuppressionOut:
    """指定した時間（既定30分）だけ抑止を解除し、経過後は自動で抑止状態に戻る。審査権限が必要。
    本解除と誤認されないよう、一時解除は他システムに連携しない。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        op,
        lambda uow, ctx: service.release_temporarily(
            uow,
            ctx,
            service.ReleaseTemporarily(
                atena_number=atena_number,
                suppression_id=suppression_id,
                duration=timedelta(minutes=body.minutes),
                note=body.note,
            ),
        ),
    )
