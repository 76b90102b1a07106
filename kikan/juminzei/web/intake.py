"""課税資料の取込: a 給与支払報告書 or 公的年金等支払報告書 CSV uploaded for a 年度, taken in by
`records.load_income` (the API's and the CLI's use case), and what became of every row.

Why the page shows every count and every rejected row: the rows of a file are accounted for
(rows = accepted + rejected, accepted = matched + worklist); staff send each rejected row's
reasons back to the employer or pension payer. A file refused whole (a missing column, a 個人番号
column, an unreadable encoding, the same file again) writes nothing and says why.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.service import records
from kikan.juminzei.web.common import (
    UPLOAD_KINDS,
    Outcome,
    context,
    default_year,
    nendo,
    read_year,
    run,
    tabs,
)
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, UserDep

router = APIRouter()
#: the largest file taken from the browser (the body limit of the path is a little above it,
#: for the multipart envelope: kikan/platform/limits.py); larger files: `kikan juminzei intake`
MAX_CSV = 64 * 1024 * 1024


def _page(
    request: Request,
    user: shell.PageUser,
    *,
    year: str,
    kind: str,
    outcome: Outcome | None = None,
) -> HTMLResponse:
    outcome = outcome or Outcome()
    batch: records.BatchView | None = outcome.value
    return shell.render(
        request,
        user,
        "juminzei_intake.html",
        status=outcome.status,
        title="課税資料の取込",
        tabs=tabs(user, "/ui/juminzei/intake"),
        year=year,
        kind=kind,
        kinds=UPLOAD_KINDS,
        batch=batch,
        batch_kind=UPLOAD_KINDS.get(batch.kind, batch.kind) if batch else "",
        batch_nendo=nendo(batch.fiscal_year) if batch else "",
        error=outcome.error,
        max_mb=MAX_CSV // (1024 * 1024),
    )


@router.get("/juminzei/intake", response_class=HTMLResponse)
def intake_page(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("juminzei.intake"))
    year = default_year(context(request, user))
    return _page(request, user, year=str(year), kind="kyuyo")


@router.post("/juminzei/intake", response_class=HTMLResponse)
def intake_submit(request: Request, user: UserDep, db: DbDep, form: FormDep) -> HTMLResponse:
    """One file for one 年度 and kind, taken in one transaction (refused whole: nothing kept)."""
    shell.uses(db, user, FUNCTIONS.entry("juminzei.intake"))
    ctx = context(request, user)
    year_text = str(form.get("year") or "")
    kind = str(form.get("kind") or "")
    upload = form.get("file")
    fiscal = read_year(year_text, ctx)
    if not fiscal.ok:
        return _page(request, user, year=year_text, kind=kind, outcome=fiscal)
    if kind not in UPLOAD_KINDS:
        problem = Outcome(error="種類を選んでください（給与支払報告書・公的年金等支払報告書）。",
                          status=422)  # fmt: skip
        return _page(request, user, year=year_text, kind=kind, outcome=problem)
    if not isinstance(upload, UploadFile) or not upload.filename:
        problem = Outcome(error="取り込む CSV ファイルを選んでください。", status=422)
        return _page(request, user, year=year_text, kind=kind, outcome=problem)
    content = upload.file.read(MAX_CSV + 1)
    if len(content) > MAX_CSV:
        problem = Outcome(
            error=f"ファイルは {MAX_CSV // (1024 * 1024)} MB までです"
            "（大きなファイルは kikan juminzei intake で取り込んでください）。",
            status=413,
        )
        return _page(request, user, year=year_text, kind=kind, outcome=problem)
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    command = cmd.LoadIncome(fiscal.value, kind, filename, content)
    outcome = run(db, user, ctx, lambda uow, ctx: records.load_income(uow, ctx, command))
    return _page(request, user, year=year_text or str(fiscal.value), kind=kind, outcome=outcome)
