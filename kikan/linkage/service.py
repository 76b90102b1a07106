"""Linkage use cases: clients and their lifecycle, client assertions → tokens, 全件 and 差分.

The linkage layer may not read another module's tables, so records (全件 pages and the current
rows attached to 差分) come from readers the composition root registers
(`register_full_provider`). 連携区分 2 (差分) is the platform outbox, filtered per client; the
支援措置 rule is applied here, to payloads and records alike.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from kikan.errors import ConflictError, InvalidError, NotFoundError
from kikan.linkage import domain
from kikan.linkage.module import FUNCTIONS
from kikan.linkage.store import SCOPES_WIDTH, LinkageClientRow, LinkageJtiRow, LinkageTokenRow
from kikan.platform import audit
from kikan.platform.auth import token_digest
from kikan.platform.context import Context
from kikan.platform.crypto import CryptoError, KeyRing, redact_my_numbers
from kikan.platform.db import utcnow
from kikan.platform.errors import (
    Forbidden,
    KikanError,
    Unauthenticated,
)
from kikan.platform.functions import Function
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database, UnitOfWork

# ---------------------------------------------------------------- providers (全件 and records)

#: One published record and whether 支援措置 protects its person right now.
RecordRow = tuple[Mapping[str, str], bool]


class PageProvider(Protocol):
    """A module's 全件 reader: up to `limit` records with key > `after`, in key order."""

    def __call__(self, uow: UnitOfWork, *, after: str, limit: int) -> Sequence[RecordRow]: ...


class AsOfPageProvider(Protocol):
    """A module's 全件 reader as of a valid date: each person's entry in force on `valid_on`
    (as the register knows it now), keyset-paged like `PageProvider`."""

    def __call__(
        self, uow: UnitOfWork, *, after: str, limit: int, valid_on: date
    ) -> Sequence[RecordRow]: ...


class RecordProvider(Protocol):
    """A module's per-person reader: the current records of these keys (unknown ones left out)."""

    def __call__(self, uow: UnitOfWork, keys: Sequence[str], /) -> Sequence[RecordRow]: ...


class MyNumberProvider(Protocol):
    """A module's 個人番号 reader: the current 個人番号 (12 digits) of these keys, decrypted
    with `keyring` (context = the unit of work's tenant); keys without one are left out.

    Called only for clients holding `my_number`, and only with the keys actually delivered, so
    nothing is decrypted that does not leave. Records themselves never carry the number (their
    `my_number` item is empty): it is filled in here, after the 支援措置 filter."""

    def __call__(
        self, uow: UnitOfWork, keyring: KeyRing, keys: Sequence[str], /
    ) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class DataGroup:
    """What the composition root registered for one topic."""

    topic: str
    resource: str  # the path segment of GET /full/{resource}
    key: str  # the record item that is the keyset key and the event's subject (宛名番号)
    page: PageProvider
    records: RecordProvider
    page_as_of: AsOfPageProvider | None = None
    my_numbers: MyNumberProvider | None = None


_PROVIDERS: dict[str, DataGroup] = {}


def register_full_provider(
    name: str,
    fn: PageProvider,
    *,
    records: RecordProvider,
    resource: str,
    key: str = "atena_number",
    as_of: AsOfPageProvider | None = None,
    my_numbers: MyNumberProvider | None = None,
) -> None:
    """Called by the composition root (kikan.app) for each data group a module publishes:
    `fn` serves 全件 pages, `records` the rows attached to 差分 events of topic `name` (and
    the per-person fetch), `as_of` 全件 pages as of a valid date (optional), `my_numbers` the
    個人番号 of delivered persons for `my_number` clients (optional: without it such clients
    get the item empty, as everyone else)."""
    if name not in domain.TOPIC_SCOPES:
        raise ValueError(f"unknown data group {name!r}")
    _PROVIDERS[name] = DataGroup(name, resource, key, fn, records, as_of, my_numbers)


def full_provider(name: str) -> DataGroup | None:
    return _PROVIDERS.get(name)


def group_for_resource(resource: str) -> DataGroup | None:
    return next((g for g in _PROVIDERS.values() if g.resource == resource), None)


# ---------------------------------------------------------------- scopes declared by modules

#: scope → Japanese label, from the modules' descriptors (`linkage_scopes`): entitlements a
#: module checks on its own provider API (`kikan.linkage.provider.require_scope`). The linkage
#: layer knows them only as names a client may be given; it names no module.
_MODULE_SCOPES: dict[str, str] = {}


