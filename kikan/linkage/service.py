"""Linkage use cases: register clients, exchange client assertions for tokens, serve 差分.

連携区分 1 (全件) is not served by this slice: the linkage layer may not read another module's
tables, so full snapshots come from providers the composition root registers
(`register_full_provider`). 連携区分 2 (差分) is the platform outbox, filtered per client.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from kikan.linkage import domain
from kikan.linkage.store import LinkageClientRow, LinkageJtiRow, LinkageTokenRow
from kikan.platform import audit
from kikan.platform.auth import token_digest
from kikan.platform.db import utcnow
from kikan.platform.errors import InvalidInput, Unauthenticated
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database, UnitOfWork

FUNCTION = "庁内データ連携"


# ---------------------------------------------------------------- 全件 providers


class Provider(Protocol):
    """A module's published 全件 reader: every current record of one data group, as dicts."""

    def __call__(self, uow: UnitOfWork) -> Iterator[Mapping[str, Any]]: ...


_FULL_PROVIDERS: dict[str, Provider] = {}


def register_full_provider(name: str, fn: Provider) -> None:
    """Called by the composition root (kikan.app) for each data group a module publishes."""
    if name not in domain.TOPIC_SCOPES:
        raise ValueError(f"unknown data group {name!r}")
    _FULL_PROVIDERS[name] = fn


def full_provider(name: str) -> Provider | None:
    return _FULL_PROVIDERS.get(name)


# ---------------------------------------------------------------- clients


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    name: str
    scopes: list[str]


def register_client(
    uow: UnitOfWork, actor: audit.Actor, *, name: str, scopes: Iterable[str]
) -> RegisteredClient:
    try:
        checked = domain.check_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(
            f"指定できない連携範囲です（指定できるもの: {', '.join(domain.SCOPES)}）。",
            item="scopes",
        ) from exc
    if not any(s in domain.TOPIC_SCOPES for s in checked):
        raise InvalidInput("データの種類（連携範囲）を1つ以上指定してください。", item="scopes")
    client_id = uow.tenant + secrets.token_hex(13)
    secret = secrets.token_urlsafe(32)
    uow.session.add(
        LinkageClientRow(
            client_id=client_id,
            name=name,
            secret=secret,
            scopes=",".join(checked),
            active=True,
            created_by=actor.id,
        )
    )
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=f"{FUNCTION}（クライアント登録）",
            detail={"client_id": client_id, "name": name, "scopes": checked},
        ),
    )
    return RegisteredClient(client_id=client_id, client_secret=secret, name=name, scopes=checked)


def list_clients(uow: UnitOfWork) -> list[LinkageClientRow]:
    return list(uow.session.scalars(select(LinkageClientRow).order_by(LinkageClientRow.id)))


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: list[str]


def _invalid_client(message: str, reason: str) -> Unauthenticated:
    return Unauthenticated(message, slug="invalid-client", reason=reason)


def _deny(db: Database, tenant: str, client_id: str, function: str, reason: str) -> None:
    audit.append_now(
        db,
        tenant,
        audit.Actor(kind="client", id=client_id),
        audit.AuditEvent(
            category="auth",
            action="denial",
            outcome="denied",
            function=function,
            detail={"reason": reason},
        ),
    )


def issue_token(
    db: Database, *, assertion: str, audiences: Iterable[str], now: float | None = None
) -> IssuedToken:
    """Exchange a client assertion (RFC 7523 client_secret_jwt) for a 10-minute access token."""
    now = time.time() if now is None else now
    try:
        claims = domain.unverified_claims(assertion)
    except domain.AssertionRejected as exc:
        raise _invalid_client(exc.message, exc.reason) from exc
    client_id = claims.get("iss") if isinstance(claims.get("iss"), str) else ""
    tenant = domain.tenant_of_client(str(client_id))
    unknown = _invalid_client("クライアントが登録されていません。", "unknown_client")
    if tenant is None:
        raise unknown
    try:
        return _issue(db, tenant, str(client_id), assertion=assertion, audiences=audiences, now=now)
    except _Denied as denied:
        # audited in a transaction of its own, after the request's one has rolled back
        _deny(db, tenant, denied.client_id, f"{FUNCTION}（トークン発行）", denied.reason)
        raise _invalid_client(denied.message, denied.reason) from None


class _Denied(Exception):
    def __init__(self, client_id: str, reason: str, message: str) -> None:
        self.client_id = client_id
        self.reason = reason
        self.message = message
        super().__init__(message)


