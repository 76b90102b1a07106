"""REST API of the resident register under /api/v1 (OpenAPI descriptions in Japanese).

Searches take their criteria in a POST body, so names and numbers never appear in URLs or access
logs, and accept `fields` so callers receive only what they need. Every read is audited by the
service. Writes take the versions the caller last saw (`expected_versions`, or `If-Match` on
single-person endpoints) and answer 409 when someone else changed the data in between.

A 抑止 at level エラー (spec 3.1) answers 403 `urn:kikan:problem:suppressed`, and the refusal is
kept in the access log although the request's own transaction rolls back. Level アラート lets the
request through with the warning: in `warnings` of 異動 results and of 住民照会, and for 異動履歴
(whose body is a list) in `Kikan-Warning` response headers, one per warning, percent-encoded
UTF-8 (HTTP header values cannot carry Japanese text as is).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from kikan.calendar import RegisterDate
from kikan.platform import audit, auth
from kikan.platform.api import DbDep, StaffDep
from kikan.platform.crypto import KeyRing
from kikan.platform.errors import InvalidInput, KikanError
from kikan.residents import service
from kikan.residents.domain import (
    DEFAULT_RELEASE,
    Address,
    OtherAddress,
    PersonInput,
    Reason,
    RegisterError,
    Snapshot,
    SupportEndReason,
    SuppressedError,
    final_month_start,
)
from kikan.residents.store import SuppressionRow

router = APIRouter(prefix="/api/v1", tags=["住民記録"])

WRITE_ROLES = (auth.Role.COUNTER, auth.Role.APPROVER)
READ_ROLES = (auth.Role.COUNTER, auth.Role.APPROVER, auth.Role.AUDITOR)
#: Spec 3.1 wants the rights to set, end and temporarily release a 抑止 to be configurable per
#: right. Until the platform has per-function rights, all three belong to 審査・決裁 (approver),
#: like 職権記載 and the 支援措置, which the 支援措置責任者 manages (spec 3.4).
SUPPRESSION_ROLES = (auth.Role.APPROVER,)
SUPPORT_MEASURE_ROLES = (auth.Role.APPROVER,)
WARNING_HEADER = "Kikan-Warning"


class Suppressed(KikanError):
    """A 抑止 at level エラー refused the process: a policy refusal, not bad input."""

    status = 403
    slug = "suppressed"
    title = "抑止が設定されているため処理できません。"


def _ctx(request: Request, staff: auth.Principal) -> service.Context:
    keyring: KeyRing | None = getattr(request.app.state, "keyring", None)
    actor = staff.actor()
    return service.Context(actor=actor, keyring=keyring)


def _run(
    db: DbDep,
    staff: auth.Principal,
    request: Request,
    *,
    roles: tuple[str, ...],
    function: str,
    fn: Any,
) -> Any:
    """One use case in one unit of work, after the role check; register errors become 422."""
    auth.require_roles(db, staff, *roles, function=function)
    ctx = _ctx(request, staff)
    try:
        with db.unit_of_work(staff.scope) as uow:
            result = fn(uow, ctx)
            uow.commit()
            return result
    except RegisterError as exc:
        raise InvalidInput(exc.message, item=exc.item, code=exc.code) from exc
    except SuppressedError as exc:
        # the refused unit of work has rolled back and closed: the denial gets its own
        # transaction (ADR 0001), never a nested one (SQLite would wait for its own lock)
        audit.append_now(db, staff.scope, ctx.actor, service.denial_event(exc, function))
        raise Suppressed(
            exc.message,
            process=exc.process.value,
            suppressions=exc.suppression_ids,
        ) from exc


def _warning_headers(response: Response, warnings: list[str]) -> None:
    for text in warnings:
        response.headers.append(WARNING_HEADER, quote(text, safe=""))


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().strip("W/").strip('"')
    if not text.isdigit():
        raise InvalidInput("If-Match には版番号を指定してください。", item="If-Match")
    return int(text)


# ---------------------------------------------------------------- schemas


class ChangeOut(BaseModel):
    reason: str = Field(description="異動事由")
    atena_numbers: list[str] = Field(description="異動者の宛名番号")
    household_numbers: list[str] = Field(description="関係する世帯番号")
    versions: dict[str, int] = Field(description="異動後の各住民の版")
    warnings: list[str] = Field(description="職員への注意（世帯主不在など）")


def _change(r: service.ChangeResult) -> ChangeOut:
    return ChangeOut(
        reason=r.reason,
        atena_numbers=r.atena_numbers,
        household_numbers=r.household_numbers,
        versions=r.versions,
        warnings=r.warnings,
    )


class MoverIn(BaseModel):
    person: PersonInput
    my_number: str | None = Field(default=None, description="個人番号（12桁。暗号化して保存）")


class MoveInRequest(BaseModel):
    movers: list[MoverIn] = Field(min_length=1, description="異動者（家族で転入する場合は全員）")
    address: Address = Field(description="転入先の住所")
    prior_address: OtherAddress | None = Field(
        default=None,
        description="転入前住所（国外の場合は国名コードと国外住所。"
        "第30条の46・47 の場合は省略して空欄）",
    )
    move_date: date = Field(description="異動日（転入した日）")
    notified_date: date | None = Field(default=None, description="届出日")
    reason: Literal["国内転入", "国外転入等"] = Field(default="国内転入", description="異動事由")
    join_household: str | None = Field(default=None, description="既存世帯に入る場合の世帯番号")
    expected_household_version: int | None = Field(default=None, description="既存世帯の版")


class BirthRequest(BaseModel):
    household_number: str = Field(description="出生子が入る世帯の世帯番号")
    person: PersonInput
    notified_date: date | None = None
    expected_household_version: int | None = None


class MoveWithinRequest(BaseModel):
    household_number: str
    address: Address = Field(description="転居先の住所")
    move_date: date = Field(description="異動日（転居した日）")
    notified_date: date | None = None
    expected_household_version: int | None = None


class MoveOutRequest(BaseModel):
    atena_numbers: list[str] = Field(min_length=1)
    destination: OtherAddress = Field(description="転出先住所（予定）")
    planned_date: date = Field(description="転出予定年月日")
    notified_date: date = Field(description="転出届出年月日")
    expected_versions: dict[str, int] | None = None


class MoveOutConfirmRequest(BaseModel):
    atena_numbers: list[str] = Field(min_length=1)
    moved_date: date = Field(description="異動日（転出した日）")
    confirmed_destination: OtherAddress | None = Field(
        default=None, description="転出先住所（確定）"
    )
    expected_versions: dict[str, int] | None = None


class DeathRequest(BaseModel):
    atena_number: str
    death_date: date = Field(description="死亡年月日")
    notified_date: date | None = None
    expected_version: int | None = None


class HeadChangeRequest(BaseModel):
    household_number: str
    zokugara: dict[str, str] = Field(description="宛名番号 → 新しい続柄（新世帯主は「世帯主」）")
    change_date: date
    notified_date: date | None = None
    expected_household_version: int | None = None


class HouseholdSplitRequest(BaseModel):
    household_number: str = Field(description="分離元の世帯番号")
    zokugara: dict[str, str] = Field(
        description="分離する世帯員の宛名番号 → 新しい世帯での続柄（世帯主は一人）"
    )
    change_date: date = Field(description="異動日")
    notified_date: date | None = Field(default=None, description="届出日")
    expected_household_version: int | None = Field(default=None, description="分離元世帯の版")


class HouseholdMergeRequest(BaseModel):
    household_number: str = Field(description="合併先（存続する）世帯の世帯番号")
    merging_household_number: str = Field(description="合併元（消滅する）世帯の世帯番号")
    zokugara: dict[str, str] = Field(description="合併元の全世帯員の宛名番号 → 新しい続柄")
    change_date: date = Field(description="異動日")
    notified_date: date | None = Field(default=None, description="届出日")
    expected_household_versions: dict[str, int] | None = Field(
        default=None, description="世帯番号 → 版"
    )


class HouseholdChangeRequest(BaseModel):
    household_number: str = Field(description="異動元の世帯番号")
    target_household_number: str = Field(description="異動先（既存）の世帯番号")
    zokugara: dict[str, str] = Field(description="移る世帯員の宛名番号 → 異動先での続柄")
    change_date: date = Field(description="異動日")
    notified_date: date | None = Field(default=None, description="届出日")
    expected_household_versions: dict[str, int] | None = Field(
        default=None, description="世帯番号 → 版"
    )


class KyuujiRequest(BaseModel):
    kyuuji: str = Field(description="旧氏")
    kyuuji_kana: str = Field(default="", description="旧氏フリガナ（任意）")
    requested_date: date = Field(description="請求日")


class KyuujiDeleteRequest(BaseModel):
    requested_date: date = Field(description="請求日")


class TsuushouRequest(BaseModel):
    tsuushou: str = Field(description="通称")
    tsuushou_kana: str = Field(default="", description="通称フリガナ（任意）")
    offered_date: date = Field(description="申出日")


class TsuushouDeleteRequest(BaseModel):
    offered_date: date = Field(description="申出日")


class MyNumberChangeRequest(BaseModel):
    my_number: str = Field(description="新しい個人番号（12桁。暗号化して保存し、応答には含めない）")
    reason: Literal["個人番号の変更請求", "個人番号の職権修正"] = "個人番号の変更請求"
    change_date: date = Field(description="異動日")
    notified_date: date | None = Field(default=None, description="請求日")


class JuminhyoCodeChangeRequest(BaseModel):
    juminhyo_code: str = Field(description="新しい住民票コード（11桁）")
    reason: Literal["住民票コードの変更請求", "住民票コードの職権記載"] = "住民票コードの変更請求"
    change_date: date = Field(description="異動日")
    notified_date: date | None = Field(default=None, description="請求日")


class ExOfficioEntryRequest(BaseModel):
    movers: list[MoverIn] = Field(min_length=1, description="記載する者")
    address: Address = Field(description="住所")
    prior_address: OtherAddress | None = Field(
        default=None, description="転入前住所（不明・なしの場合は省略）"
    )
    entry_date: date = Field(description="異動日")
    notified_date: date | None = Field(default=None, description="戸籍届出・通知日又は申出日")
    reason: Literal["職権記載", "職権記載（帰化等）", "職権記載（国籍喪失）"] = "職権記載"
    join_household: str | None = Field(default=None, description="既存世帯に入る場合の世帯番号")
    expected_household_version: int | None = Field(default=None, description="既存世帯の版")
    note: str = Field(default="", description="留意事項（職権記載の理由など）")


class ExOfficioRemovalRequest(BaseModel):
    atena_numbers: list[str] = Field(min_length=1, description="消除する者の宛名番号")
    removal_date: date = Field(description="異動日（消除の年月日）")
    reason: Literal["職権消除", "職権消除（帰化等）", "職権消除（国籍喪失）"] = "職権消除"
    notified_date: date | None = Field(default=None, description="戸籍届出・通知日又は申出日")
    note: str = Field(default="", description="留意事項（実態調査の結果など）")
    expected_versions: dict[str, int] | None = None


class CorrectionRequest(BaseModel):
    changes: dict[str, Any] = Field(description="修正する項目と新しい値")
    reason: Literal["誤記修正", "職権修正", "軽微な修正"] = "誤記修正"
    note: str = Field(default="", description="留意事項")


class CancelRequest(BaseModel):
    note: str = Field(default="", description="取消しの理由")


class SearchRequest(BaseModel):
    name: str = Field(
        default="", description="氏名（漢字・かな、前方一致、異体字・かな種別を区別しない）"
    )
    kana: str = Field(default="", description="フリガナ（半角・全角・ひらがな可、前方一致）")
    birth_date: str = Field(default="", description="生年月日（和暦・西暦）")
    address: str = Field(default="", description="住所の一部")
    atena_number: str = Field(default="")
    juminhyo_code: str = Field(default="")
    include_removed: bool = Field(default=False, description="消除者も含める")
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=200)
    fields: list[str] | None = Field(default=None, description="返す項目（省略時は全項目）")


SEARCH_FIELDS = (
    "atena_number",
    "household_number",
    "status",
    "full_name",
    "full_kana",
    "birth_date",
    "sex",
    "zokugara",
    "address",
    "resident_kind",
    "version",
    "support_measure",
    "suppressed",
    "suppression_kinds",
)


class SearchOut(BaseModel):
    total: int = Field(description="該当件数（more_than_total が真なら、これを超える）")
    more_than_total: bool = Field(
        description="該当が多すぎるため件数を打ち切った（条件を絞ってください）"
    )
    page: int
    page_size: int
    results: list[dict[str, Any]]


class SupportMeasureOut(BaseModel):
    id: int = Field(description="支援措置の番号（延長・終了・切替で指定）")
    kind: str = Field(description="support（支援措置） / provisional（仮支援措置）")
    start_date: date = Field(description="支援措置（仮支援措置）の開始年月日")
    end_date: date = Field(description="現在の期間の終了年月日")
    period_start: date = Field(description="現在の期間の開始日（延長後は前期間終了日の翌日）")
    provisional_start: date | None = Field(
        default=None, description="仮支援措置の開始年月日（仮支援措置から切り替えた場合）"
    )
    extensions: int = Field(description="延長の回数")
    extendable_from: date = Field(description="延長できる最初の日（期間終了日の1か月前）")
    expired: bool = Field(description="期間終了済み（延長されていない）")
    ends_within_a_month: bool = Field(description="1か月以内に期間が終了する")
    ended_on: date | None = Field(default=None, description="終了した日")
    end_reason: str = Field(default="", description="終了事由（申出・期間経過・必要性なし）")


class SupportMeasureDetailOut(SupportMeasureOut):
    perpetrators: list[dict[str, Any]] = Field(description="加害者（閲覧は監査記録に残る）")
    note: str = Field(description="備考")
    created_by: str


class ResidentOut(BaseModel):
    version: int
    support_measure: list[SupportMeasureOut] = Field(description="支援措置（空でなければ要注意）")
    warnings: list[str] = Field(
        default_factory=list,
        description="職員への注意（照会抑止のアラート、支援措置の期間終了・1か月以内の終了）",
    )
    snapshot: dict[str, Any]
    display: dict[str, str] = Field(description="画面・証明書向けの表示文字列")


class HistoryOut(BaseModel):
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
    snapshot: dict[str, Any]


class SupportMeasureRequest(BaseModel):
    start_date: date
    end_date: date | None = Field(default=None, description="省略時は開始日から1年")
    provisional: bool = Field(default=False, description="仮支援措置")
    perpetrators: list[dict[str, str]] = Field(
        default_factory=list, description="加害者（氏名・生年月日・住所 等）"
    )
    note: str = ""


def _public_snapshot(s: Snapshot) -> dict[str, Any]:
    data = s.model_dump(mode="json")
    data["has_my_number"] = bool(data.pop("my_number_token"))
    return data


def _display(s: Snapshot) -> dict[str, str]:
    birth = RegisterDate.from_storage(s.birth_date)
    return {
        "full_name": s.full_name,
        "full_kana": s.full_kana,
        "birth_date": birth.display(),
        "address": s.address.text(),
        "status": s.status.label,
    }


def _measure_fields(r: Any, today: date) -> dict[str, Any]:
    opens = final_month_start(r.end_date)
    return {
        "id": r.id,
        "kind": r.kind,
        "start_date": r.start_date,
        "end_date": r.end_date,
        "period_start": r.period_start or r.start_date,
        "provisional_start": r.provisional_start,
        "extensions": r.extensions or 0,
        "extendable_from": opens,
        "expired": r.end_date < today,
        "ends_within_a_month": opens <= today <= r.end_date,
        "ended_on": r.ended_on,
        "end_reason": r.end_reason or "",
    }


def _measures(rows: list[Any], today: date) -> list[SupportMeasureOut]:
    return [SupportMeasureOut(**_measure_fields(r, today)) for r in rows]


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


# ---------------------------------------------------------------- endpoints: 異動


@router.post("/residents/move-in", response_model=ChangeOut, status_code=201, summary="転入")
def move_in(body: MoveInRequest, request: Request, staff: StaffDep, db: DbDep) -> ChangeOut:
    """転入（家族・再転入・国外転入・未届転入を含む）。

    転入前住所の `unreported` が真なら未届転入。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="転入",
            fn=lambda uow, ctx: service.move_in(
                uow,
                ctx,
                movers=[service.Mover(m.person, m.my_number) for m in body.movers],
                address=body.address,
                prior_address=body.prior_address,
                move_date=body.move_date,
                notified_date=body.notified_date,
                reason=Reason(body.reason),
                join_household=body.join_household,
                expected_household_version=body.expected_household_version,
            ),
        )
    )


