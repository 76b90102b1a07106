"""What every resident-register endpoint shares: running one use case in one unit of work
(`_run`, `_run_change`), auditing the denial of a 抑止 refusal, `If-Match` versions,
`Kikan-Warning` headers, and the schemas used by several areas.

Why a module of its own: the area routers (`changes`, `households`, `identity`, `reads`,
`protection`) import from here and never from each other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Header, Path, Request, Response
from pydantic import BaseModel, Field

from kikan.platform import audit, auth
from kikan.platform.context import Context
from kikan.platform.deps import DbDep, context_for
from kikan.platform.errors import InvalidInput
from kikan.platform.functions import Function
from kikan.platform.types import Chars, ItemClass, Version
from kikan.platform.uow import UnitOfWork
from kikan.residents import service
from kikan.residents.domain import SuppressedError, final_month_start

WARNING_HEADER = "Kikan-Warning"

# ---------------------------------------------------------------- input types (ADR 0010)

#: 宛名番号・世帯番号 (X15 in the standard layout, String(15) in the tables).
AtenaNumber = Annotated[str, Chars(15)]
HouseholdNumber = Annotated[str, Chars(15)]
AtenaPath = Annotated[str, Chars(15), Path(description="宛名番号")]
IfMatchHeader = Annotated[str | None, Chars(24), Header(description="版（ETag）")]
#: 留意事項・備考・理由: free text, as long as the suppression reasons already allowed.
Note = Annotated[str, Chars(2000, ItemClass.TEXT)]
#: 続柄 (Ｎ30 in the standard layout).
Zokugara = Annotated[str, Chars(30)]
#: How many persons or households one request may name: more than any household holds.
MAX_PERSONS = 200
AtenaNumbers = Annotated[list[AtenaNumber], Field(min_length=1, max_length=MAX_PERSONS)]
ZokugaraMap = Annotated[dict[AtenaNumber, Zokugara], Field(max_length=MAX_PERSONS)]
VersionMap = Annotated[dict[AtenaNumber, Version], Field(max_length=MAX_PERSONS)]


def _ctx(request: Request, staff: auth.Principal) -> Context:
    return context_for(request, staff)


def _run(
    db: DbDep,
    staff: auth.Principal,
    request: Request,
    *,
    function: Function,
    fn: Any,
) -> Any:
    """One use case in one unit of work (the route's operation has checked the roles: the
    function and its roles are catalogue data, ADR 0014); domain errors go to the one mapping
    to problems (kikan.platform.errors)."""
    ctx = _ctx(request, staff)
    try:
        with db.unit_of_work(staff.scope) as uow:
            result = fn(uow, ctx)
            uow.commit()
            return result
    except SuppressedError as exc:
        # the refused unit of work has rolled back and closed: the denial gets its own
        # transaction (ADR 0001), never a nested one (SQLite would wait for its own lock); the
        # error itself becomes its 403 problem in the one mapping (kikan.platform.errors)
        audit.append_now(db, staff.scope, ctx.actor, service.denial_event(exc, function))
        raise


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


def _today(staff: auth.Principal) -> date:
    return Context(actor=staff.actor(), tenant=staff.tenant).today


# ---------------------------------------------------------------- shared schemas


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


def _run_change(
    db: DbDep,
    staff: auth.Principal,
    request: Request,
    *,
    function: Function,
    fn: Callable[[UnitOfWork, Context], service.ChangeResult],
) -> ChangeOut:
    """The whole body of a 異動 endpoint: one use case through `_run`, its result as `ChangeOut`."""
    return _change(_run(db, staff, request, function=function, fn=fn))


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
