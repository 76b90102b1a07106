"""名寄せ: the worklist of candidate pairs, one pair with its decision (名寄せ with an explicitly
chosen 代表宛名, or 別人), and the 名寄せ履歴 of a 宛名番号 with 名寄せ解除.

Why the pair is shown as a comparison: staff decide on the evidence the rules weighed, per
attribute, with both records side by side; a wrong link merges two persons, so the 代表宛名 has
no default and a person under 支援措置 is marked on every side it appears. The decisions are the
API's use cases (`kikan.atena.service.nayose`); two staff deciding one pair get the 409 the
service answers, shown as its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from kikan.atena.module import FUNCTIONS
from kikan.atena.service import nayose
from kikan.atena.web.common import (
    ACTIONS,
    AGREEMENTS,
    NAYOSE_ROLES,
    SOURCES,
    VERDICTS,
    Outcome,
    context,
    run,
    sex_labels,
)
from kikan.calendar import DateError, RegisterDate
from kikan.platform.types import MAX_PAGE, Chars, Id
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, NavItem, UserDep

router = APIRouter()
NAV = NavItem("名寄せ", "/ui/atena/nayose", roles=NAYOSE_ROLES, accesskey="y", order=31)

PAGE_SIZE = 20
#: the rows of a comparison: attribute (as the evidence names it) → Japanese label
ATTRIBUTES = {"name": "氏名", "kana": "読み仮名", "birth": "生年月日", "sex": "性別",
              "address": "住所"}  # fmt: skip
DONE = {
    "link": "名寄せしました。",
    "dismiss": "別人として処理しました。",
    "undo": "名寄せを解除しました。",
}


def _display_date(text: str) -> str:
    try:
        return RegisterDate.from_storage(text).display() if text else ""
    except DateError:
        return text


@dataclass(frozen=True)
class Compared:
    """One row of a pair's comparison: both values and how they agree."""

    attribute: str
    label: str
    a: str
    b: str
    agreement: str
    word: str
    points: Any


def _value(side: nayose.Side, attribute: str, sexes: dict[str, str]) -> str:
    f = side.facts
    if f is None:
        return ""
    if attribute == "birth":
        return _display_date(f.birth)
    if attribute == "sex":
        return sexes.get(f.sex, f.sex)
    return str(getattr(f, attribute, ""))


def compare(item: nayose.WorkItem) -> list[Compared]:
    """The five attributes, then any further evidence (個人番号: agreement only, no value)."""
    sexes = sex_labels()
    evidence = {str(e.get("attribute", "")): e for e in item.evidence}
    rows: list[Compared] = []
    for attribute, label in ATTRIBUTES.items():
        e = evidence.pop(attribute, {})
        agreement = str(e.get("agreement", ""))
        rows.append(Compared(attribute, label, _value(item.a, attribute, sexes),
                             _value(item.b, attribute, sexes), agreement,
                             AGREEMENTS.get(agreement, "—"), e.get("points", "")))  # fmt: skip
    for attribute, e in evidence.items():
        agreement = str(e.get("agreement", ""))
        rows.append(Compared(attribute, str(e.get("label", attribute)), "（表示しません）",
                             "（表示しません）", agreement, AGREEMENTS.get(agreement, "—"),
                             e.get("points", "")))  # fmt: skip
    return rows


def _labels() -> dict[str, Any]:
    return {"sources": SOURCES, "verdicts": VERDICTS, "agreements": AGREEMENTS,
            "actions": ACTIONS}  # fmt: skip


# ---------------------------------------------------------------- the worklist