@router.post("/residents/birth", response_model=ChangeOut, status_code=201, summary="出生")
def birth(body: BirthRequest, request: Request, staff: StaffDep, db: DbDep) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="出生",
            fn=lambda uow, ctx: service.record_birth(
                uow,
                ctx,
                household_number=body.household_number,
                person=body.person,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        )
    )


@router.post("/residents/move-within", response_model=ChangeOut, summary="転居")
def move_within(body: MoveWithinRequest, request: Request, staff: StaffDep, db: DbDep) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="転居",
            fn=lambda uow, ctx: service.move_within(
                uow,
                ctx,
                household_number=body.household_number,
                address=body.address,
                move_date=body.move_date,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        )
    )


@router.post("/residents/move-out", response_model=ChangeOut, summary="転出届（予定）")
def move_out(body: MoveOutRequest, request: Request, staff: StaffDep, db: DbDep) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="転出",
            fn=lambda uow, ctx: service.plan_move_out(
                uow,
                ctx,
                atena_numbers=body.atena_numbers,
                destination=body.destination,
                planned_date=body.planned_date,
                notified_date=body.notified_date,
                expected_versions=body.expected_versions,
            ),
        )
    )


@router.post("/residents/move-out/confirm", response_model=ChangeOut, summary="転出確定")
def move_out_confirm(
    body: MoveOutConfirmRequest, request: Request, staff: StaffDep, db: DbDep
) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="転出確定",
            fn=lambda uow, ctx: service.confirm_move_out(
                uow,
                ctx,
                atena_numbers=body.atena_numbers,
                moved_date=body.moved_date,
                confirmed_destination=body.confirmed_destination,
                expected_versions=body.expected_versions,
            ),
        )
    )


