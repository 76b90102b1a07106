"""Shared request dependencies: database, settings, caller, counter terminal and the operation.

Every module's endpoints (platform, residents, seal, linkage, the web UI) receive tenant, caller and
database as typed dependencies (`DbDep`, `PrincipalDep`, `StaffDep`, `OperatorDep`), never as
globals; a use case's `Context` is built from the caller by `context_for` (`StaffContextDep`).
They live apart from the platform's own endpoints (kikan.platform.api) so that a business module
depends on how a request is authenticated, not on the platform's routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from kikan.platform import auth
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.errors import Forbidden, Unauthenticated
from kikan.platform.functions import Catalogue, Function, platform_table
from kikan.platform.settings import Settings
from kikan.platform.types import Chars, ItemClass
from kikan.platform.uow import Database

#: Bearer tokens and session cookies are ASCII and short; the bound keeps the header honest.
AuthorizationHeader = Annotated[
    str | None, Chars(8192, ItemClass.SECRET), Header(description="Bearer トークン")
]
SESSION_COOKIE = "kikan_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def client_terminal(request: Request) -> str:
    """端末名: the header a counter PC sends, else the peer address."""
    named = request.headers.get("X-Kikan-Terminal", "").strip()
    host = request.client.host if request.client else "-"
    return (named or host)[:200]


def client_address(request: Request) -> str:
    """The peer's network address, for throttling: unlike the terminal name, not something the
    caller chooses (behind a reverse proxy, run uvicorn with --forwarded-allow-ips)."""
    return request.client.host[:100] if request.client else ""


def client_place(request: Request) -> str:
    """処理・交付場所 (e.g. 本庁舎1階 市民課窓口) from the counter PC's header."""
    return request.headers.get("X-Kikan-Place", "").strip()[:100]


def get_principal(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    authorization: AuthorizationHeader = None,
) -> auth.Principal:
    terminal, place = client_terminal(request), client_place(request)
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization ヘッダーは Bearer 形式で指定してください。")
        return auth.authenticate(
            db, settings, token=token.strip(), kind="bearer", terminal=terminal, place=place
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return auth.authenticate(
            db,
            settings,
            token=cookie,
            kind="cookie",
            csrf_token=request.headers.get(CSRF_HEADER),
            require_csrf=request.method not in SAFE_METHODS,
            terminal=terminal,
            place=place,
        )
    raise Unauthenticated("ログインしてください。")


PrincipalDep = Annotated[auth.Principal, Depends(get_principal)]


def get_staff(principal: PrincipalDep) -> auth.Principal:
    if principal.kind != "staff":
        raise Forbidden("この操作は団体の職員のみが行えます。", slug="staff-only")
    return principal


def get_operator(principal: PrincipalDep, db: DbDep) -> auth.Principal:
    if principal.kind != "operator":
        auth.require_roles(
            db, principal, "operator", function=platform_table().entry("platform.host")
        )
    return principal


StaffDep = Annotated[auth.Principal, Depends(get_staff)]
OperatorDep = Annotated[auth.Principal, Depends(get_operator)]


# ---------------------------------------------------------------- operations (ADR 0014)

#: attribute naming the catalogue key on a dependency made by `uses` (the route walk of
#: tests/platform/test_functions_catalogue.py and the start-up check read it)
FUNCTION_KEY = "kikan_function_key"
FUNCTION_PRINCIPAL = "kikan_function_principal"


def catalogue_of(request: Request) -> Catalogue:
    """The application's 機能ID catalogue, built once by the composition root at start."""
    found = getattr(request.app.state, "functions", None)
    if not isinstance(found, Catalogue):
        raise RuntimeError("the application has no function catalogue (app.state.functions)")
    return found


def _mark(check: Callable[..., Function], key: str, principal: str) -> Any:
    setattr(check, FUNCTION_KEY, key)
    setattr(check, FUNCTION_PRINCIPAL, principal)
    return Depends(check)


def uses(key: str) -> Any:
    """The operation a staff route performs, declared once on the route:
    `op: Annotated[Function, uses("residents.move_in")]`.

    Resolves the catalogue entry, checks the staff member's roles against the roles the
    catalogue gives the function (a denial is audited and answered with the same 403 problem as
    before) and hands the endpoint the entry, whose label the use case's audit carries."""

    def check(request: Request, staff: StaffDep, db: DbDep) -> Function:
        function = catalogue_of(request).entry(key)
        auth.require_function(db, staff, function)
        return function

    return _mark(check, key, "staff")


def operator_uses(key: str) -> Any:
    """`uses` for the host operator's routes: the caller must be a host operator."""

    def check(request: Request, operator: OperatorDep) -> Function:
        return catalogue_of(request).entry(key)

    return _mark(check, key, "operator")


def client_uses(key: str) -> Any:
    """`uses` for routes a linkage client calls: its token (checked by the route's own
    dependency) is the credential, so only the entry is resolved."""

    def check(request: Request) -> Function:
        return catalogue_of(request).entry(key)

    return _mark(check, key, "client")


@dataclass(frozen=True)
class RouteOperation:
    """A route and the catalogue function it declares (None: it declares none)."""

    methods: tuple[str, ...]
    path: str
    key: str | None
    principal: str | None


def _declared(dependant: Dependant) -> tuple[str, str] | None:
    for sub in dependant.dependencies:
        key = getattr(sub.call, FUNCTION_KEY, None)
        if isinstance(key, str):
            return key, str(getattr(sub.call, FUNCTION_PRINCIPAL, ""))
        found = _declared(sub)
        if found:
            return found
    return None


def route_operations(app: FastAPI) -> list[RouteOperation]:
    """Every HTTP route of the application with the function it declares (the 機能ID map).

    Included routers are walked through FastAPI's route contexts (FastAPI ≥ 0.165 keeps an
    included router as one entry of `app.routes`), so the path is the one served."""
    out: list[RouteOperation] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found = _declared(route.dependant)
            out.append(
                RouteOperation(
                    tuple(sorted(context.methods or ())),
                    str(context.path),
                    found[0] if found else None,
                    found[1] if found else None,
                )
            )
    return out


def check_operations(app: FastAPI, catalogue: Catalogue) -> None:
    """At start: every declared key exists and is declared for the principal the catalogue
    names, so a typo fails the first test that builds the application, not a counter clerk."""
    for op in route_operations(app):
        if op.key is None:
            continue
        function = catalogue.entry(op.key)
        if function.principal != op.principal:
            raise ValueError(
                f"{op.path}: {op.key} is a {function.principal} function,"
                f" declared for {op.principal}"
            )


def get_keyring(request: Request) -> KeyRing | None:
    """The application's My Number key ring (None when none is configured): the one place a
    request finds it (contexts of staff, pages and linkage clients, the linkage feed)."""
    keyring: KeyRing | None = getattr(request.app.state, "keyring", None)
    return keyring


KeyRingDep = Annotated[KeyRing | None, Depends(get_keyring)]


def context_for(request: Request, principal: auth.Principal) -> Context:
    """The use-case context of an authenticated caller: its actor and scope, the application's
    key ring (None when none is configured) and the current moment."""
    return Context(actor=principal.actor(), keyring=get_keyring(request), tenant=principal.tenant)


def get_staff_context(request: Request, staff: StaffDep) -> Context:
    return context_for(request, staff)


StaffContextDep = Annotated[Context, Depends(get_staff_context)]
