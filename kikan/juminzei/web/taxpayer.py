"""課税の照会: one taxpayer of a 年度 — every assessment version (当初・更正) with the steps of the
calculation, the 期割, the income records it was computed from, and the notice of each version.

Why a page of its own: staff explain a tax at the counter from these figures, step by step; the
page reads them through `assessment.taxpayer` (audited as the API's read is), and the notice
through `notices.notice_pdf` (audited as a print).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kikan.juminzei import domain
from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.service import assessment, notices
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.service.records import IncomeView
from kikan.juminzei.web.common import (
    KIND_LABELS,
    MATCH_LABELS,
    METHOD_LABELS,
    can,
    context,
    nendo,
    read_year,
    run,
    tabs,
)
from kikan.platform.types import Chars, Id
from kikan.web import shell
from kikan.web.shell import DbDep, UserDep

router = APIRouter()
#: the 宛名番号 field accepts what a 宛名番号 is (15 digits); anything else is not looked up
ATENA_DIGITS = 15


@cache
def figure_columns() -> dict[str, dict[str, domain.Column]]:
    """Each report kind's figure keys and their columns (the heading the form prints, and the
    meaning of a choice's codes)."""
    return {
        kind: {c.key: c for c in domain.layout(kind).columns}
        for kind in (domain.KYUYO, domain.NENKIN)
    }


def _figure_text(value: Any, column: domain.Column | None = None) -> str:
    if isinstance(value, bool):
        return "有" if value else ""
    if isinstance(value, int):
        return f"{value:,}" if value else ""
    text = str(value or "")
    return column.choices.get(text, text) if column is not None and text else text


def income_rows(items: tuple[IncomeView, ...]) -> list[dict[str, Any]]:
    """The income records as the table shows them: kind, payer, state, the figures that are set."""
    columns = figure_columns()
    out = []
    for i in items:
        known = columns.get(i.kind, {})
        shown = ((known.get(k), k, v) for k, v in i.figures.items())
        figures = [
            (col.header if col else key, _figure_text(value, col))
            for col, key, value in shown
            if _figure_text(value, col)
        ]
        out.append(
            {
                "id": i.id,
                "kind": KIND_LABELS.get(i.kind, i.kind),
                "payer": i.payer_name,
                "state": MATCH_LABELS.get(i.match_state, i.match_state),
                "note": i.match_note,
                "active": i.active,
                "figures": figures,
            }
        )
    return out


def _amount(value: Any) -> str:
    return "" if value is None else f"{int(value):,}"


def version_rows(view: assessment.TaxpayerView) -> list[dict[str, Any]]:
    """Every version, the newest first, with its steps (label, 市, 県, 金額) and 期割."""
    out = []
    for v in reversed(view.versions):
        steps = [
            {
                "label": s.get("label", s.get("key", "")),
                "city": _amount(s.get("city")),
                "pref": _amount(s.get("pref")),
                "amount": _amount(s.get("amount")),
            }
            for s in v.result.get("steps", [])
        ]
        installments = [
            {
                "label": i.label,
                "method": METHOD_LABELS.get(i.method, i.method),
                "due": i.due_date,
                "amount": f"{i.amount:,}",
                "kind": i.kind,
            }
            for i in v.installments
        ]
        out.append(
            {
                "id": v.id,
                "version": v.version,
                "reason": v.reason,
                "current": v.current,
                "assessed_on": v.assessed_on,
                "notice_no": v.notice_no,
                "annual_tax": f"{v.annual_tax:,}",
                "city_total": f"{v.city_total:,}",
                "pref_total": f"{v.pref_total:,}",
                "forest_tax": f"{v.forest_tax:,}",
                "method": METHOD_LABELS.get(v.method, v.method),
                "employer": " ".join(p for p in (v.employer_key, v.employer_name) if p),
                "steps": steps,
                "installments": installments,
            }
        )
    return out


@router.get("/juminzei", response_class=HTMLResponse)
def taxpayer_page(
    request: Request,
    user: UserDep,
    db: DbDep,
    atena: Annotated[str, Chars(20)] = "",
    year: Annotated[str, Chars(20)] = "",
) -> HTMLResponse:
    """The look-up form; with a 宛名番号, the taxpayer of the 年度 (this year's when empty)."""
    shell.uses(db, user, FUNCTIONS.entry("juminzei.taxpayer_read"))
    ctx = context(request, user)
    number = atena.strip()
    page: dict[str, Any] = {
        "title": "課税の照会",
        "tabs": tabs(user, "/ui/juminzei"),
        "atena": number,
        "year": year,
        "error": "",
        "view": None,
        "versions": [],
        "income": [],
        "nendo": "",
        "can_notice": can(user, "juminzei.notice"),
    }
    status = 200
    if number:
        fiscal = read_year(year, ctx)
        if not fiscal.ok:
            page["error"], status = fiscal.error, fiscal.status
        elif not (number.isdigit() and len(number) == ATENA_DIGITS):
            page["error"], status = "宛名番号は15桁の数字で入力してください。", 422
        else:
            query = cmd.TaxpayerQuery(fiscal.value, number)
            outcome = run(db, user, ctx, lambda uow, ctx: assessment.taxpayer(uow, ctx, query))
            page["year"] = year or str(fiscal.value)
            page["nendo"] = nendo(fiscal.value)
            if outcome.ok:
                view: assessment.TaxpayerView = outcome.value
                page.update(view=view, versions=version_rows(view), income=income_rows(view.income))
            else:
                page["error"], status = outcome.error, outcome.status
    return shell.render(request, user, "juminzei_taxpayer.html", status=status, **page)


@router.get("/juminzei/assessments/{assessment_id}/notice.pdf")
def notice_pdf(request: Request, assessment_id: Id, user: UserDep, db: DbDep) -> Response:
    """The notice of one version (税額決定・納税通知書／特別徴収税額の決定通知書／税額変更通知書),
    rendered and audited as a print by the same use case as the API's."""
    shell.uses(db, user, FUNCTIONS.entry("juminzei.notice"))
    ctx = context(request, user)
    query = cmd.AssessmentQuery(assessment_id)
    outcome = run(db, user, ctx, lambda uow, ctx: notices.notice_pdf(uow, ctx, query))
    if not outcome.ok:
        return shell.render(
            request,
            user,
            "juminzei_refused.html",
            status=outcome.status,
            title="通知書",
            message=outcome.error,
            tabs=tabs(user, ""),
        )
    notice: notices.Notice = outcome.value
    return Response(
        notice.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{notice.filename}"'},
    )
