"""Shared request dependencies: database, settings, caller and counter terminal.

Every module's endpoints (platform, residents, seal, linkage, the web UI) receive tenant, caller and
database as typed dependencies (`DbDep`, `PrincipalDep`, `StaffDep`, `OperatorDep`), never as
globals; a use case's `Context` is built from the caller by `context_for` (`StaffContextDep`).
They live apart from the platform's own endpoints (kikan.platform.api) so that a business module
depends on how a request is authenticated, not on the platform's routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from kikan.platform import auth
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.errors import Forbidden, Unauthenticated
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
        auth.require_roles(db, principal, "operator", function="ホスト運用")
    return principal


StaffDep = Annotated[auth.Principal, Depends(get_staff)]
OperatorDep = Annotated[auth.Principal, Depends(get_operator)]


def context_for(request: Request, principal: auth.Principal) -> Context:
    """The use-case context of an authenticated caller: its actor and scope, the application's
    key ring (None when none is configured) and the current moment."""
    keyring: KeyRing | None = getattr(request.app.state, "keyring", None)
    return Context(actor=principal.actor(), keyring=keyring, tenant=principal.tenant)


def get_staff_context(request: Request, staff: StaffDep) -> Context:
    return context_for(request, staff)


StaffContextDep = Annotated[Context, Depends(get_staff_context)]