@router.post("/residents/death", response_model=ChangeOut, summary="死亡")
def death(body: DeathRequest, request: Request, staff: StaffDep, db: DbDep) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="死亡",
            fn=lambda uow, ctx: service.record_death(
                uow,
                ctx,
                atena_number=body.atena_number,
                death_date=body.death_date,
                notified_date=body.notified_date,
                expected_version=body.expected_version,
            ),
        )
    )


@router.post("/households/head-change", response_model=ChangeOut, summary="世帯主変更")
def head_change(body: HeadChangeRequest, request: Request, staff: StaffDep, db: DbDep) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="世帯主変更",
            fn=lambda uow, ctx: service.change_head(
                uow,
                ctx,
                household_number=body.household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        )
    )


@router.post(
    "/residents/{atena_number}/corrections",
    response_model=ChangeOut,
    summary="修正（誤記修正・職権修正）",
)
def corrections(
    atena_number: str,
    *,
    body: CorrectionRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="修正",
            fn=lambda uow, ctx: service.correct(
                uow,
                ctx,
                atena_number=atena_number,
                changes=body.changes,
                reason=Reason(body.reason),
                note=body.note,
                expected_version=_if_match(if_match),
            ),
        )
    )


@router.post("/residents/{atena_number}/cancel", response_model=ChangeOut, summary="異動の取消し")
def cancel(
    atena_number: str,
    *,
    body: CancelRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=(auth.Role.APPROVER,),
            function="異動の取消し",
            fn=lambda uow, ctx: service.cancel_last(
                uow,
                ctx,
                atena_number=atena_number,
                note=body.note,
                expected_version=_if_match(if_match),
            ),
        )
    )