def _issue(
    db: Database,
    tenant: str,
    client_id: str,
    *,
    assertion: str,
    audiences: Iterable[str],
    now: float,
) -> IssuedToken:
    unknown = _invalid_client("クライアントが登録されていません。", "unknown_client")
    with db.unit_of_work(tenant) as uow:
        client = uow.session.scalars(
            select(LinkageClientRow).where(LinkageClientRow.client_id == client_id)
        ).first()
        if client is None or not client.active:
            raise unknown
        try:
            verified = domain.verify_assertion(
                assertion,
                client_id=client.client_id,
                secret=client.secret,
                audiences=audiences,
                now=now,
            )
        except domain.AssertionRejected as exc:
            raise _Denied(client.client_id, exc.reason, exc.message) from exc
        current = datetime.fromtimestamp(now, UTC)
        uow.session.execute(
            delete(LinkageJtiRow).where(
                LinkageJtiRow.client_id == client.client_id, LinkageJtiRow.expires_at < current
            )
        )
        used = uow.session.get(LinkageJtiRow, (tenant, client.client_id, verified.jti))
        replay = used is not None
        if not replay:
            uow.session.add(
                LinkageJtiRow(
                    tenant_code=tenant,
                    client_id=client.client_id,
                    jti=verified.jti,
                    expires_at=datetime.fromtimestamp(verified.exp, UTC),
                )
            )
            try:
                uow.session.flush()
            except IntegrityError:  # a concurrent request used the same jti
                replay = True
        if replay:
            raise _Denied(
                client.client_id,
                "replayed_jti",
                "このクライアントアサーション（jti）は既に使用されています。",
            )
        token = f"{tenant}.{secrets.token_urlsafe(32)}"
        uow.session.add(
            LinkageTokenRow(
                token_hash=token_digest(token),
                client_id=client.client_id,
                created_at=current,
                expires_at=current + timedelta(seconds=domain.ACCESS_TOKEN_LIFETIME),
            )
        )
        audit.append(
            uow,
            audit.Actor(kind="client", id=client.client_id),
            audit.AuditEvent(
                category="auth", action="login", function=f"{FUNCTION}（トークン発行）"
            ),
        )
        scopes = client.scopes.split(",")
        uow.commit()
    return IssuedToken(access_token=token, expires_in=domain.ACCESS_TOKEN_LIFETIME, scopes=scopes)


@dataclass(frozen=True)
class LinkageCaller:
    tenant: str
    client_id: str
    scopes: frozenset[str]

    def actor(self) -> audit.Actor:
        return audit.Actor(kind="client", id=self.client_id)


def authenticate(db: Database, token: str) -> LinkageCaller:
    invalid = Unauthenticated(
        "アクセストークンが無効か、有効期限が切れています。", slug="invalid-token"
    )
    tenant = domain.tenant_of_token(token)
    if tenant is None:
        raise invalid
    with db.unit_of_work(tenant) as uow:
        row = uow.session.get(LinkageTokenRow, token_digest(token))
        if row is None or row.expires_at <= utcnow():
            raise invalid
        client = uow.session.scalars(
            select(LinkageClientRow).where(LinkageClientRow.client_id == row.client_id)
        ).first()
        if client is None or not client.active:
            raise invalid
        return LinkageCaller(tenant, client.client_id, frozenset(client.scopes.split(",")))


# ---------------------------------------------------------------- 差分 (連携区分 2)


@dataclass(frozen=True)
class Change:
    seq: int
    topic: str
    created_at: datetime
    payload: dict[str, Any] | None  # None: withheld for this client (see domain.filter_payload)


@dataclass(frozen=True)
class ChangePage:
    changes: list[Change]
    next_cursor: int
    has_more: bool


def changes(uow: UnitOfWork, caller: LinkageCaller, *, after: int, limit: int) -> ChangePage:
    """Events of the caller's tenant with seq > `after`, oldest first, filtered per client.

    Every seq is reported (events of a topic outside the client's scopes or only about protected
    persons come without payload), so a client can tell the feed is gap-free. A cursor beyond the
    tenant's last event (another tenant's, or made up) is treated as that last event."""
    rows = list(
        uow.session.scalars(
            select(OutboxEventRow)
            .where(OutboxEventRow.seq > after)
            .order_by(OutboxEventRow.seq)
            .limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    result: list[Change] = []
    for row in rows:
        payload = (
            domain.filter_payload(row.topic, row.payload, caller.scopes)
            if row.topic in caller.scopes
            else None
        )
        result.append(Change(row.seq, row.topic, row.created_at, payload))
    if rows:
        next_cursor = rows[-1].seq
    else:
        head = uow.session.scalar(select(func.max(OutboxEventRow.seq))) or 0
        next_cursor = min(after, head)
    subjects = sorted(
        {str(a) for c in result if c.payload for a in c.payload.get("atena_numbers") or []}
    )
    audit.append(
        uow,
        caller.actor(),
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=f"{FUNCTION}（差分）",
            subjects=subjects,
            detail={
                "after": after,
                "next_cursor": next_cursor,
                "events": len(result),
                "delivered": sum(1 for c in result if c.payload is not None),
            },
        ),
    )
    return ChangePage(result, next_cursor, has_more)
