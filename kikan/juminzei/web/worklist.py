"""作業一覧: the income records of a 年度 no 賦課期日 resident was found for, each with the reason,
and what staff do with one — 照合 to a 宛名番号, or 回送 to the municipality where the person
lived.

Why 照合 asks 宛名管理 from here: a number that is not on the 賦課期日 list may be a 住登外者
(taxed as 住登外課税). The page takes exactly the API's path (`api.assign`): the list first,
then 宛名管理's published interface "who is this number as of 1月1日" over 庁内データ連携, then
`records.assign` — never a table of its own. When 庁内データ連携 cannot answer, the page says so
and writes nothing. Numbering a new 住登外者 is 宛名管理's screen (or `POST …/number`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kikan.juminzei import domain
from kikan.juminzei.linkage import atena_query
from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.service import records
from kikan.juminzei.settings import JuminzeiSettings
from kikan.juminzei.web.common import (
    KIND_LABELS,
    Outcome,
    can,
    context,
    nendo,
    read_year,
    run,
    tabs,
)
from kikan.linkage.consumer import LinkageError
from kikan.platform.context import Context
from kikan.platform.errors import KikanError
from kikan.platform.modules import settings_for
from kikan.platform.types import Chars, Id
from kikan.platform.uow import UnitOfWork
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, UserDep

router = APIRouter()
#: rows shown at once (the oldest first; what is done leaves the list)
LIMIT = 100
DONE = {
    "assign": "照合しました。",
    "forward": "回送として処理しました。",
}


def _rows(found: list[records.IncomeView]) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "kind": KIND_LABELS.get(i.kind, i.kind),
            "payer": i.payer_name,
            "name": i.name,
            "kana": i.kana,
            "birth": i.birth_date,
            "address": i.address,
            "reason": i.match_note,
        }
        for i in found
    ]


def _page(
    request: Request,
    user: shell.PageUser,
    db: shell.Database,
    year_text: str,
    *,
    message: str = "",
    problem: Outcome | None = None,
    failed_row: int | None = None,
) -> HTMLResponse:
    ctx = context(request, user)
    fiscal = read_year(year_text, ctx)
    rows: list[dict[str, Any]] = []
    error = problem.error if problem else ""
    status = problem.status if problem else 200
    if fiscal.ok:
        query = cmd.Worklist(fiscal.value, LIMIT)
        outcome = run(db, user, ctx, lambda uow, ctx: records.worklist(uow, ctx, query))
        if outcome.ok:
            rows = _rows(outcome.value)
        elif not error:
            error, status = outcome.error, outcome.status
    elif not error:
        error, status = fiscal.error, fiscal.status
    return shell.render(
        request,
        user,
        "juminzei_worklist.html",
        status=status,
        title="作業一覧（未照合の課税資料）",
        tabs=tabs(user, "/ui/juminzei/worklist"),
        year=str(fiscal.value) if fiscal.ok else year_text,
        nendo=nendo(fiscal.value) if fiscal.ok else "",
        rows=rows,
        limit=LIMIT,
        message=message,
        error=error,
        failed_row=failed_row,
        can_match=can(user, "juminzei.match"),
    )


@router.get("/juminzei/worklist", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    user: UserDep,
    db: DbDep,
    year: Annotated[str, Chars(20)] = "",
    done: Annotated[str, Chars(10)] = "",
) -> HTMLResponse:
    """The year's unmatched records (this year's 年度 when none is given)."""
    shell.uses(db, user, FUNCTIONS.entry("juminzei.worklist"))
    return _page(request, user, db, year, message=DONE.get(done, ""))


def _back(request: Request, year: int, done: str) -> Response:
    return shell.redirect(request, f"/ui/juminzei/worklist?year={year}&done={done}")


def _is_jutogai(
    request: Request, db: shell.Database, user: shell.PageUser, year: int, number: str
) -> Outcome:
    """Ask 宛名管理 who `number` was on the 賦課期日 (as `api.assign` does): True for a 住登外者,
    False for anyone else; a refusal when 庁内データ連携 cannot answer."""
    settings = settings_for(request.app.state, JuminzeiSettings)
    unsure = f"宛名番号 {number} は賦課期日（{year}年1月1日）の住民一覧にありません。"
    try:
        with atena_query(db, user.scope, settings.linkage_url or None) as atena:
            person = atena.who(number, as_of=domain.kijitsu(year))
    except LinkageError as exc:
        if exc.status == 404:
            return Outcome(error=f"{unsure}宛名管理にもこの宛名番号はありません。", status=422)
        return Outcome(
            error=f"{unsure}住登外者かどうかを宛名管理に確かめられませんでした: {exc.message}",
            status=503,
        )
    except KikanError as exc:  # not connected to 庁内データ連携
        return Outcome(
            error=f"{unsure}住登外者かどうかを宛名管理に確かめられませんでした: {exc.detail}",
            status=503,
        )
    return Outcome(value=person.kind == "2")


@router.post("/juminzei/income/{income_id}/assign", response_class=HTMLResponse)
def assign_submit(
    request: Request, income_id: Id, user: UserDep, db: DbDep, form: FormDep
) -> Response:
    """宛名番号で照合: a 賦課期日 resident, or a 住登外者 confirmed by 宛名管理."""
    shell.uses(db, user, FUNCTIONS.entry("juminzei.match"))
    ctx = context(request, user)
    year_text = str(form.get("year") or "")
    number = str(form.get("atena_number") or "").strip()
    if not (number.isdigit() and len(number) <= 15):
        problem = Outcome(error="宛名番号は15桁までの数字で入力してください。", status=422)
        return _page(request, user, db, year_text, problem=problem, failed_row=income_id)

    def look(uow: UnitOfWork, ctx: Context) -> tuple[records.IncomeView, bool]:
        row = records.get_income(uow, ctx, cmd.IncomeQuery(income_id))
        return row, records.on_kijitsu(uow, row.fiscal_year, number) is not None

    found = run(db, user, ctx, look)
    if not found.ok:
        return _page(request, user, db, year_text, problem=found, failed_row=income_id)
    row, resident = found.value
    jutogai = False
    if not resident:
        asked = _is_jutogai(request, db, user, row.fiscal_year, number)
        if not asked.ok:
            return _page(request, user, db, year_text, problem=asked, failed_row=income_id)
        jutogai = bool(asked.value)
    command = cmd.Assign(income_id, number, jutogai)
    done = run(db, user, ctx, lambda uow, ctx: records.assign(uow, ctx, command))
    if not done.ok:
        return _page(request, user, db, year_text, problem=done, failed_row=income_id)
    return _back(request, row.fiscal_year, "assign")


@router.post("/juminzei/income/{income_id}/forward", response_class=HTMLResponse)
def forward_submit(
    request: Request, income_id: Id, user: UserDep, db: DbDep, form: FormDep
) -> Response:
    """回送: the record is another municipality's to tax (the 回送先 is kept as the note)."""
    shell.uses(db, user, FUNCTIONS.entry("juminzei.match"))
    ctx = context(request, user)
    year_text = str(form.get("year") or "")
    note = str(form.get("note") or "").strip()
    if len(note) > 200:
        problem = Outcome(error="回送先は200文字までで入力してください。", status=422)
        return _page(request, user, db, year_text, problem=problem, failed_row=income_id)
    command = cmd.Forward(income_id, note)
    done = run(db, user, ctx, lambda uow, ctx: records.forward(uow, ctx, command))
    if not done.ok:
        return _page(request, user, db, year_text, problem=done, failed_row=income_id)
    view: records.IncomeView = done.value
    return _back(request, view.fiscal_year, "forward")


__all__ = ["router"]
