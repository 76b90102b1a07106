"""交付履歴照会 and 本人通知制度 of one resident: the certificates issued about the person, the
person's registration in the 本人通知制度 (register, end) and the notices owed to them.

Why one page: the counter answers "who obtained my 住民票?" and "tell me when someone does" in
the same conversation. Every read and change goes through `kikan.residents.certificates` (the
API's calls, audited there); the page only adds the current registration, read in the same unit
of work. Registering and ending need a counter role and the CSRF token like every form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from kikan.errors import DomainError
from kikan.platform.context import Context
from kikan.platform.errors import KikanError, as_problem
from kikan.platform.issuance import Issuance
from kikan.platform.types import Chars
from kikan.platform.uow import UnitOfWork
from kikan.residents import service
from kikan.residents.certificates import (
    PersonRef,
    RegisterHonninTsuuchi,
    end_honnin_tsuuchi,
    honnin_notices,
    issuance_history,
    register_honnin_tsuuchi,
)
from kikan.residents.certificates.rules import REQUESTER_LABELS
from kikan.residents.domain import Snapshot
from kikan.residents.module import FUNCTIONS
from kikan.residents.store import HonninNoticeRow, HonninTsuuchiRow
from kikan.residents.web.common import WRITE_ROLES, Outcome, context, run
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, UserDep

router = APIRouter()
FUNCTION = FUNCTIONS.entry("residents.issuance_history")
STATUS = {"issued": "交付", "voided": "無効"}


@dataclass(frozen=True)
class View:
    snapshot: Snapshot
    issued: list[Issuance]
    registration: HonninTsuuchiRow | None
    notices: list[HonninNoticeRow]


def _load(db: shell.Database, user: shell.PageUser, ctx: Context, atena: str) -> Outcome:
    """The person (住民照会, honouring 照会抑止), the 交付履歴 and the 本人通知 records."""

    def fn(uow: UnitOfWork, ctx: Context) -> View:
        found = service.detail(uow, ctx, service.PersonRef(atena_number=atena))
        registration = uow.session.scalars(
            select(HonninTsuuchiRow).where(
                HonninTsuuchiRow.atena_number == atena, HonninTsuuchiRow.ended_on.is_(None)
            )
        ).first()
        return View(
            found.snapshot,
            issuance_history(uow, ctx, PersonRef(atena_number=atena)),
            registration,
            honnin_notices(uow, ctx, PersonRef(atena_number=atena)),
        )

    try:
        return run(db, user, ctx, function=FUNCTION, fn=fn)
    except (KikanError, DomainError) as exc:  # unknown 宛名番号
        problem = as_problem(exc)
        return Outcome(error=problem.detail, status=problem.status)


def _page(
    request: Request,
    user: shell.PageUser,
    db: shell.Database,
    atena: str,
    *,
    message: str = "",
    error: str = "",
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = context(request, user)
    outcome = _load(db, user, ctx, atena)
    if not outcome.ok:
        return shell.render(
            request,
            user,
            "refused.html",
            status=403 if outcome.suppressed else 404,
            title=FUNCTION.label,
            message=outcome.error,
        )
    view: View = outcome.value
    return shell.render(
        request,
        user,
        "issuances.html",
        status=status,
        title=f"交付履歴・本人通知 {view.snapshot.full_name}",
        s=view.snapshot,
        view=view,
        requester_labels=REQUESTER_LABELS,
        statuses=STATUS,
        can_write=user.principal.has_role(*WRITE_ROLES),
        message=message,
        error=error,
        values=values or {},
    )


@router.get("/residents/{atena_number}/issuances", response_class=HTMLResponse)
def issuances_page(
    request: Request, atena_number: Annotated[str, Chars(15)], user: UserDep, db: DbDep
) -> HTMLResponse:
    shell.uses(db, user, FUNCTION)
    return _page(request, user, db, atena_number)


@router.post("/residents/{atena_number}/issuances", response_class=HTMLResponse)
def honnin_submit(
    request: Request,
    atena_number: Annotated[str, Chars(15)],
    user: UserDep,
    db: DbDep,
    form: FormDep,
) -> HTMLResponse:
    """本人通知制度への登録 / 登録廃止 (the person's own request at the counter)."""
    action = str(form.get("action", ""))
    function = shell.uses(
        db,
        user,
        FUNCTIONS.entry("residents.notice_end" if action == "end" else "residents.notice_register"),
    )
    ctx = context(request, user)
    values = {k: str(form.get(k, "")).strip() for k in ("send_to", "note")}
    fn: Any
    if action == "end":
        fn = lambda uow, ctx: end_honnin_tsuuchi(uow, ctx, PersonRef(atena_number=atena_number))  # noqa: E731
        done = "本人通知制度の登録を廃止しました。"
    else:
        fn = lambda uow, ctx: register_honnin_tsuuchi(  # noqa: E731
            uow, ctx, RegisterHonninTsuuchi(atena_number=atena_number, **values)
        )
        done = "本人通知制度に登録しました。"
    try:
        outcome = run(db, user, ctx, function=function, fn=fn)
    except (KikanError, DomainError) as exc:
        problem = as_problem(exc)
        outcome = Outcome(error=problem.detail, status=problem.status)
    if not outcome.ok:
        status = 403 if outcome.suppressed else outcome.status
        return _page(
            request, user, db, atena_number, error=outcome.error, status=status, values=values
        )
    return _page(request, user, db, atena_number, message=done)