def register_scopes(scopes: Mapping[str, str]) -> None:
    """Called by the composition root for each module declaring scopes. Idempotent (the
    application is built more than once per process in tests); a name that is not a valid
    scope, one of the linkage layer's own, or already declared with another label is refused."""
    for scope, label in scopes.items():
        if not domain.MODULE_SCOPE_RE.match(scope):
            raise ValueError(f"{scope!r} is not a scope name ({domain.MODULE_SCOPE_RE.pattern})")
        if scope in domain.SCOPES:
            raise ValueError(f"{scope!r} is a scope of the linkage layer itself")
        if not label.strip():
            raise ValueError(f"scope {scope!r} has no label")
        known = _MODULE_SCOPES.get(scope)
        if known is not None and known != label:
            raise ValueError(f"scope {scope!r} declared twice ({known!r}, {label!r})")
    _MODULE_SCOPES.update(scopes)


def known_scopes() -> dict[str, str]:
    """Every scope a client may be given, with its Japanese label: the linkage layer's own
    (data groups, `support_measure`, `my_number`), then those the modules declared."""
    return {**domain.SCOPES, **_MODULE_SCOPES}


def scope_label(scope: str) -> str:
    """The label of a scope; a stored scope no longer declared (a module removed) shows as is."""
    return known_scopes().get(scope, scope)


# ---------------------------------------------------------------- clients


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    name: str
    scopes: list[str]


def new_client_id(tenant: str) -> str:
    """団体コード + 26 random hex digits, never one the audit log would redact: the tenant code
    followed by six random decimal digits can form a 12-digit run with a valid My Number check
    digit, which `audit` masks (it must never store a My Number), and the client's own log
    entries would then no longer name it. Such a draw (about 1 in 450) is simply drawn again."""
    while True:
        client_id = tenant + secrets.token_hex(13)
        if redact_my_numbers(client_id) == client_id:
            return client_id


# ---------------------------------------------------------------- administration (ADR 0013)


@dataclass(frozen=True)
class RegisterClient:
    """Register a consumer system (連携クライアント) with its 連携範囲."""

    name: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ClientRef:
    """One registered client: 共有鍵の更新, 利用停止."""

    client_id: str


@dataclass(frozen=True)
class ListClients:
    """Every client of the tenant (no parameters)."""


@dataclass(frozen=True)
class PurgeExpired:
    """Forget what expired before `ctx.now` (no parameters)."""


def register_client(uow: UnitOfWork, ctx: Context, command: RegisterClient) -> RegisteredClient:
    actor, name = ctx.actor, command.name
    known = known_scopes()
    try:
        checked = domain.check_scopes(command.scopes, known)
    except ValueError as exc:
        raise InvalidError(
            "linkage.unknown_scope",
            f"指定できない連携範囲です（指定できるもの: {', '.join(known)}）。",
            "scopes",
        ) from exc
    if len(",".join(checked)) > SCOPES_WIDTH:
        raise InvalidError("linkage.too_many_scopes", "連携範囲の指定が長すぎます。", "scopes")
    # a data topic, or a module's own API such as 宛名管理's 付番, is needed
    if all(s in domain.MODIFIER_SCOPES for s in checked):
        raise InvalidError(
            "linkage.no_topic_scope",
            "データの種類か業務の API の連携範囲を1つ以上指定してください。",
            "scopes",
        )
    client_id = new_client_id(uow.tenant)
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
            function=FUNCTIONS.entry("linkage.audit.client_create"),
            detail={"client_id": client_id, "name": name, "scopes": checked},
        ),
    )
    return RegisteredClient(client_id=client_id, client_secret=secret, name=name, scopes=checked)


def list_clients(uow: UnitOfWork, ctx: Context, query: ListClients) -> list[LinkageClientRow]:
    return list(uow.session.scalars(select(LinkageClientRow).order_by(LinkageClientRow.id)))


def _client(uow: UnitOfWork, client_id: str) -> LinkageClientRow:
    row = uow.session.scalars(
        select(LinkageClientRow).where(LinkageClientRow.client_id == client_id)
    ).first()
    if row is None:
        raise NotFoundError(
            "not-found", "指定された連携クライアントは登録されていません。", "client_id"
        )
    return row


