"""Endpoints of one person's identity items: 旧氏, 通称, 個人番号 and 住民票コード.

Why a module of its own: these endpoints address one person by path, take `If-Match`, and
touch no household.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kikan.platform import audit, auth, throttle
from kikan.platform.deps import DbDep, SettingsDep, StaffDep, uses
from kikan.platform.errors import TooManyRequests
from kikan.platform.functions import Function
from kikan.platform.openapi import problem_responses
from kikan.platform.settings import Settings
from kikan.platform.types import (
    Chars,
    ItemClass,
    LegalDate,
)
from kikan.residents import service
from kikan.residents.api._common import (
    AtenaPath,
    ChangeOut,
    IfMatchHeader,
    _if_match,
    _run_change,
)
from kikan.residents.domain import Reason, RegisterError, layout_chars
from kikan.residents.module import FUNCTIONS
from kikan.residents.service.changes import MYNUMBER_UNUSABLE

router = APIRouter()

# ---------------------------------------------------------------- schemas


class KyuujiRequest(BaseModel):
    kyuuji: Annotated[str, layout_chars("person", "kyuuji")] = Field(description="旧氏")
    kyuuji_kana: Annotated[str, layout_chars("person", "kyuuji_kana", ItemClass.KANA)] = Field(
        default="", description="旧氏フリガナ（任意）"
    )
    requested_date: LegalDate = Field(description="請求日")


class KyuujiDeleteRequest(BaseModel):
    requested_date: LegalDate = Field(description="請求日")


class TsuushouRequest(BaseModel):
    tsuushou: Annotated[str, layout_chars("person", "tsuushou")] = Field(description="通称")
    tsuushou_kana: Annotated[str, layout_chars("person", "tsuushou_kana", ItemClass.KANA)] = Field(
        default="", description="通称フリガナ（任意）"
    )
    offered_date: LegalDate = Field(description="申出日")


class TsuushouDeleteRequest(BaseModel):
    offered_date: LegalDate = Field(description="申出日")


class MyNumberChangeRequest(BaseModel):
    my_number: Annotated[str, Chars(20)] = Field(
        description="新しい個人番号（12桁。暗号化して保存し、応答には含めない）"
    )
    reason: Literal["個人番号の変更請求", "個人番号の職権修正"] = "個人番号の変更請求"
    change_date: LegalDate = Field(description="異動日")
    notified_date: LegalDate | None = Field(default=None, description="請求日")


class JuminhyoCodeChangeRequest(BaseModel):
    juminhyo_code: Annotated[str, Chars(20)] = Field(description="新しい住民票コード（11桁）")
    reason: Literal["住民票コードの変更請求", "住民票コードの職権記載"] = "住民票コードの変更請求"
    change_date: LegalDate = Field(description="異動日")
    notified_date: LegalDate | None = Field(default=None, description="請求日")


# ---------------------------------------------------------------- endpoints: 旧氏・通称・番号


@router.post(
    "/residents/{atena_number}/kyuuji", response_model=ChangeOut, summary="旧氏の記載・変更"
)
def kyuuji(
    atena_number: AtenaPath,
    *,
    body: KyuujiRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.kyuuji_add")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    """日本人住民の請求による旧氏の記載（既に記載があれば旧氏の変更）。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.record_kyuuji(
            uow,
            ctx,
            service.RecordKyuuji(
                atena_number=atena_number,
                kyuuji=body.kyuuji,
                kyuuji_kana=body.kyuuji_kana,
                requested_date=body.requested_date,
                expected_version=_if_match(if_match),
            ),
        ),
    )


@router.post(
    "/residents/{atena_number}/kyuuji/delete", response_model=ChangeOut, summary="旧氏の削除"
)
def kyuuji_delete(
    atena_number: AtenaPath,
    *,
    body: KyuujiDeleteRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.kyuuji_delete")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.delete_kyuuji(
            uow,
            ctx,
            service.DeleteKyuuji(
                atena_number=atena_number,
                requested_date=body.requested_date,
                expected_version=_if_match(if_match),
            ),
        ),
    )


