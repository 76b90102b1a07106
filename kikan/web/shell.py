"""What every page shares: templates, navigation, the signed-in user, CSRF, timings, errors.

Why a module of its own: business modules build their pages on these helpers (`page_user`,
`render`, `start_timing`/`finish_timing`) and never on each other, and
the shell itself imports no business module (import-linter contract).

Authentication is the platform's: the UI logs in with `auth.login(kind="cookie")`, keeps the
session secret in the same `kikan_session` cookie the API reads, and checks every request with
`auth.authenticate`. The session's CSRF token (stored hashed by the platform) is kept for the
browser in a second HttpOnly, SameSite=Strict cookie so that the server can write it into each
page; unsafe requests must send it back in the `csrf_token` form field or the `X-CSRF-Token`
header, which a cross-site page cannot read or forge.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kikan.calendar import RegisterDate, to_wareki
from kikan.calendar.wareki import written
from kikan.moji.items import ItemClass, unsafe_character
from kikan.platform import audit, auth
from kikan.platform.context import Context
from kikan.platform.db import HOST_SCOPE, utcnow
from kikan.platform.deps import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    client_place,
    client_terminal,
    get_keyring,
)
from kikan.platform.errors import Forbidden, InvalidInput, Unauthenticated
from kikan.platform.functions import Function, FunctionLabel
from kikan.platform.modules import NavItem
from kikan.platform.settings import Settings
from kikan.platform.uow import Database, UnitOfWork
from kikan.web.store import CounterTimingRow

JST = ZoneInfo("Asia/Tokyo")
CSRF_COOKIE = "kikan_csrf"
CSRF_FIELD = "csrf_token"
TENANT_COOKIE = "kikan_operator_tenant"
HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- templates


def jdate(value: Any) -> str:
    """Dates as the register shows them (和暦, spec 1.1.9); times in JST; ISO text accepted."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text: str = value
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        local = value.astimezone(JST)
        w = to_wareki(local.date())
        return f"{written(w.era.name, w.year, w.month, w.day)} {local:%H:%M}"
    if isinstance(value, date):
        w = to_wareki(value)
        return written(w.era.name, w.year, w.month, w.day)
    return str(value)


def _register_date(value: str) -> str:
    """A stored register date (e.g. a birth date, possibly 不詳) in its display form."""
    try:
        return RegisterDate.from_storage(value).display()
    except ValueError:
        return value


def environment(template_dirs: Iterable[Path] = ()) -> jinja2.Environment:
    """A Jinja environment over the shell's templates and the modules' directories (module
    templates extend `base.html`)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(HERE / "templates"), *map(str, template_dirs)]),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["jdate"] = jdate
    env.filters["regdate"] = _register_date
    env.filters["urlquote"] = lambda s: quote(str(s), safe="")
    return env


# ---------------------------------------------------------------- navigation


@dataclass(frozen=True)
class Ui:
    """The pages' shared configuration, built once per application by the composition root
    from the module registry (`kikan.web.install`): no module registers itself on import."""

    nav: tuple[NavItem, ...]
    env: jinja2.Environment


def build_ui(nav: Iterable[NavItem] = (), template_dirs: Iterable[Path] = ()) -> Ui:
    """Navigation in (order, href) order, one entry per href (the first declared wins)."""
    unique: dict[str, NavItem] = {}
    for item in nav:
        unique.setdefault(item.href, item)
    ordered = sorted(unique.values(), key=lambda n: (n.order, n.href))
    return Ui(tuple(ordered), environment(template_dirs))


_shell_only: list[Ui] = []


def ui_of(request: Request) -> Ui:
    """The application's UI; an application without `kikan.web.install` gets the shell alone."""
    ui = getattr(request.app.state, "ui", None)
    if isinstance(ui, Ui):
        return ui
    if not _shell_only:
        _shell_only.append(build_ui())
    return _shell_only[0]


def nav_for(nav: Iterable[NavItem], principal: auth.Principal) -> list[NavItem]:
    out = []
    for item in nav:
        if principal.kind == "operator":
            if "operator" in item.roles:
                out.append(item)
        elif "operator" not in item.roles and (not item.roles or principal.has_role(*item.roles)):
            out.append(item)
    return out


# ---------------------------------------------------------------- the signed-in user


class LoginRequired(Exception):
    """The page needs a session: answered with a redirect to the login page."""

    def __init__(self, next_url: str, message: str = "") -> None:
        super().__init__(message)
        self.next_url = next_url
        self.message = message


class PageForbidden(Exception):
    """The signed-in user may not see this page: answered with a Japanese 403 page."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PageUser:
    principal: auth.Principal
    csrf_token: str
    #: for host operators, the tenant they switched to (団体切替); for staff, their own tenant
    tenant: str | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def scope(self) -> str:
        return self.principal.scope

    def actor(self) -> audit.Actor:
        return self.principal.actor()


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


#: Longest value one form field may carry (the longest item, free text, is 2,000 characters).
MAX_FORM_VALUE = 10_000


async def form_data(request: Request) -> FormData:
    """The posted form (Starlette caches it on the request, so reading it twice is free).

    Every screen's input passes here, so the input model's floor applies to all of them at once
    (ADR 0010): no control or format characters, no lone surrogates, no unbounded value. The
    items' own classes (names, addresses) are checked again by the value objects they fill."""
    if request.method in SAFE_METHODS:
        return FormData()
    form = await request.form()
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue  # an uploaded file: its reader checks it
        if len(value) > MAX_FORM_VALUE or len(key) > 100:
            raise InvalidInput("入力欄の文字数が多すぎます。", item="フォーム")
        bad = unsafe_character(key, ItemClass.LINE) or unsafe_character(value, ItemClass.TEXT)
        if bad is not None:
            raise InvalidInput(f"入力欄に{bad.message}", item="フォーム")
    return form


