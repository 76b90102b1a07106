"""The provider kit: a business module's own API called by 庁内データ連携 clients.

Some modules publish more than the linkage layer's 全件/差分 (団体内統合宛名 answers 名寄せ
queries, for instance). Their routes authenticate the same registered clients with the same
access tokens (`POST /api/v1/linkage/token`, client_secret_jwt) instead of inventing a second
credential: a route takes `ClientCallerDep` and checks the scope it needs with `require_scope`.
Scopes of a module are declared on its descriptor (`linkage_scopes`, registered by the
composition root), so client registration accepts them and listings show their labels.

Published like the consumer kit: a business module may import this module (import-linter), and
the linkage layer's own pull API uses the same dependency, so there is one bearer check.
What the routes then read is the module's own business; audit with `caller.actor()` (kind
"client") and declare the route's function with `client_uses` (ADR 0014).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kikan.linkage import service
from kikan.linkage.service import ClientCaller
from kikan.platform.context import Context
from kikan.platform.deps import AuthorizationHeader, DbDep, get_keyring
from kikan.platform.errors import Forbidden, Unauthenticated


def client_caller(db: DbDep, authorization: AuthorizationHeader = None) -> ClientCaller:
    """The linkage client behind `Authorization: Bearer <access token>`. A missing, malformed,
    unknown or expired token, or one of a disabled client, is a 401 problem (with
    `WWW-Authenticate: Bearer`, as every 401 of the platform)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("アクセストークンを Bearer 形式で指定してください。")
    return service.authenticate(db, value.strip())


ClientCallerDep = Annotated[ClientCaller, Depends(client_caller)]


def client_context(request: Request, caller: ClientCaller) -> Context:
    """The use-case context of a linkage client (its actor and tenant, the application's key
    ring), the counterpart of `kikan.platform.deps.context_for` for staff."""
    return Context(actor=caller.actor(), keyring=get_keyring(request), tenant=caller.tenant)


def require_scope(caller: ClientCaller, scope: str) -> None:
    """Refuse a client without `scope` (403 problem naming the scope and its label). The check
    is the route's, not the token's: a client's scopes are read at each request, so a scope
    taken away by re-registration applies at once."""
    if not caller.has(scope):
        raise Forbidden(
            f"この連携クライアントには「{service.scope_label(scope)}」（{scope}）の連携範囲が"
            "ありません。システム管理者に連携範囲の追加を依頼してください。",
            slug="scope-missing",
        )


__all__ = ["ClientCaller", "ClientCallerDep", "client_caller", "require_scope"]
