"""住民検索 (search as you type, 検索履歴) and 住民照会 (household, items, history as of a day).

Every read goes through the audited service reads; the household list adds one 世帯照会 record.
Persons under 支援措置 are marked in every list (spec 2.2.4, 3.1).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kikan.calendar import RegisterDate
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.types import MAX_PAGE, Chars
from kikan.platform.uow import Database, UnitOfWork
from kikan.residents import service
from kikan.residents.domain import Snapshot
from kikan.residents.module import FUNCTIONS
from kikan.residents.web.common import READ_ROLES, context, run
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, NavItem, UserDep
from kikan.web.store import SearchHistoryRow

router = APIRouter()
NAV = NavItem("住民検索", "/ui/residents", roles=READ_ROLES, accesskey="s", order=10)

HISTORY_KEEP = 10
CRITERIA = ("name", "birth_date", "address", "atena_number")
CRITERIA_LABELS = {
    "name": "氏名・フリガナ",
    "birth_date": "生年月日",
    "address": "住所",
    "atena_number": "宛名番号",
}


def _history(uow: UnitOfWork, staff: str) -> list[dict[str, Any]]:
    rows = uow.session.scalars(
        select(SearchHistoryRow)
        .where(SearchHistoryRow.staff == staff)
        .order_by(SearchHistoryRow.id.desc())
        .limit(HISTORY_KEEP)
    ).all()
    return [dict(r.criteria) for r in rows]


def _remember(uow: UnitOfWork, staff: str, criteria: dict[str, Any]) -> None:
    """検索履歴 (spec 2.1.1): keep the last HISTORY_KEEP distinct searches per staff member."""
    rows = uow.session.scalars(
        select(SearchHistoryRow)
        .where(SearchHistoryRow.staff == staff)
        .order_by(SearchHistoryRow.id.desc())
    ).all()
    kept = 1
    for row in rows:
        if dict(row.criteria) == criteria or kept >= HISTORY_KEEP:
            uow.session.delete(row)
        else:
            kept += 1
    uow.session.add(SearchHistoryRow(staff=staff, criteria=criteria))


@router.get("/residents", response_class=HTMLResponse)
def search_page(request: Request, *, user: UserDep, db: DbDep) -> HTMLResponse:
    """The empty search form. Criteria never travel in the URL (it lands in access logs, proxy
    logs and the browser history): the form posts them, like the API's search."""
    shell.uses(db, user, FUNCTIONS.entry("residents.search"))
    return _search(request, user, db, {}, removed=False, page=1)


@router.post("/residents", response_class=HTMLResponse)
def search_post(request: Request, *, user: UserDep, db: DbDep, form: FormDep) -> HTMLResponse:
    """基本検索. htmx posts the form as the clerk types (fragment); a full submit (Enter) also
    saves the criteria in the 検索履歴, and a 検索履歴 entry posts its saved criteria again."""
    shell.uses(db, user, FUNCTIONS.entry("residents.search"))
    criteria = {k: str(form.get(k) or "") for k in CRITERIA}
    try:
        page = min(MAX_PAGE, max(1, int(str(form.get("page") or "1"))))
    except ValueError:
        page = 1
    return _search(
        request, user, db, criteria, removed=form.get("include_removed") == "1", page=page
    )