FormDep = Annotated[FormData, Depends(form_data)]


def _next_url(request: Request) -> str:
    path = request.url.path
    if request.method not in SAFE_METHODS:
        return "/"
    return path + (f"?{request.url.query}" if request.url.query else "")


async def page_user(request: Request, form: FormDep) -> PageUser:
    """The signed-in principal of a page request, or LoginRequired (→ login page)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired(_next_url(request))
    csrf = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "") or None
    db, settings = get_db(request), get_settings(request)
    try:
        principal = await run_in_threadpool(
            auth.authenticate,
            db,
            settings,
            token=token,
            kind="cookie",
            csrf_token=sent,
            require_csrf=request.method not in SAFE_METHODS,
            terminal=client_terminal(request),
            place=client_place(request),
        )
    except Unauthenticated as exc:
        raise LoginRequired(_next_url(request), exc.detail) from exc
    except Forbidden as exc:
        raise PageForbidden(exc.detail) from exc
    tenant = principal.tenant
    if principal.kind == "operator":
        chosen = request.cookies.get(TENANT_COOKIE, "")
        tenant = chosen if len(chosen) == 6 and chosen.isdigit() else None
    return PageUser(principal, csrf, tenant)


UserDep = Annotated[PageUser, Depends(page_user)]
DbDep = Annotated[Database, Depends(get_db)]


def require(db: Database, user: PageUser, *roles: str, function: FunctionLabel) -> None:
    """The platform's role check (denials audited), shown as a Japanese 403 page."""
    if user.principal.kind != "staff":
        raise PageForbidden("この画面は団体の職員のみが利用できます。")
    try:
        auth.require_roles(db, user.principal, *roles, function=function)
    except Forbidden as exc:
        raise PageForbidden(exc.detail) from exc


def uses(db: Database, user: PageUser, function: Function) -> Function:
    """A screen's operation: the catalogue function's roles (data, ADR 0014) checked as
    `require` does; returns the function for the use case's audit label."""
    require(db, user, *function.roles, function=function)
    return function


def require_operator(user: PageUser) -> None:
    if user.principal.kind != "operator":
        raise PageForbidden("この画面はホスト運用者のみが利用できます。")


# ---------------------------------------------------------------- rendering


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    user: PageUser | None,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page (or, for htmx requests of a fragment template, just the fragment)."""
    principal = user.principal if user else None
    ui = ui_of(request)
    ctx = {
        "request": request,
        "user": user,
        "principal": principal,
        "nav": nav_for(ui.nav, principal) if principal else [],
        "csrf_token": user.csrf_token if user else "",
        "csrf_field": CSRF_FIELD,
        "role_labels": [auth.role_label(r) for r in sorted(principal.roles)] if principal else [],
        "path": request.url.path,
        "htmx": is_htmx(request),
        "now": datetime.now(UTC),
        **context,
    }
    html = ui.env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def page_context(request: Request, user: PageUser) -> Context:
    """The use-case context of a page request: the user's actor, the tenant they work in (a
    host operator's switched tenant) and the application's key ring. Every module's pages use
    this one, so a page and the API hand the same context to a use case."""
    return Context(actor=user.actor(), keyring=get_keyring(request), tenant=user.tenant)


def redirect(request: Request, url: str) -> Response:
    """A 303 redirect, or for htmx an `HX-Redirect` (a plain redirect would swap the target)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------- counter timings (BPR)


def start_timing(db: Database, user: PageUser, kind: str, terminal: str = "") -> int:
    """Open a counter transaction when its entry screen opens; returns the id the form carries.

    Its own short transaction: the screen may be abandoned, which is itself worth counting."""
    with db.unit_of_work(user.scope) as uow:
        row = CounterTimingRow(
            kind=kind[:40], staff=user.principal.login_id, terminal=terminal[:200]
        )
        uow.session.add(row)
        uow.session.flush()
        uow.commit()
        return row.id


def finish_timing(uow: UnitOfWork, timing_id: str | int | None) -> int | None:
    """Complete the transaction in the caller's unit of work (with the 異動 it records).

    Returns the duration in milliseconds, or None when the id is unknown (then nothing is
    recorded: a transaction is timed once, from the screen that opened it)."""
    try:
        key = int(str(timing_id or ""))
    except ValueError:
        return None
    row = uow.session.get(CounterTimingRow, key)
    if row is None or row.completed_at is not None:
        return None
    now = utcnow()
    row.completed_at = now
    row.duration_ms = max(0, int((now - row.started_at).total_seconds() * 1000))
    return row.duration_ms


def roles_text(roles: Iterable[str]) -> str:
    return "・".join(auth.role_label(r) for r in roles)


__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "HOST_SCOPE",
    "JST",
    "TENANT_COOKIE",
    "Database",
    "DbDep",
    "FormDep",
    "LoginRequired",
    "NavItem",
    "PageForbidden",
    "PageUser",
    "Ui",
    "UserDep",
    "build_ui",
    "environment",
    "finish_timing",
    "form_data",
    "get_db",
    "get_settings",
    "is_htmx",
    "jdate",
    "nav_for",
    "redirect",
    "render",
    "require",
    "require_operator",
    "roles_text",
    "run_in_threadpool",
    "start_timing",
    "ui_of",
]