@router.post("/residents/{atena_number}/tsuushou", response_model=ChangeOut, summary="通称の記載")
def tsuushou(
    atena_number: AtenaPath,
    *,
    body: TsuushouRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.tsuushou_add")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    """外国人住民の申出による通称の記載。"""
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.record_tsuushou(
            uow,
            ctx,
            service.RecordTsuushou(
                atena_number=atena_number,
                tsuushou=body.tsuushou,
                tsuushou_kana=body.tsuushou_kana,
                offered_date=body.offered_date,
                expected_version=_if_match(if_match),
            ),
        ),
    )


@router.post(
    "/residents/{atena_number}/tsuushou/delete", response_model=ChangeOut, summary="通称の削除"
)
def tsuushou_delete(
    atena_number: AtenaPath,
    *,
    body: TsuushouDeleteRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.tsuushou_delete")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.delete_tsuushou(
            uow,
            ctx,
            service.DeleteTsuushou(
                atena_number=atena_number,
                offered_date=body.offered_date,
                expected_version=_if_match(if_match),
            ),
        ),
    )


@router.post(
    "/residents/{atena_number}/my-number",
    response_model=ChangeOut,
    summary="個人番号の変更",
    responses=problem_responses(429),
)
def my_number_change(
    atena_number: AtenaPath,
    *,
    body: MyNumberChangeRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.my_number_change")],
    db: DbDep,
    settings: SettingsDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    """個人番号の変更請求・職権修正。新しい番号は応答・エラー・監査記録に出さない。

    他の住民に記載されている番号は、誰の番号かも「他の住民に記載されている」ことも答えずに
    拒否します（`mynumber.unusable`）。この拒否は監査記録に残り、職員ごとに続くと 429 で
    待たせます（番号を照会する手段として使えないように）。"""
    key = throttle.Key(staff.scope, "mynumber-unusable", staff.login_id)
    with db.unit_of_work(staff.scope) as uow:
        wait = throttle.wait_seconds(uow, key)
        uow.commit()
    if wait:
        raise TooManyRequests(
            "個人番号の変更が続けて拒否されたため、しばらくの間受け付けません。",
            slug="mynumber-throttled",
            retry_after=wait,
        )
    try:
        return _run_change(
            db,
            staff,
            request,
            function=op,
            fn=lambda uow, ctx: service.change_my_number(
                uow,
                ctx,
                service.ChangeMyNumber(
                    atena_number=atena_number,
                    my_number=body.my_number,
                    reason=Reason(body.reason),
                    change_date=body.change_date,
                    notified_date=body.notified_date,
                    expected_version=_if_match(if_match),
                ),
            ),
        )
    except RegisterError as exc:
        if exc.code != MYNUMBER_UNUSABLE:
            raise
        _refused_my_number(db, settings, staff, key, atena_number)
        raise


#: refusals of a number held by someone else before a staff member must wait
MYNUMBER_REFUSALS_ALLOWED = 3


def _refused_my_number(
    db: DbDep, settings: Settings, staff: auth.Principal, key: throttle.Key, atena_number: str
) -> None:
    """Audit the refusal (about the edited person only) and count it against the staff member,
    each in a transaction of its own: the refused one has rolled back."""
    with db.unit_of_work(staff.scope) as uow:
        throttle.record_failure(
            uow,
            key,
            threshold=MYNUMBER_REFUSALS_ALLOWED,
            max_seconds=settings.lockout_minutes * 60,
        )
        uow.commit()
    audit.append_now(
        db,
        staff.scope,
        staff.actor(),
        audit.AuditEvent(
            category="operation",
            action="denial",
            outcome="denied",
            function=FUNCTIONS.entry("residents.my_number_change"),
            subjects=[atena_number],
            mynumber_accessed=True,
            detail={"reason": MYNUMBER_UNUSABLE},
        ),
    )


@router.post(
    "/residents/{atena_number}/juminhyo-code",
    response_model=ChangeOut,
    summary="住民票コードの変更請求・職権記載",
)
def juminhyo_code_change(
    atena_number: AtenaPath,
    *,
    body: JuminhyoCodeChangeRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.juminhyo_code_change")],
    db: DbDep,
    if_match: IfMatchHeader = None,
) -> ChangeOut:
    return _run_change(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.change_juminhyo_code(
            uow,
            ctx,
            service.ChangeJuminhyoCode(
                atena_number=atena_number,
                juminhyo_code=body.juminhyo_code,
                reason=Reason(body.reason),
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_version=_if_match(if_match),
            ),
        ),
    )