def _search(
    request: Request,
    user: shell.PageUser,
    db: Database,
    given: dict[str, str],
    *,
    removed: bool,
    page: int,
) -> HTMLResponse:
    criteria = {k: given[k].strip() for k in CRITERIA if given.get(k, "").strip()}
    ctx = context(request, user)
    result: dict[str, Any] = {
        "rows": [],
        "total": 0,
        "more": False,
        "protected": set(),
        "suppressed": {},
    }
    error = ""
    if criteria:
        c = service.SearchCriteria(**criteria, include_removed=removed, page=page, page_size=30)

        def fn(uow: UnitOfWork, ctx: Context) -> dict[str, Any]:
            rows, total, protected = service.search(uow, ctx, c)
            return {
                "rows": rows,
                "total": min(total, service.SEARCH_COUNT_CAP),
                "more": total > service.SEARCH_COUNT_CAP,
                "protected": protected,
                "suppressed": service.suppression_flags(uow, ctx, rows),
            }

        remember = not shell.is_htmx(request)
        outcome = run(
            db,
            user,
            ctx,
            function=FUNCTIONS.entry("residents.search"),
            fn=fn,
            after=(
                lambda uow, _v: _remember(
                    uow, user.principal.login_id, {**criteria, "include_removed": removed}
                )
            )
            if remember
            else None,
        )
        if outcome.ok:
            result = outcome.value
        else:
            error = outcome.error
    with db.unit_of_work(user.scope) as uow:
        history = _history(uow, user.principal.login_id)
    template = "search_results.html" if shell.is_htmx(request) else "search.html"
    return shell.render(
        request,
        user,
        template,
        title="住民検索",
        criteria={k: given.get(k, "") for k in CRITERIA},
        include_removed=removed,
        searched=bool(criteria),
        error=error,
        history=history,
        labels=CRITERIA_LABELS,
        page=page,
        **result,
    )


def _code_points(text: str) -> list[dict[str, str]]:
    """文字コード照会 (spec 2.2.3): each character of a name with its code point."""
    return [
        {"char": ch, "code": f"U+{ord(ch):04X}"} for ch in text if not ch.isspace() and ch != "　"
    ]


@router.get("/residents/{atena_number}", response_class=HTMLResponse)
def detail_page(
    request: Request,
    atena_number: Annotated[str, Chars(15)],
    user: UserDep,
    db: DbDep,
    as_of: Annotated[str, Chars(40)] = "",
) -> HTMLResponse:
    """住民照会: current items, household, 支援措置, history timeline and the entry as of a day."""
    shell.uses(db, user, FUNCTIONS.entry("residents.inquiry"))
    ctx = context(request, user)
    day: date | None = None
    as_of_error = ""
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            as_of_error = "基準日は YYYY-MM-DD の形で入力してください。"

    def fn(uow: UnitOfWork, ctx: Context) -> dict[str, Any]:
        found = service.detail(uow, ctx, service.PersonRef(atena_number=atena_number))
        hist = service.read_history(uow, ctx, service.HistoryQuery(atena_number=atena_number))
        snap = found.snapshot
        members = service.household_members(uow, snap.household_number)
        member_ids = [m.atena_number for m in members]
        protected = service.protected_among(uow, member_ids)
        audit.append(
            uow,
            ctx.actor,
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function=FUNCTIONS.entry("residents.household_inquiry"),
                screen="住民照会",
                subjects=member_ids,
                detail={"household": snap.household_number},
            ),
        )
        in_force = None
        if day is not None:
            in_force = service.read_as_of(
                uow, ctx, service.AsOfQuery(atena_number=atena_number, valid_on=day)
            ).value
        return {
            "found": found,
            "history": list(reversed(hist.value)),
            "members": members,
            "protected": protected,
            "in_force": in_force,
            "warnings": list(dict.fromkeys(found.warnings + hist.warnings)),
        }

    outcome = run(db, user, ctx, function=FUNCTIONS.entry("residents.inquiry"), fn=fn)
    if not outcome.ok:
        return shell.render(
            request,
            user,
            "refused.html",
            status=403 if outcome.suppressed else 404,
            title="住民照会",
            message=outcome.error,
        )
    v = outcome.value
    snap: Snapshot = v["found"].snapshot
    return shell.render(
        request,
        user,
        "detail.html",
        title=f"住民照会 {snap.full_name}",
        s=snap,
        version=v["found"].version,
        measures=v["found"].measures,
        warnings=v["warnings"],
        members=v["members"],
        protected=v["protected"],
        history=v["history"],
        in_force=v["in_force"],
        as_of=as_of,
        as_of_error=as_of_error,
        today=ctx.today,
        code_points=_code_points(snap.full_name),
        display_birth=_birth(snap),
        sex_label={"1": "男", "2": "女", "9": "その他", "0": "不明"}.get(snap.sex, snap.sex),
        certificates_enabled=True,
    )


def _birth(s: Snapshot) -> str:
    return RegisterDate.from_storage(s.birth_date).display()