# ---------------------------------------------------------------- endpoints: 職権記載・職権消除


@router.post(
    "/residents/ex-officio-entry", response_model=ChangeOut, status_code=201, summary="職権記載"
)
def ex_officio_entry(
    body: ExOfficioEntryRequest, request: Request, staff: StaffDep, db: DbDep
) -> ChangeOut:
    """職権記載（帰化・国籍喪失の戸籍通知、実態調査による記載など）。転入前住所は任意。

    職権による記載は審査・決裁を経るため、審査権限（approver）の職員だけが行える。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=(auth.Role.APPROVER,),
            function="職権記載",
            fn=lambda uow, ctx: service.enter_ex_officio(
                uow,
                ctx,
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
        )
    )


@router.post("/residents/ex-officio-removal", response_model=ChangeOut, summary="職権消除")
def ex_officio_removal(
    body: ExOfficioRemovalRequest, request: Request, staff: StaffDep, db: DbDep
) -> ChangeOut:
    """職権消除（実態調査、失踪宣告、帰化・国籍喪失など）。審査権限の職員だけが行える。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=(auth.Role.APPROVER,),
            function="職権消除",
            fn=lambda uow, ctx: service.remove_ex_officio(
                uow,
                ctx,
                atena_numbers=body.atena_numbers,
                removal_date=body.removal_date,
                reason=Reason(body.reason),
                notified_date=body.notified_date,
                note=body.note,
                expected_versions=body.expected_versions,
            ),
        )
    )


