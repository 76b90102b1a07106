"""住登外者の登録簿: the list (search as the API does), one person with the history of states, the
registration form with the 付番's candidates step, and the correction form.

Why the candidates step looks like this: 処理区分 0 answers "someone plausible exists" with the
candidates and a `search_id`, and numbers nobody. The page shows them next to what the clerk
typed; the clerk opens an existing one, or confirms 新規付番, which posts the same entry again
with the `search_id` (the offer is made to this staff member only). The pairs go to the 名寄せ
worklist all the same. 氏名・生年月日 travel in POSTed forms only, never in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from kikan.atena import domain
from kikan.atena.module import FUNCTIONS
from kikan.atena.service import register
from kikan.atena.store import JutogaiRow
from kikan.atena.web.common import (
    JUTOGAI_ROLES,
    ORIGINS,
    SOURCES,
    Outcome,
    context,
    run,
    sex_labels,
)
from kikan.calendar import DateError, RegisterDate
from kikan.platform.context import Context
from kikan.platform.types import MAX_PAGE, Chars
from kikan.platform.uow import UnitOfWork
from kikan.standard.layouts import Item
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, NavItem, UserDep

router = APIRouter()
NAV = NavItem("住登外者", "/ui/atena/jutogai", roles=JUTOGAI_ROLES, accesskey="j", order=30)

PAGE_SIZE = 50
#: the form's sections, in the order a clerk fills them in; items of the layout not named here
#: are added to the last section (a new item of the definition still gets a field)
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("氏名", ("family_name", "given_name", "family_name_kana", "given_name_kana", "name",
             "name_kana", "roman_name", "foreign_kanji_name", "tsuushou")),
    ("生年月日・性別", ("birth_date", "sex")),
    ("住所", ("postal_code", "prefecture", "city", "town", "town_code", "banchi", "katagaki",
             "foreign_address", "country_code")),
    ("登録", ("gyomu_id", "valid_from", "my_number")),
)  # fmt: skip
HINTS = {
    "name": "空欄なら氏と名から作ります",
    "name_kana": "空欄なら氏カナと名カナから作ります",
    "birth_date": "例：昭和45年4月1日、昭和45年4月（日不詳）",
    "postal_code": "7桁の数字",
    "valid_from": "空欄なら本日",
    "my_number": "12桁（暗号化して保存。画面には表示しません）",
}
DONE = {
    "new": "住登外者を登録しました。",
    "update": "住登外者を修正しました。",
}


def sections() -> list[tuple[str, list[Item]]]:
    items = {i.code: i for i in domain.input_items()}
    out = [(title, [items.pop(c) for c in codes if c in items]) for title, codes in SECTIONS]
    out[-1][1].extend(items.values())
    return out


def _values(form: FormData) -> dict[str, str]:
    """What the clerk typed, for every input item (kept as typed when the entry is refused)."""
    return {i.code: str(form.get(i.code) or "") for i in domain.input_items()}


def _display_date(text: str) -> str:
    try:
        return RegisterDate.from_storage(text).display()
    except DateError:
        return text


@dataclass(frozen=True)
class ListedRow:
    """One line of the register, as the table shows it."""

    atena_number: str
    name: str
    kana: str
    birth: str
    sex: str
    address: str
    gyomu: str
    active: bool
    updated_at: Any


def _listed(row: JutogaiRow, sexes: dict[str, str]) -> ListedRow:
    items = row.items
    return ListedRow(
        atena_number=row.atena_number,
        name=items.get("name", ""),
        kana=items.get("name_kana", ""),
        birth=_display_date(items.get("birth_date", "")),
        sex=sexes.get(items.get("sex", ""), ""),
        address=domain.address_text(items),
        gyomu=domain.gyomu_codes().get(row.gyomu_id, row.gyomu_id),
        active=row.active,
        updated_at=row.updated_at,
    )


# ---------------------------------------------------------------- the list


@router.get("/atena/jutogai", response_class=HTMLResponse)
def list_page(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    """The register, newest first. Criteria are posted (never in the URL)."""
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_read"))
    return _list(request, user, db, "", 1)


@router.post("/atena/jutogai", response_class=HTMLResponse)
def list_post(request: Request, user: UserDep, db: DbDep, form: FormDep) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_read"))
    try:
        page = min(MAX_PAGE, max(1, int(str(form.get("page") or "1"))))
    except ValueError:
        page = 1
    return _list(request, user, db, str(form.get("q") or "")[:100], page)


def _list(request: Request, user: shell.PageUser, db: shell.Database, q: str,
          page: int) -> HTMLResponse:  # fmt: skip
    ctx = context(request, user)
    command = register.ListJutogai(q, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    outcome = run(db, user, ctx, lambda uow, ctx: register.list_jutogai(uow, ctx, command))
    sexes = sex_labels()
    rows = [_listed(r, sexes) for r in outcome.value.rows] if outcome.ok else []
    total = outcome.value.total if outcome.ok else 0
    return shell.render(
        request,
        user,
        "atena_jutogai_list.html",
        status=200 if outcome.ok else outcome.status,
        title="住登外者",
        q=q,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        error=outcome.error,
        can_add=user.principal.has_role(*FUNCTIONS.entry("atena.jutogai_add").roles),
    )


# ---------------------------------------------------------------- registration (declared before
# the person's page: "new" must not be read as a 宛名番号)


def _form(
    request: Request,
    user: shell.PageUser,
    *,
    values: dict[str, str],
    outcome: Outcome | None = None,
    offer: register.FubanResult | None = None,
    row: JutogaiRow | None = None,
) -> HTMLResponse:
    """The entry form (new, or the correction of `row`), with problems and candidates."""
    outcome = outcome or Outcome()
    status = outcome.status if not outcome.ok else 200
    sexes = sex_labels()
    candidates = [
        {
            "atena_number": c.atena_number,
            "source": SOURCES.get(c.source, c.source),
            "href": f"/ui/atena/jutogai/{c.atena_number}"
            if c.source == "2"
            else f"/ui/residents/{c.atena_number}",
            "name": c.state.name,
            "kana": c.state.kana,
            "birth": _display_date(c.state.birth),
            "sex": sexes.get(c.state.sex, c.state.sex),
            "address": c.state.address,
            "score": c.score,
            "reason": c.assessment.reason,
            "current": c.current,
            "protected": c.protected,
        }
        for c in (offer.candidates if offer else ())
    ]
    labels = {i.code: i.name for i in domain.input_items()}
    shown = sections()
    return shell.render(
        request,
        user,
        "atena_jutogai_form.html",
        status=status,
        title=f"住登外者の修正 {row.atena_number}" if row else "住登外者の登録",
        row=row,
        sections=shown,
        values=values,
        hints=HINTS,
        sexes=sexes,
        gyomu=domain.gyomu_codes(),
        error=outcome.error,
        errors=outcome.errors,
        labels=labels,
        #: in the order of the screen: the first of them takes the focus
        field_errors=[i.code for _, items in shown for i in items if i.code in outcome.errors],
        candidates=candidates,
        search_id=offer.search_id if offer else "",
    )


@router.get("/atena/jutogai/new", response_class=HTMLResponse)
def new_page(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_add"))
    return _form(request, user, values={"gyomu_id": "031"})


@router.post("/atena/jutogai/new", response_class=HTMLResponse)
def new_submit(request: Request, user: UserDep, db: DbDep, form: FormDep) -> Response:
    """登録: 付番 with 処理区分 0. `action=number` (新規付番) answers the candidates shown with
    the `search_id` they came with; a plain 登録 searches again."""
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_add"))
    ctx = context(request, user)
    values = _values(form)
    search_id = str(form.get("search_id") or "") if form.get("action") == "number" else ""
    command = register.Fuban(
        shori_kubun=register.NEW,
        values={k: v for k, v in values.items() if v.strip()},
        requester=f"staff:{ctx.actor.id}",
        search_id=search_id,
    )
    outcome = run(db, user, ctx, lambda uow, ctx: register.fuban(uow, ctx, command))
    if not outcome.ok:
        return _form(request, user, values=values, outcome=outcome)
    result: register.FubanResult = outcome.value
    if result.result == "candidates":
        return _form(request, user, values=values, offer=result)
    return shell.redirect(request, f"/ui/atena/jutogai/{result.atena_number}?done=new")


# ---------------------------------------------------------------- one person


@router.get("/atena/jutogai/{atena_number}", response_class=HTMLResponse)
def detail_page(
    request: Request,
    atena_number: Annotated[str, Chars(15)],
    user: UserDep,
    db: DbDep,
    done: Annotated[str, Chars(10)] = "",
) -> HTMLResponse:
    """住登外者照会: the current items and every recorded state (newest first)."""
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_read"))
    ctx = context(request, user)
    query = register.JutogaiQuery(atena_number)
    outcome = run(db, user, ctx, lambda uow, ctx: register.jutogai_detail(uow, ctx, query))
    if not outcome.ok:
        return shell.render(request, user, "atena_refused.html", status=outcome.status,
                            title="住登外者", message=outcome.error)  # fmt: skip
    detail: register.JutogaiDetail = outcome.value
    row = detail.row
    sexes = sex_labels()
    shown = [
        (item.name, _shown_value(item, row.items.get(item.code, ""), sexes))
        for item in domain.input_items()
        if item.code != "my_number" and row.items.get(item.code)
    ]
    return shell.render(
        request,
        user,
        "atena_jutogai_detail.html",
        title=f"住登外者 {row.items.get('name', '')}",
        row=row,
        shown=shown,
        states=list(reversed(detail.states)),
        sexes=sexes,
        sources=SOURCES,
        origin=ORIGINS.get(row.origin, row.origin),
        gyomu=domain.gyomu_codes().get(row.gyomu_id, row.gyomu_id),
        message=DONE.get(done, ""),
        can_update=user.principal.has_role(*FUNCTIONS.entry("atena.jutogai_update").roles),
        can_nayose=user.principal.has_role(*FUNCTIONS.entry("atena.nayose_read").roles),
    )


def _shown_value(item: Item, value: str, sexes: dict[str, str]) -> str:
    if item.code == "sex":
        return sexes.get(value, value)
    if item.code == "gyomu_id":
        return f"{value} {domain.gyomu_codes().get(value, '')}".strip()
    if item.type == "DATE":
        return _display_date(value)
    return value


# ---------------------------------------------------------------- correction


def _current_values(row: JutogaiRow) -> dict[str, str]:
    """The form pre-filled from the register: dates in their display form, and 氏名・氏名カナ
    left empty when they are only the joined parts (so correcting 氏 corrects 氏名 too)."""
    items = dict(row.items)
    values = {i.code: str(items.get(i.code, "")) for i in domain.input_items()}
    for whole, first, second in (("name", "family_name", "given_name"),
                                 ("name_kana", "family_name_kana", "given_name_kana")):  # fmt: skip
        joined = "　".join(p for p in (values[first], values[second]) if p)
        if joined and values[whole] == joined:
            values[whole] = ""
    for item in domain.input_items():
        if item.type == "DATE" and values.get(item.code):
            values[item.code] = _display_date(values[item.code])
    values["version"] = str(row.version)
    return values


def _load_row(db: shell.Database, user: shell.PageUser, ctx: Context, atena_number: str) -> Outcome:
    def fn(uow: UnitOfWork, ctx: Context) -> JutogaiRow:
        return register.jutogai_detail(uow, ctx, register.JutogaiQuery(atena_number)).row

    return run(db, user, ctx, fn)


@router.get("/atena/jutogai/{atena_number}/edit", response_class=HTMLResponse)
def edit_page(
    request: Request, atena_number: Annotated[str, Chars(15)], user: UserDep, db: DbDep
) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_update"))
    ctx = context(request, user)
    loaded = _load_row(db, user, ctx, atena_number)
    if not loaded.ok:
        return shell.render(request, user, "atena_refused.html", status=loaded.status,
                            title="住登外者の修正", message=loaded.error)  # fmt: skip
    return _form(request, user, values=_current_values(loaded.value), row=loaded.value)


@router.post("/atena/jutogai/{atena_number}/edit", response_class=HTMLResponse)
def edit_submit(
    request: Request,
    atena_number: Annotated[str, Chars(15)],
    user: UserDep,
    db: DbDep,
    form: FormDep,
) -> Response:
    """修正 with the version the screen was opened with (someone else's change meanwhile: 409)."""
    shell.uses(db, user, FUNCTIONS.entry("atena.jutogai_update"))
    ctx = context(request, user)
    values = _values(form)
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        version = 0
    values["version"] = str(version or "")
    loaded = _load_row(db, user, ctx, atena_number)
    if not loaded.ok:
        return shell.render(request, user, "atena_refused.html", status=loaded.status,
                            title="住登外者の修正", message=loaded.error)  # fmt: skip
    command = register.UpdateJutogai(
        atena_number, version, {k: v for k, v in values.items() if k != "version" and v.strip()}
    )
    outcome = run(db, user, ctx, lambda uow, ctx: register.update_jutogai(uow, ctx, command))
    if not outcome.ok:
        return _form(request, user, values=values, outcome=outcome, row=loaded.value)
    return shell.redirect(request, f"/ui/atena/jutogai/{atena_number}?done=update")