def _revoke_tokens(uow: UnitOfWork, client_id: str) -> int:
    result = uow.session.execute(
        delete(LinkageTokenRow).where(LinkageTokenRow.client_id == client_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def rotate_secret(uow: UnitOfWork, ctx: Context, command: ClientRef) -> RegisteredClient:
    """Issue a new secret: assertions signed with the old one fail from now on, and access
    tokens already issued are revoked (a leaked secret may have minted them)."""
    actor, client_id = ctx.actor, command.client_id
    row = _client(uow, client_id)
    if not row.active:
        raise ConflictError("conflict", "利用停止中の連携クライアントの共有鍵は更新できません。")
    row.secret = secrets.token_urlsafe(32)
    revoked = _revoke_tokens(uow, client_id)
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("linkage.audit.client_rotate"),
            detail={"client_id": client_id, "revoked_tokens": revoked},
        ),
    )
    return RegisteredClient(row.client_id, row.secret, row.name, row.scopes.split(","))


def disable_client(uow: UnitOfWork, ctx: Context, command: ClientRef) -> LinkageClientRow:
    """Stop a client: no new tokens, and its issued tokens stop working at once."""
    actor, client_id = ctx.actor, command.client_id
    row = _client(uow, client_id)
    row.active = False
    revoked = _revoke_tokens(uow, client_id)
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("linkage.audit.client_disable"),
            detail={"client_id": client_id, "revoked_tokens": revoked},
        ),
    )
    return row


@dataclass(frozen=True)
class Purged:
    jti: int
    tokens: int


def purge_expired(uow: UnitOfWork, ctx: Context, command: PurgeExpired) -> Purged:
    """Forget used assertion ids and access tokens whose lifetime is over (both are useless
    afterwards: an expired assertion or token is refused on its `exp` alone)."""
    current = ctx.now
    jti = uow.session.execute(delete(LinkageJtiRow).where(LinkageJtiRow.expires_at < current))
    tokens = uow.session.execute(
        delete(LinkageTokenRow).where(LinkageTokenRow.expires_at < current)
    )
    return Purged(int(getattr(jti, "rowcount", 0) or 0), int(getattr(tokens, "rowcount", 0) or 0))


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: list[str]


def _invalid_client(message: str, reason: str) -> Unauthenticated:
    return Unauthenticated(message, slug="invalid-client", reason=reason)


def _deny(db: Database, tenant: str, client_id: str, function: Function, reason: str) -> None:
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
        _deny(db, tenant, denied.client_id, FUNCTIONS.entry("linkage.token"), denied.reason)
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
            try:  # the jti key is checked now: a jti used by a concurrent request is a replay
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
                category="auth", action="login", function=FUNCTIONS.entry("linkage.token")
            ),
        )
        scopes = client.scopes.split(",")
        uow.commit()
    return IssuedToken(access_token=token, expires_in=domain.ACCESS_TOKEN_LIFETIME, scopes=scopes)


@dataclass(frozen=True)
class ClientCaller:
    """A linkage client authenticated by its access token: its 団体, id and scopes (as
    registered now: a client's scopes are read at each request, not frozen into the token)."""

    tenant: str
    client_id: str
    scopes: frozenset[str]

    def actor(self) -> audit.Actor:
        return audit.Actor(kind="client", id=self.client_id)

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def authenticate(db: Database, token: str) -> ClientCaller:
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
        return ClientCaller(tenant, client.client_id, frozenset(client.scopes.split(",")))


# ---------------------------------------------------------------- 差分 (連携区分 2)


@dataclass(frozen=True)
class Change:
    seq: int
    topic: str
    created_at: datetime
    payload: dict[str, Any] | None  # None: withheld for this client (see domain.filter_payload)
    records: list[dict[str, str]]  # current rows of the delivered subjects, as at pull time


@dataclass(frozen=True)
class ChangePage:
    changes: list[Change]
    next_cursor: int
    has_more: bool