# ---------------------------------------------------------------- endpoints: 世帯


@router.post("/households/split", response_model=ChangeOut, summary="世帯分離")
def household_split(
    body: HouseholdSplitRequest, request: Request, staff: StaffDep, db: DbDep
) -> ChangeOut:
    """指定した世帯員が同じ住所で新しい世帯を作る。新しい世帯番号は応答の household_numbers。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="世帯分離",
            fn=lambda uow, ctx: service.split_household(
                uow,
                ctx,
                household_number=body.household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_version=body.expected_household_version,
            ),
        )
    )


@router.post("/households/merge", response_model=ChangeOut, summary="世帯合併")
def household_merge(
    body: HouseholdMergeRequest, request: Request, staff: StaffDep, db: DbDep
) -> ChangeOut:
    """合併元の世帯員全員が同じ住所の合併先世帯に入り、合併元の世帯は消滅する。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="世帯合併",
            fn=lambda uow, ctx: service.merge_households(
                uow,
                ctx,
                household_number=body.household_number,
                merging_household_number=body.merging_household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_versions=body.expected_household_versions,
            ),
        )
    )


@router.post("/households/change", response_model=ChangeOut, summary="世帯変更（構成変更）")
def household_change(
    body: HouseholdChangeRequest, request: Request, staff: StaffDep, db: DbDep
) -> ChangeOut:
    """世帯員の一部が同じ住所の既存の世帯に移る。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="世帯変更",
            fn=lambda uow, ctx: service.change_household(
                uow,
                ctx,
                household_number=body.household_number,
                target_household_number=body.target_household_number,
                zokugara=body.zokugara,
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_household_versions=body.expected_household_versions,
            ),
        )
    )


# ---------------------------------------------------------------- endpoints: 旧氏・通称・番号


@router.post(
    "/residents/{atena_number}/kyuuji", response_model=ChangeOut, summary="旧氏の記載・変更"
)
def kyuuji(
    atena_number: str,
    *,
    body: KyuujiRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    """日本人住民の請求による旧氏の記載（既に記載があれば旧氏の変更）。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="旧氏の記載",
            fn=lambda uow, ctx: service.record_kyuuji(
                uow,
                ctx,
                atena_number=atena_number,
                kyuuji=body.kyuuji,
                kyuuji_kana=body.kyuuji_kana,
                requested_date=body.requested_date,
                expected_version=_if_match(if_match),
            ),
        )
    )


@router.post(
    "/residents/{atena_number}/kyuuji/delete", response_model=ChangeOut, summary="旧氏の削除"
)
def kyuuji_delete(
    atena_number: str,
    *,
    body: KyuujiDeleteRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="旧氏の削除",
            fn=lambda uow, ctx: service.delete_kyuuji(
                uow,
                ctx,
                atena_number=atena_number,
                requested_date=body.requested_date,
                expected_version=_if_match(if_match),
            ),
        )
    )