@router.get("/atena/nayose", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    user: UserDep,
    db: DbDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    done: Annotated[str, Chars(10)] = "",
) -> HTMLResponse:
    """The open pairs, best score first, each as a comparison; Enter on a pair opens it."""
    shell.uses(db, user, FUNCTIONS.entry("atena.nayose_read"))
    ctx = context(request, user)
    command = nayose.Worklist(nayose.OPEN, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    outcome = run(db, user, ctx, lambda uow, ctx: nayose.worklist(uow, ctx, command))
    items: list[nayose.WorkItem] = outcome.value if outcome.ok else []
    return shell.render(
        request,
        user,
        "atena_nayose_list.html",
        status=200 if outcome.ok else outcome.status,
        title="名寄せ候補",
        pairs=[(i, compare(i)) for i in items[:PAGE_SIZE]],
        more=len(items) > PAGE_SIZE,
        page=page,
        error=outcome.error,
        message=DONE.get(done, ""),
        **_labels(),
    )


# ---------------------------------------------------------------- one pair


def _pair_page(
    request: Request,
    user: shell.PageUser,
    db: shell.Database,
    candidate_id: int,
    *,
    refused: Outcome | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = context(request, user)
    query = nayose.CandidateQuery(candidate_id)
    outcome = run(db, user, ctx, lambda uow, ctx: nayose.candidate(uow, ctx, query))
    if not outcome.ok:
        return shell.render(request, user, "atena_refused.html", status=outcome.status,
                            title="名寄せ候補", message=outcome.error)  # fmt: skip
    item: nayose.WorkItem = outcome.value
    return shell.render(
        request,
        user,
        "atena_nayose_pair.html",
        status=refused.status if refused else 200,
        title=f"名寄せ候補 {item.a.atena_number}・{item.b.atena_number}",
        item=item,
        rows=compare(item),
        error=refused.error if refused else "",
        values=values or {},
        can_decide=user.principal.has_role(*FUNCTIONS.entry("atena.nayose_decide").roles),
        **_labels(),
    )


@router.get("/atena/nayose/pairs/{candidate_id}", response_class=HTMLResponse)
def pair_page(
    request: Request, candidate_id: Annotated[Id, Path()], user: UserDep, db: DbDep
) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("atena.nayose_read"))
    return _pair_page(request, user, db, candidate_id)


@router.post("/atena/nayose/pairs/{candidate_id}", response_class=HTMLResponse)
def pair_decide(
    request: Request,
    candidate_id: Annotated[Id, Path()],
    user: UserDep,
    db: DbDep,
    form: FormDep,
) -> Response:
    """名寄せする (`action=link`, the chosen 代表宛名) or 別人として処理 (`action=dismiss`), with
    the pair's version from when the page was opened."""
    shell.uses(db, user, FUNCTIONS.entry("atena.nayose_decide"))
    ctx = context(request, user)
    action = "dismiss" if form.get("action") == "dismiss" else "link"
    values = {k: str(form.get(k) or "") for k in ("representative", "note")}
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        version = 0
    outcome: Outcome
    if action == "link":
        link = nayose.LinkPair(candidate_id, version, values["representative"], values["note"])
        outcome = run(db, user, ctx, lambda uow, ctx: nayose.link_pair(uow, ctx, link))
    else:
        dismiss = nayose.DismissPair(candidate_id, version, values["note"])
        outcome = run(db, user, ctx, lambda uow, ctx: nayose.dismiss_pair(uow, ctx, dismiss))
    if not outcome.ok:
        return _pair_page(request, user, db, candidate_id, refused=outcome, values=values)
    return shell.redirect(request, f"/ui/atena/nayose?done={action}")


# ---------------------------------------------------------------- 名寄せ履歴


def _history_page(
    request: Request,
    user: shell.PageUser,
    db: shell.Database,
    atena_number: str,
    *,
    refused: Outcome | None = None,
    message: str = "",
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = context(request, user)
    command = nayose.History(atena_number)
    outcome = run(db, user, ctx, lambda uow, ctx: list(nayose.history(uow, ctx, command)))
    events = list(reversed(outcome.value)) if outcome.ok else []
    return shell.render(
        request,
        user,
        "atena_nayose_history.html",
        status=refused.status if refused else (200 if outcome.ok else outcome.status),
        title=f"名寄せ履歴 {atena_number}",
        atena_number=atena_number,
        events=events,
        error=refused.error if refused else outcome.error,
        message=message,
        values=values or {},
        can_decide=user.principal.has_role(*FUNCTIONS.entry("atena.nayose_decide").roles),
        **_labels(),
    )


@router.get("/atena/nayose/history/{atena_number}", response_class=HTMLResponse)
def history_page(
    request: Request,
    atena_number: Annotated[str, Chars(15)],
    user: UserDep,
    db: DbDep,
    done: Annotated[str, Chars(10)] = "",
) -> HTMLResponse:
    """名寄せ履歴 of one 宛名番号, newest first, with 名寄せ解除 for the events still in force."""
    shell.uses(db, user, FUNCTIONS.entry("atena.nayose_read"))
    return _history_page(request, user, db, atena_number, message=DONE.get(done, ""))


@router.post("/atena/nayose/history/{atena_number}", response_class=HTMLResponse)
def history_undo(
    request: Request,
    atena_number: Annotated[str, Chars(15)],
    user: UserDep,
    db: DbDep,
    form: FormDep,
) -> Response:
    """名寄せ解除 of one event (a reason is required; the service says so when it is missing)."""
    shell.uses(db, user, FUNCTIONS.entry("atena.nayose_decide"))
    ctx = context(request, user)
    try:
        event_id = int(str(form.get("event_id") or ""))
    except ValueError:
        event_id = 0
    reason = str(form.get("reason") or "")
    undo = nayose.UndoLink(event_id, reason)
    outcome = run(db, user, ctx, lambda uow, ctx: nayose.undo_link(uow, ctx, undo))
    if not outcome.ok:
        return _history_page(request, user, db, atena_number, refused=outcome,
                             values={"event_id": str(event_id), "reason": reason})  # fmt: skip
    return shell.redirect(request, f"/ui/atena/nayose/history/{atena_number}?done=undo")