def _visible_records(
    uow: UnitOfWork, caller: ClientCaller, group: DataGroup, keys: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Current records of `keys` the caller may see: a person under 支援措置 *now* reaches only
    `support_measure` clients, whatever the event said when it was written (so a newly protected
    person's new address never leaves through an older event). Entitled clients get each record
    with its current 支援措置 flag (`domain.deliverable`)."""
    visible: dict[str, dict[str, str]] = {}
    for rec, protected in group.records(uow, keys):
        delivered = domain.deliverable(rec, protected, caller.scopes)
        if delivered is not None:
            visible[str(rec[group.key])] = delivered
    return visible


def _protected_count(records: Iterable[Mapping[str, str]]) -> int:
    """How many delivered records are of protected persons (only entitled clients get any)."""
    return sum(1 for r in records if r.get(domain.SUPPORT_MEASURE_ITEM) == "1")


# ---------------------------------------------------------------- 個人番号 (`my_number` scope)


def _wants_my_numbers(caller: ClientCaller, group: DataGroup) -> bool:
    return caller.has(domain.MY_NUMBER_SCOPE) and group.my_numbers is not None


def _require_keyring(
    caller: ClientCaller, groups: Iterable[DataGroup], keyring: KeyRing | None
) -> None:
    """A `my_number` client is refused outright when no key is configured: a delivery with the
    item silently empty would look like persons without a 個人番号 (and a 名寄せ would act on
    it). Checked before anything is read, so every answer to such a client is the same."""
    if keyring is None and any(_wants_my_numbers(caller, g) for g in groups):
        raise ConflictError(
            "keyring-missing",
            "個人番号の暗号鍵が設定されていないため、個人番号を含めて連携できません"
            "（連携範囲 my_number）。システム管理者に暗号鍵の設定を依頼してください。",
        )


def _fill_my_numbers(
    uow: UnitOfWork,
    caller: ClientCaller,
    group: DataGroup,
    keyring: KeyRing | None,
    records: Sequence[dict[str, str]],
) -> int:
    """Set the 個人番号 item of records about to be delivered; returns how many carry one (the
    delivery's audit record marks My Number access when any does).

    A client without `my_number` gets the item empty whatever a provider put there; a client
    with it gets each person's current 個人番号, decrypted by the group's provider for exactly
    the persons delivered (after the 支援措置 filter). The numbers are never logged or put in an
    audit detail; only their count is."""
    if not caller.has(domain.MY_NUMBER_SCOPE) or group.my_numbers is None or keyring is None:
        for rec in records:
            if rec.get(domain.MY_NUMBER_ITEM):
                rec[domain.MY_NUMBER_ITEM] = ""
        return 0
    if not records:
        return 0
    try:
        numbers = group.my_numbers(uow, keyring, [rec[group.key] for rec in records])
    except CryptoError as exc:  # a token under a key the ring no longer holds, or altered
        raise ConflictError(
            "my-number-undecryptable",
            "個人番号を復号できないため連携できません。暗号鍵の設定（鍵の更新前の鍵が"
            "残っているか）を確認してください。",
        ) from exc
    for rec in records:
        rec[domain.MY_NUMBER_ITEM] = numbers.get(rec[group.key], "")
    return sum(1 for rec in records if rec[domain.MY_NUMBER_ITEM])


def _my_number_detail(count: int) -> dict[str, int]:
    """The audit detail of a delivery with 個人番号: how many, never which."""
    return {"my_numbers": count} if count else {}


class CursorOutOfRange(KikanError):
    """A 差分 cursor that is not a position of this tenant's feed: beyond its last event
    (another tenant's cursor, a made-up one, a database restored to an earlier state) or before
    its oldest kept event (a purged range). Answering with the events after it would silently
    skip changes, so the consumer is told to load 全件 again instead."""

    status = 410
    slug = "cursor-out-of-range"
    title = "差分の位置が正しくありません。"


def _check_position(uow: UnitOfWork, after: int, first: int | None) -> None:
    """`after` must be 0, an event of the feed, or its head; events are gap-free per tenant,
    so the first event after a valid position is `after + 1` (no extra query when it is)."""
    if first is not None:
        if first > after + 1:
            raise CursorOutOfRange(
                f"差分の位置 {after} の次の事象は保存期間を過ぎて削除されています"
                f"（保存されている最古の事象は {first}）。全件から取り直してください。",
                item="after",
                oldest=first,
            )
        return
    head = uow.session.scalar(select(func.max(OutboxEventRow.seq))) or 0
    if after > head:
        raise CursorOutOfRange(
            f"差分の位置 {after} はこの団体の差分にありません（最新の事象は {head}）。"
            "別の団体のカーソルか、データベースが以前の状態に戻された可能性があります。"
            "全件から取り直してください。",
            item="after",
            head=head,
        )


def changes(
    uow: UnitOfWork,
    caller: ClientCaller,
    *,
    after: int,
    limit: int,
    keyring: KeyRing | None = None,
) -> ChangePage:
    """Events of the caller's tenant with seq > `after`, oldest first, filtered per client.

    Every seq is reported (events of a topic outside the client's scopes or only about protected
    persons come without payload), so a client can tell the feed is gap-free. A cursor beyond the
    tenant's last event (another tenant's, or made up) or before its oldest kept event is refused
    (`CursorOutOfRange`): the consumer must load 全件 again. Delivered events carry the current
    records of their subjects (read once per page), with 個人番号 for `my_number` clients
    (`keyring` decrypts them; without one such a client is refused)."""
    _require_keyring(caller, (g for g in _PROVIDERS.values() if g.topic in caller.scopes), keyring)
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
    _check_position(uow, after, rows[0].seq if rows else None)
    filtered: list[tuple[OutboxEventRow, dict[str, Any] | None]] = [
        (
            row,
            domain.filter_payload(row.topic, row.payload, caller.scopes)
            if row.topic in caller.scopes
            else None,
        )
        for row in rows
    ]
    visible: dict[str, dict[str, dict[str, str]]] = {}
    my_numbers = 0
    for topic in {row.topic for row, payload in filtered if payload is not None}:
        group = _PROVIDERS.get(topic)
        if group is None:
            continue
        keys = {
            str(a)
            for row, payload in filtered
            if payload is not None and row.topic == topic
            for a in payload.get("atena_numbers") or []
        }
        visible[topic] = _visible_records(uow, caller, group, sorted(keys))
        my_numbers += _fill_my_numbers(uow, caller, group, keyring, list(visible[topic].values()))
    result: list[Change] = []
    for row, payload in filtered:
        found = visible.get(row.topic, {})
        records = (
            [found[str(a)] for a in payload.get("atena_numbers") or [] if str(a) in found]
            if payload is not None
            else []
        )
        result.append(Change(row.seq, row.topic, row.created_at, payload, records))
    next_cursor = rows[-1].seq if rows else after
    subjects = sorted(
        {str(a) for c in result if c.payload for a in c.payload.get("atena_numbers") or []}
    )
    audit.append(
        uow,
        caller.actor(),
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=FUNCTIONS.entry("linkage.changes"),
            subjects=subjects,
            mynumber_accessed=my_numbers > 0,
            detail={
                "after": after,
                "next_cursor": next_cursor,
                "events": len(result),
                "delivered": sum(1 for c in result if c.payload is not None),
                "records": sum(len(c.records) for c in result),
                "protected_records": _protected_count(r for c in result for r in c.records),
                **_my_number_detail(my_numbers),
            },
        ),
    )
    return ChangePage(result, next_cursor, has_more)


# ---------------------------------------------------------------- 全件 (連携区分 1)


@dataclass(frozen=True)
class FullPage:
    records: list[dict[str, str]]
    next_cursor: str | None
    as_of_seq: int


def _client_secret(uow: UnitOfWork, caller: ClientCaller) -> str:
    secret = uow.session.scalar(
        select(LinkageClientRow.secret).where(LinkageClientRow.client_id == caller.client_id)
    )
    if secret is None:  # deactivated or removed between authentication and now
        raise Unauthenticated("アクセストークンが無効か、有効期限が切れています。")
    return secret


def full(
    uow: UnitOfWork,
    caller: ClientCaller,
    group: DataGroup,
    *,
    cursor: str | None,
    limit: int,
    as_of: date | None = None,
    keyring: KeyRing | None = None,
) -> FullPage:
    """One keyset page of 全件 (連携区分 1) in key order.

    Pages are read at different moments, so the pages of one run are not one snapshot. Instead
    the first page fixes `as_of_seq`, the outbox head *before* any record is read, and every
    cursor carries it: a consumer that then pulls 差分 after `as_of_seq` sees every change made
    while it paged (with current records), so it converges. Persons under 支援措置 are skipped
    for clients without `support_measure`; the cursor holds only keys the client was given.
    Entitled clients get every record with its 支援措置 flag (`domain.deliverable`).

    `as_of`: each person's entry in force on that day, as the register knows it now (persons
    not yet recorded then are left out). The cursor carries the day, so one run never mixes
    days; the 支援措置 rule is today's, as for every delivery.

    `my_number` clients get each delivered person's 個人番号 (current, also in an `as_of` run:
    the number identifies the person, whatever day the record describes), decrypted with
    `keyring`; without a key they are refused (`keyring-missing`)."""
    page_reader: PageProvider = group.page
    if as_of is not None:
        if group.page_as_of is None:
            raise InvalidError(
                "linkage.as_of_unsupported",
                "この全件連携では基準日（as_of）を指定できません。",
                "as_of",
            )
        as_of_reader = group.page_as_of

        def page_reader(uow: UnitOfWork, *, after: str, limit: int) -> Sequence[RecordRow]:
            return as_of_reader(uow, after=after, limit=limit, valid_on=as_of)

    day = as_of.isoformat() if as_of is not None else ""
    _require_scope(caller, group)
    _require_keyring(caller, (group,), keyring)
    secret = _client_secret(uow, caller)
    if cursor:
        try:
            position = domain.decode_full_cursor(
                cursor, tenant=caller.tenant, client_id=caller.client_id, secret=secret, as_of=day
            )
        except domain.CursorRejected as exc:
            raise KikanError(str(exc), slug="invalid-cursor", item="cursor") from exc
        after, as_of_seq = position.after, position.as_of_seq
    else:
        after = ""
        as_of_seq = uow.session.scalar(select(func.max(OutboxEventRow.seq))) or 0
    delivered: list[dict[str, str]] = []
    more = False
    scan = after
    while not more:
        need = limit - len(delivered)
        batch = page_reader(uow, after=scan, limit=need + 1)
        for rec, protected in batch:
            out = domain.deliverable(rec, protected, caller.scopes)
            if out is None:
                continue
            if len(delivered) == limit:
                more = True
                break
            delivered.append(out)
        if len(batch) < need + 1:
            break
        scan = str(batch[-1][0][group.key])
    my_numbers = _fill_my_numbers(uow, caller, group, keyring, delivered)
    next_cursor = (
        domain.encode_full_cursor(
            tenant=caller.tenant,
            client_id=caller.client_id,
            after=delivered[-1][group.key],
            as_of_seq=as_of_seq,
            secret=secret,
            as_of=day,
        )
        if more
        else None
    )
    audit.append(
        uow,
        caller.actor(),
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=FUNCTIONS.entry("linkage.full"),
            subjects=[r[group.key] for r in delivered],
            mynumber_accessed=my_numbers > 0,
            detail={
                "resource": group.resource,
                "first_page": not cursor,
                "as_of_seq": as_of_seq,
                **({"as_of": day} if day else {}),
                "records": len(delivered),
                "protected_records": _protected_count(delivered),
                "has_more": more,
                **_my_number_detail(my_numbers),
            },
        ),
    )
    return FullPage(delivered, next_cursor, as_of_seq)


# ---------------------------------------------------------------- records of named persons


def _require_scope(caller: ClientCaller, group: DataGroup) -> None:
    """全件 and 個別 of a data group need its topic among the client's scopes (差分 filters
    per event instead)."""
    if group.topic not in caller.scopes:
        raise Forbidden(
            f"この連携クライアントには「{domain.TOPIC_SCOPES[group.topic]}」の連携範囲がありません。"
        )


def records(
    uow: UnitOfWork,
    caller: ClientCaller,
    group: DataGroup,
    keys: Sequence[str],
    keyring: KeyRing | None = None,
) -> list[dict[str, str]]:
    """The current records of these persons the caller may see, in key order (unknown and
    invisible ones left out alike, so the answer tells nothing about who is protected): how a
    consumer fetches a person a change named without a record. 個人番号 as in `full`."""
    _require_scope(caller, group)
    _require_keyring(caller, (group,), keyring)
    visible = _visible_records(uow, caller, group, sorted(set(keys)))
    delivered = [visible[k] for k in sorted(visible)]
    my_numbers = _fill_my_numbers(uow, caller, group, keyring, delivered)
    audit.append(
        uow,
        caller.actor(),
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=FUNCTIONS.entry("linkage.records"),
            subjects=[r[group.key] for r in delivered],
            mynumber_accessed=my_numbers > 0,
            detail={
                "resource": group.resource,
                "requested": len(set(keys)),
                "records": len(delivered),
                "protected_records": _protected_count(delivered),
                **_my_number_detail(my_numbers),
            },
        ),
    )
    return delivered