@router.post("/residents/{atena_number}/tsuushou", response_model=ChangeOut, summary="通称の記載")
def tsuushou(
    atena_number: str,
    *,
    body: TsuushouRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    """外国人住民の申出による通称の記載。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="通称の記載",
            fn=lambda uow, ctx: service.record_tsuushou(
                uow,
                ctx,
                atena_number=atena_number,
                tsuushou=body.tsuushou,
                tsuushou_kana=body.tsuushou_kana,
                offered_date=body.offered_date,
                expected_version=_if_match(if_match),
            ),
        )
    )


@router.post(
    "/residents/{atena_number}/tsuushou/delete", response_model=ChangeOut, summary="通称の削除"
)
def tsuushou_delete(
    atena_number: str,
    *,
    body: TsuushouDeleteRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="通称の削除",
            fn=lambda uow, ctx: service.delete_tsuushou(
                uow,
                ctx,
                atena_number=atena_number,
                offered_date=body.offered_date,
                expected_version=_if_match(if_match),
            ),
        )
    )


@router.post(
    "/residents/{atena_number}/my-number", response_model=ChangeOut, summary="個人番号の変更"
)
def my_number_change(
    atena_number: str,
    *,
    body: MyNumberChangeRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    """個人番号の変更請求・職権修正。新しい番号は応答・エラー・監査記録に出さない。"""
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="個人番号の変更",
            fn=lambda uow, ctx: service.change_my_number(
                uow,
                ctx,
                atena_number=atena_number,
                my_number=body.my_number,
                reason=Reason(body.reason),
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_version=_if_match(if_match),
            ),
        )
    )


@router.post(
    "/residents/{atena_number}/juminhyo-code",
    response_model=ChangeOut,
    summary="住民票コードの変更請求・職権記載",
)
def juminhyo_code_change(
    atena_number: str,
    *,
    body: JuminhyoCodeChangeRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ChangeOut:
    return _change(
        _run(
            db,
            staff,
            request,
            roles=WRITE_ROLES,
            function="住民票コードの変更",
            fn=lambda uow, ctx: service.change_juminhyo_code(
                uow,
                ctx,
                atena_number=atena_number,
                juminhyo_code=body.juminhyo_code,
                reason=Reason(body.reason),
                change_date=body.change_date,
                notified_date=body.notified_date,
                expected_version=_if_match(if_match),
            ),
        )
    )


# ---------------------------------------------------------------- endpoints: 照会


@router.post("/residents/search", response_model=SearchOut, summary="住民検索（基本検索）")
def search(body: SearchRequest, request: Request, staff: StaffDep, db: DbDep) -> SearchOut:
    bad = sorted(set(body.fields or ()) - set(SEARCH_FIELDS))
    if bad:
        raise InvalidInput(f"項目 {bad[0]} は指定できません。", item="fields")
    criteria = service.SearchCriteria(
        name=body.name,
        kana=body.kana,
        birth_date=body.birth_date,
        address=body.address,
        atena_number=body.atena_number,
        juminhyo_code=body.juminhyo_code,
        include_removed=body.include_removed,
        page=body.page,
        page_size=body.page_size,
    )

    def run(uow: Any, ctx: service.Context) -> tuple[Any, int, set[str], dict[str, list[str]]]:
        rows, total, protected = service.search(uow, ctx, criteria)
        return rows, total, protected, service.suppression_flags(uow, ctx, rows)

    rows, total, protected, suppressed = _run(
        db, staff, request, roles=READ_ROLES, function="住民検索", fn=run
    )
    wanted = body.fields or list(SEARCH_FIELDS)
    results = []
    for r in rows:
        full = {
            "atena_number": r.atena_number,
            "household_number": r.household_number,
            "status": r.status,
            "full_name": r.full_name,
            "full_kana": r.full_kana,
            "birth_date": r.birth_display,
            "sex": r.sex,
            "zokugara": r.zokugara,
            "address": r.address_text,
            "resident_kind": r.resident_kind,
            "version": r.version,
            "support_measure": r.atena_number in protected,
            "suppressed": r.atena_number in suppressed,
            "suppression_kinds": suppressed.get(r.atena_number, []),
        }
        results.append({k: full[k] for k in wanted})
    more = total > service.SEARCH_COUNT_CAP
    return SearchOut(
        total=min(total, service.SEARCH_COUNT_CAP),
        more_than_total=more,
        page=body.page,
        page_size=body.page_size,
        results=results,
    )


@router.get("/residents/{atena_number}", response_model=ResidentOut, summary="住民の照会")
def get_resident(
    atena_number: str, request: Request, response: Response, staff: StaffDep, db: DbDep
) -> ResidentOut:
    """照会抑止（エラー）が設定されていれば 403（suppressed）。アラートと支援措置の期間の注意は
    `warnings` に返す。"""
    found: service.ResidentDetail = _run(
        db,
        staff,
        request,
        roles=READ_ROLES,
        function="住民照会",
        fn=lambda uow, ctx: service.detail(uow, ctx, atena_number),
    )
    response.headers["ETag"] = f'"{found.version}"'
    today = service.Context(actor=staff.actor()).today
    return ResidentOut(
        version=found.version,
        support_measure=_measures(found.measures, today),
        warnings=found.warnings,
        snapshot=_public_snapshot(found.snapshot),
        display=_display(found.snapshot),
    )


@router.get(
    "/residents/{atena_number}/history", response_model=list[HistoryOut], summary="異動履歴"
)
def get_history(
    atena_number: str,
    *,
    request: Request,
    response: Response,
    staff: StaffDep,
    db: DbDep,
    known_at: datetime | None = None,
) -> list[HistoryOut]:
    """`known_at` を指定すると、その時点で記録されていた履歴だけを返す。

    照会抑止（エラー）は 403（suppressed）。アラートは `Kikan-Warning` ヘッダー
    （UTF-8 をパーセントエンコード）で返す。"""
    read: service.Guarded[list[service.HistoryEntry]] = _run(
        db,
        staff,
        request,
        roles=READ_ROLES,
        function="異動履歴照会",
        fn=lambda uow, ctx: service.read_history(uow, ctx, atena_number, known_at=known_at),
    )
    _warning_headers(response, read.warnings)
    return [_history_out(e) for e in read.value]


def _history_out(e: service.HistoryEntry) -> HistoryOut:
    return HistoryOut(
        history_no=e.history_no,
        reason=e.reason,
        valid_from=e.valid_from,
        recorded_at=e.recorded_at,
        notified_date=e.notified_date,
        operator=e.operator,
        terminal=e.terminal,
        place=e.place,
        note=e.note,
        cancels_history_no=e.cancels_history_no,
        cancelled=e.cancelled,
        snapshot=_public_snapshot(e.snapshot),
    )


@router.get(
    "/residents/{atena_number}/as-of", response_model=HistoryOut | None, summary="ある日の記載内容"
)
def get_as_of(
    atena_number: str,
    *,
    request: Request,
    response: Response,
    staff: StaffDep,
    db: DbDep,
    date_: Annotated[date | None, Field(alias="date")] = None,
    known_at: datetime | None = None,
) -> HistoryOut | None:
    """`date` の時点で有効だった記載（`known_at` の時点で記録されていた内容による）。

    照会抑止は異動履歴と同じ扱い（エラーは 403、アラートは `Kikan-Warning` ヘッダー）。"""
    read: service.Guarded[service.HistoryEntry | None] = _run(
        db,
        staff,
        request,
        roles=READ_ROLES,
        function="異動履歴照会",
        fn=lambda uow, ctx: service.read_as_of(
            uow, ctx, atena_number, valid_on=date_, known_at=known_at
        ),
    )
    _warning_headers(response, read.warnings)
    return _history_out(read.value) if read.value else None


@router.post(
    "/residents/{atena_number}/support-measures",
    status_code=201,
    response_model=SupportMeasureOut,
    summary="支援措置の登録",
)
def add_support_measure(
    atena_number: str,
    *,
    body: SupportMeasureRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
) -> SupportMeasureOut:
    row = _run(
        db,
        staff,
        request,
        roles=SUPPORT_MEASURE_ROLES,
        function="支援措置登録",
        fn=lambda uow, ctx: service.start_support_measure(
            uow,
            ctx,
            atena_number=atena_number,
            start_date=body.start_date,
            end_date=body.end_date,
            perpetrators=body.perpetrators,
            provisional=body.provisional,
            note=body.note,
        ),
    )
    today = service.Context(actor=staff.actor()).today
    return _measures([row], today)[0]


# ---------------------------------------------------------------- endpoints: 支援措置 (spec 3.4)


class SupportEndRequest(BaseModel):
    reason: Literal["申出", "期間経過", "必要性なし"] = Field(description="終了事由")
    note: str = Field(default="", description="備考")


class SupportConfirmRequest(BaseModel):
    start_date: date | None = Field(
        default=None, description="支援措置の開始年月日（省略時は当日）"
    )
    end_date: date | None = Field(default=None, description="省略時は開始日から1年")


def _today(staff: auth.Principal) -> date:
    return service.Context(actor=staff.actor()).today


@router.get(
    "/residents/{atena_number}/support-measures",
    response_model=list[SupportMeasureDetailOut],
    summary="支援対象者照会（加害者を含む）",
)
def list_support_measures(
    atena_number: str,
    *,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    include_ended: bool = False,
) -> list[SupportMeasureDetailOut]:
    """支援措置のデータベース（spec 1.1.16, 2.2.4）。加害者を含むため審査権限（支援措置責任者）
    だけが照会でき、照会は監査記録に残る。"""
    rows = _run(
        db,
        staff,
        request,
        roles=SUPPORT_MEASURE_ROLES,
        function="支援対象者照会",
        fn=lambda uow, ctx: service.support_measure_records(
            uow, ctx, atena_number, include_ended=include_ended
        ),
    )
    return _measure_details(rows, _today(staff))


@router.post(
    "/residents/{atena_number}/support-measures/{measure_id}/extend",
    response_model=SupportMeasureOut,
    summary="支援措置の延長",
)
def extend_support_measure(
    atena_number: str, measure_id: int, *, request: Request, staff: StaffDep, db: DbDep
) -> SupportMeasureOut:
    """期間終了日の1か月前（期間の最後の1か月の初日）から延長できる。延長後の期間は、延長前の
    終了日の翌日から1年。"""
    row = _run(
        db,
        staff,
        request,
        roles=SUPPORT_MEASURE_ROLES,
        function="支援措置の延長",
        fn=lambda uow, ctx: service.extend_support_measure(
            uow, ctx, atena_number=atena_number, measure_id=measure_id
        ),
    )
    return _measures([row], _today(staff))[0]


@router.post(
    "/residents/{atena_number}/support-measures/{measure_id}/end",
    response_model=SupportMeasureOut,
    summary="支援措置の終了",
)
def end_support_measure(
    atena_number: str,
    measure_id: int,
    *,
    body: SupportEndRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
) -> SupportMeasureOut:
    """終了事由: 申出、期間経過（期間終了日の翌日以降）、必要性なし。"""
    row = _run(
        db,
        staff,
        request,
        roles=SUPPORT_MEASURE_ROLES,
        function="支援措置の終了",
        fn=lambda uow, ctx: service.end_support_measure(
            uow,
            ctx,
            atena_number=atena_number,
            measure_id=measure_id,
            reason=SupportEndReason(body.reason),
            note=body.note,
        ),
    )
    return _measures([row], _today(staff))[0]


@router.post(
    "/residents/{atena_number}/support-measures/{measure_id}/confirm",
    response_model=SupportMeasureOut,
    summary="仮支援措置から支援措置への切替",
)
def confirm_support_measure(
    atena_number: str,
    measure_id: int,
    *,
    body: SupportConfirmRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
) -> SupportMeasureOut:
    """支援の必要性を確認した仮支援措置を支援措置にする。仮支援措置の開始年月日は残る。"""
    row = _run(
        db,
        staff,
        request,
        roles=SUPPORT_MEASURE_ROLES,
        function="仮支援措置の確定",
        fn=lambda uow, ctx: service.confirm_support_measure(
            uow,
            ctx,
            atena_number=atena_number,
            measure_id=measure_id,
            start_date=body.start_date,
            end_date=body.end_date,
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
        description="抑止する処理: change（異動）, issue（証明書発行）, inquiry（照会）",
    )
    level: Literal["error", "alert"] = Field(
        description="error（処理不可） / alert（警告を表示して処理可）"
    )
    start_date: date = Field(description="抑止開始日")
    end_date: date | None = Field(
        default=None, description="抑止終了日（経過しても抑止は自動的に終了しない）"
    )
    reason: str = Field(min_length=1, max_length=2000, description="抑止の理由")
    note: str = Field(default="", max_length=2000, description="備考")


class SuppressionEndRequest(BaseModel):
    note: str = Field(default="", max_length=2000, description="終了の理由・備考")


class SuppressionReleaseRequest(BaseModel):
    minutes: int = Field(
        default=int(DEFAULT_RELEASE.total_seconds() // 60),
        ge=1,
        le=480,
        description="抑止状態に戻るまでの時間（分）",
    )
    note: str = Field(default="", max_length=2000, description="一時解除の理由")


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
    db: DbDep, staff: auth.Principal, request: Request, function: str, fn: Any, **kw: Any
) -> Any:
    """Run a 抑止 use case and shape its row(s) with the same `now` the use case saw."""

    def run(uow: Any, ctx: service.Context) -> Any:
        result = fn(uow, ctx)
        if isinstance(result, list):
            return [_suppression_out(r, ctx.now) for r in result]
        return _suppression_out(result, ctx.now)

    return _run(db, staff, request, function=function, fn=run, **kw)


@router.post(
    "/residents/{atena_number}/suppressions",
    response_model=SuppressionOut,
    status_code=201,
    summary="抑止の設定",
)
def add_suppression(
    atena_number: str,
    *,
    body: SuppressionRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
) -> SuppressionOut:
    """異動・証明書発行・照会の抑止を、個人又は世帯単位で設定する（複数設定可）。審査権限が必要。
    設定は他システムに連携される。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        "抑止の設定",
        lambda uow, ctx: service.add_suppression(
            uow,
            ctx,
            atena_number=atena_number,
            target=body.target,
            kinds=body.kinds,
            level=body.level,
            start_date=body.start_date,
            end_date=body.end_date,
            reason=body.reason,
            note=body.note,
        ),
        roles=SUPPRESSION_ROLES,
    )


