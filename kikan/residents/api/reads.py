"""Endpoints of the audited reads: 住民検索, 住民照会, 異動履歴 and the entry as of a day.

Why a module of its own: nothing here writes; 照会抑止 warnings come back in `warnings` or, for
list bodies, in `Kikan-Warning` headers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from kikan.calendar import RegisterDate
from kikan.platform.context import Context
from kikan.platform.deps import DbDep, StaffDep, uses
from kikan.platform.errors import InvalidInput
from kikan.platform.functions import Function
from kikan.platform.types import (
    Chars,
    LegalDate,
    PageNumber,
    PageSize,
    UtcDateTime,
)
from kikan.residents import service
from kikan.residents.api._common import (
    AtenaNumber,
    AtenaPath,
    SupportMeasureOut,
    _measures,
    _run,
    _today,
    _warning_headers,
)
from kikan.residents.domain import Snapshot

router = APIRouter()

# ---------------------------------------------------------------- schemas


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


class SearchRequest(BaseModel):
    name: Annotated[str, Chars(101)] = Field(
        default="", description="氏名（漢字・かな、前方一致、異体字・かな種別を区別しない）"
    )
    kana: Annotated[str, Chars(201)] = Field(
        default="", description="フリガナ（半角・全角・ひらがな可、前方一致）"
    )
    birth_date: Annotated[str, Chars(40)] = Field(default="", description="生年月日（和暦・西暦）")
    address: Annotated[str, Chars(400)] = Field(default="", description="住所の一部")
    atena_number: AtenaNumber = Field(default="", description="宛名番号")
    juminhyo_code: Annotated[str, Chars(20)] = Field(default="", description="住民票コード")
    include_removed: bool = Field(default=False, description="消除者も含める")
    page: PageNumber = Field(default=1, description="ページ")
    page_size: PageSize = Field(default=20, description="1ページの件数")
    fields: list[Annotated[str, Chars(40)]] | None = Field(
        default=None, max_length=len(SEARCH_FIELDS), description="返す項目（省略時は全項目）"
    )


class SearchOut(BaseModel):
    total: int = Field(description="該当件数（more_than_total が真なら、これを超える）")
    more_than_total: bool = Field(
        description="該当が多すぎるため件数を打ち切った（条件を絞ってください）"
    )
    page: int
    page_size: int
    results: list[dict[str, Any]]


class ResidentOut(BaseModel):
    version: int
    household_version: int = Field(
        description="世帯の版（世帯に関わる異動の expected_household_version に指定）"
    )
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


# ---------------------------------------------------------------- endpoints: 照会


@router.post("/residents/search", response_model=SearchOut, summary="住民検索（基本検索）")
def search(
    body: SearchRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.search")],
    db: DbDep,
) -> SearchOut:
    bad = sorted(set(body.fields or ()) - set(SEARCH_FIELDS))
    if bad:
        # the unknown name is not echoed (a problem names the item, never the value)
        raise InvalidInput("返す項目に指定できない項目名があります。", item="fields")
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

    def run(uow: Any, ctx: Context) -> tuple[Any, int, set[str], dict[str, list[str]]]:
        rows, total, protected = service.search(uow, ctx, criteria)
        return rows, total, protected, service.suppression_flags(uow, ctx, rows)

    rows, total, protected, suppressed = _run(db, staff, request, function=op, fn=run)
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
    atena_number: AtenaPath,
    *,
    request: Request,
    response: Response,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.inquiry")],
    db: DbDep,
) -> ResidentOut:
    """照会抑止（エラー）が設定されていれば 403（suppressed）。アラートと支援措置の期間の注意は
    `warnings` に返す。"""
    found: service.ResidentDetail = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.detail(uow, ctx, service.PersonRef(atena_number=atena_number)),
    )
    response.headers["ETag"] = f'"{found.version}"'
    return ResidentOut(
        version=found.version,
        household_version=found.household_version,
        support_measure=_measures(found.measures, _today(staff)),
        warnings=found.warnings,
        snapshot=_public_snapshot(found.snapshot),
        display=_display(found.snapshot),
    )


@router.get(
    "/residents/{atena_number}/history", response_model=list[HistoryOut], summary="異動履歴"
)
def get_history(
    atena_number: AtenaPath,
    *,
    request: Request,
    response: Response,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.history")],
    db: DbDep,
    known_at: Annotated[
        UtcDateTime | None, Query(description="記録時点（時差なしは日本時間）")
    ] = None,
) -> list[HistoryOut]:
    """`known_at` を指定すると、その時点で記録されていた履歴だけを返す。

    照会抑止（エラー）は 403（suppressed）。アラートは `Kikan-Warning` ヘッダー
    （UTF-8 をパーセントエンコード）で返す。"""
    read: service.Guarded[list[service.HistoryEntry]] = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.read_history(
            uow, ctx, service.HistoryQuery(atena_number=atena_number, known_at=known_at)
        ),
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
    atena_number: AtenaPath,
    *,
    request: Request,
    response: Response,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.history")],
    db: DbDep,
    date_: Annotated[LegalDate | None, Query(alias="date", description="日付")] = None,
    known_at: Annotated[
        UtcDateTime | None, Query(description="記録時点（時差なしは日本時間）")
    ] = None,
) -> HistoryOut | None:
    """`date` の時点で有効だった記載（`known_at` の時点で記録されていた内容による）。

    照会抑止は異動履歴と同じ扱い（エラーは 403、アラートは `Kikan-Warning` ヘッダー）。"""
    read: service.Guarded[service.HistoryEntry | None] = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: service.read_as_of(
            uow,
            ctx,
            service.AsOfQuery(atena_number=atena_number, valid_on=date_, known_at=known_at),
        ),
    )
    _warning_headers(response, read.warnings)
    return _history_out(read.value) if read.value else None