@router.get(
    "/residents/{atena_number}/suppressions",
    response_model=list[SuppressionOut],
    summary="抑止の照会",
)
def list_suppressions(
    atena_number: str,
    *,
    request: Request,
    staff: StaffDep,
    db: DbDep,
    include_ended: bool = False,
) -> list[SuppressionOut]:
    """この住民と、その現在の世帯に設定された抑止。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        "抑止照会",
        lambda uow, ctx: service.list_suppressions(
            uow, ctx, atena_number, include_ended=include_ended
        ),
        roles=READ_ROLES,
    )


@router.post(
    "/residents/{atena_number}/suppressions/{suppression_id}/end",
    response_model=SuppressionOut,
    summary="抑止の終了（解除）",
)
def end_suppression(
    atena_number: str,
    suppression_id: int,
    *,
    body: SuppressionEndRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
) -> SuppressionOut:
    """抑止を終了する（終了日を経過しても自動では終了しない）。審査権限が必要。他システムに連携される。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        "抑止の終了",
        lambda uow, ctx: service.end_suppression(
            uow, ctx, atena_number=atena_number, suppression_id=suppression_id, note=body.note
        ),
        roles=SUPPRESSION_ROLES,
    )


@router.post(
    "/residents/{atena_number}/suppressions/{suppression_id}/release",
    response_model=SuppressionOut,
    summary="抑止の一時解除",
)
def release_suppression(
    atena_number: str,
    suppression_id: int,
    *,
    body: SuppressionReleaseRequest,
    request: Request,
    staff: StaffDep,
    db: DbDep,
) -> SuppressionOut:
    """指定した時間（既定30分）だけ抑止を解除し、経過後は自動で抑止状態に戻る。審査権限が必要。
    本解除と誤認されないよう、一時解除は他システムに連携しない。"""
    return _suppression_result(  # type: ignore[no-any-return]
        db,
        staff,
        request,
        "抑止の一時解除",
        lambda uow, ctx: service.release_temporarily(
            uow,
            ctx,
            atena_number=atena_number,
            suppression_id=suppression_id,
            duration=timedelta(minutes=body.minutes),
            note=body.note,
        ),
        roles=SUPPRESSION_ROLES,
    )
