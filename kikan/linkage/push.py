"""PUSH adapter of 庁内データ連携: the outbox relayed to NATS JetStream, at least once.

The pull API (`GET /changes`) stays the source of truth; this is a lower-latency notification
channel for systems that subscribe instead of polling. How it stays correct:

* **Position per tenant** (`linkage_push_positions`): the relay reads events after its stored
  position, publishes them, waits for JetStream's acknowledgement of every one, and only then
  advances the position. A crash between publish and advance republishes the same events.
* **Idempotency key** `Nats-Msg-Id: <団体コード>:<seq>`: the stream's duplicate window drops
  the republished copies, so subscribers normally see each event once; a subscriber that must be
  exact de-duplicates on (tenant, seq) too (at-least-once delivery, as the pull feed).
* **Subjects** `<prefix>.<団体コード>.<topic>` (e.g. `kikan.011002.residents.changed`): one
  subscription per tenant and topic, or `<prefix>.<団体コード>.>` for a tenant's whole stream.
* **支援措置**: a NATS subject cannot tell who reads it, so payloads pass the filter of a client
  *without* the `support_measure` scope: protected persons' 宛名番号 never go out on NATS, and
  an event only about them is published with `payload: null` (its seq still goes out, so the
  stream stays gap-free). Entitled systems get those persons through the pull API.
* Messages carry the event, not records: subscribers fetch current rows with the pull API.

Every published batch is audited (actor `system:linkage-push`, subjects = published 宛名番号).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import nats
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import select, update

from kikan.linkage import domain
from kikan.linkage.module import FUNCTIONS
from kikan.linkage.settings import LinkageSettings
from kikan.linkage.store import LinkagePushPositionRow
from kikan.platform import audit, tenancy
from kikan.platform.db import utcnow
from kikan.platform.settings import Settings
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database, Scope, UnitOfWork

log = logging.getLogger("kikan.linkage.push")

PUSH_ACTOR = audit.Actor(kind="system", id="linkage-push")
#: What a NATS subscriber is entitled to: every data group, but not 支援措置 対象者.
PUSH_SCOPES = frozenset(domain.TOPIC_SCOPES)


@dataclass(frozen=True)
class PushConfig:
    url: str
    prefix: str = "kikan"
    stream: str = "KIKAN_LINKAGE"
    duplicate_window: float = 600.0  # seconds; must exceed the relay's worst restart time
    batch: int = 500


@dataclass(frozen=True)
class OutgoingMessage:
    tenant: str
    seq: int
    subject: str
    data: bytes
    subjects: tuple[str, ...]  # 宛名番号 the message names (for the audit record)

    @property
    def msg_id(self) -> str:
        return message_id(self.tenant, self.seq)


def subject_for(prefix: str, tenant: str, topic: str) -> str:
    return f"{prefix}.{tenant}.{topic}"


def message_id(tenant: str, seq: int) -> str:
    return f"{tenant}:{seq}"


def build_message(prefix: str, row: OutboxEventRow) -> OutgoingMessage:
    payload = (
        domain.filter_payload(row.topic, row.payload, PUSH_SCOPES)
        if row.topic in PUSH_SCOPES
        else None
    )
    body = {
        "tenant": row.tenant_code,
        "seq": row.seq,
        "topic": row.topic,
        "created_at": row.created_at.isoformat(),
        "payload": payload,
    }
    named = tuple(str(a) for a in (payload or {}).get("atena_numbers") or [])
    return OutgoingMessage(
        tenant=row.tenant_code,
        seq=row.seq,
        subject=subject_for(prefix, row.tenant_code, row.topic),
        data=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        subjects=named,
    )


# ---------------------------------------------------------------- database side (sync)


def position(uow: UnitOfWork) -> int:
    row = uow.session.get(LinkagePushPositionRow, uow.tenant)
    return row.published_seq if row else 0


def pending(db: Database, tenant: str, prefix: str, limit: int) -> list[OutgoingMessage]:
    """The next events of `tenant` after the relay's position, as messages."""
    with db.unit_of_work(tenant) as uow:
        after = position(uow)
        rows = uow.session.scalars(
            select(OutboxEventRow)
            .where(OutboxEventRow.seq > after)
            .order_by(OutboxEventRow.seq)
            .limit(limit)
        ).all()
        return [build_message(prefix, r) for r in rows]


def advance(db: Database, tenant: str, published: list[OutgoingMessage]) -> None:
    """Record that JetStream acknowledged `published` (monotonic: a slower concurrent relay
    never moves the position back), mark the outbox rows and audit what left."""
    last = published[-1].seq
    first = published[0].seq
    with db.unit_of_work(tenant) as uow:
        row = uow.session.get(LinkagePushPositionRow, tenant, with_for_update=True)
        now = utcnow()
        if row is None:
            uow.session.add(
                LinkagePushPositionRow(tenant_code=tenant, published_seq=last, updated_at=now)
            )
        elif row.published_seq < last:
            row.published_seq = last
            row.updated_at = now
        uow.session.execute(
            update(OutboxEventRow)
            .where(OutboxEventRow.seq.between(first, last), OutboxEventRow.published_at.is_(None))
            .values(published_at=now)
        )
        audit.append(
            uow,
            PUSH_ACTOR,
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function=FUNCTIONS.entry("linkage.push"),
                subjects=sorted({a for m in published for a in m.subjects}),
                detail={"first_seq": first, "last_seq": last, "messages": len(published)},
            ),
        )
        uow.commit()


def active_tenants(db: Database) -> list[str]:
    with db.unit_of_work(Scope.host()) as uow:
        return [t.code for t in tenancy.list_tenants(uow) if t.active]


# ---------------------------------------------------------------- JetStream side (async)


class PushError(RuntimeError):
    """JetStream did not acknowledge a message as stored in the expected stream."""


async def ensure_stream(js: Any, config: PushConfig) -> None:
    """Create the stream (all subjects under the prefix, with the duplicate window) if missing."""
    try:
        await js.stream_info(config.stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=config.stream,
                subjects=[f"{config.prefix}.>"],
                duplicate_window=config.duplicate_window,
            )
        )


async def publish_batch(js: Any, config: PushConfig, messages: list[OutgoingMessage]) -> int:
    """Publish and wait for every acknowledgement; returns how many the stream took as new."""
    acks = await asyncio.gather(
        *(
            js.publish(m.subject, m.data, stream=config.stream, headers={"Nats-Msg-Id": m.msg_id})
            for m in messages
        )
    )
    for ack in acks:
        if ack.stream != config.stream:
            raise PushError(f"acknowledged by stream {ack.stream!r}, not {config.stream!r}")
    return sum(1 for ack in acks if not ack.duplicate)


async def relay_tenant(db: Database, js: Any, config: PushConfig, tenant: str) -> int:
    """Publish one batch of `tenant`'s outbox; returns the number of events relayed."""
    messages = await asyncio.to_thread(pending, db, tenant, config.prefix, config.batch)
    if not messages:
        return 0
    await publish_batch(js, config, messages)
    await asyncio.to_thread(advance, db, tenant, messages)
    return len(messages)


async def relay_once(
    db: Database, js: Any, config: PushConfig, tenants: Sequence[str] | None = None
) -> int:
    """One round over every active tenant (or only `tenants`), each drained batch by batch."""
    total = 0
    for tenant in tenants if tenants is not None else await asyncio.to_thread(active_tenants, db):
        while (n := await relay_tenant(db, js, config, tenant)) > 0:
            total += n
    return total


async def _log_nats_error(exc: Exception) -> None:
    log.warning("NATS: %s", exc)


async def connect(config: PushConfig) -> tuple[Any, Any]:
    # no client-side reconnect loop: `run` reconnects itself (and a one-shot relay should fail
    # fast with a clear message instead of retrying for minutes)
    nc = await nats.connect(
        config.url,
        name="kikan-linkage-push",
        connect_timeout=5,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=1,
        error_cb=_log_nats_error,
    )
    js = nc.jetstream()
    await ensure_stream(js, config)
    return nc, js


async def run(
    db: Database,
    config: PushConfig,
    stop: asyncio.Event,
    *,
    interval: float = 0.2,
    tenants: Sequence[str] | None = None,
    on_round: Callable[[int], Awaitable[None] | None] | None = None,
) -> None:
    """Relay until `stop` is set. Connection or database failures are logged and retried after
    a pause; the stored positions make every retry safe."""
    nc: Any = None
    js: Any = None
    while not stop.is_set():
        try:
            if nc is None or nc.is_closed:
                nc, js = await connect(config)
                log.info(
                    "NATS JetStream に接続しました（%s, stream %s）", config.url, config.stream
                )
            n = await relay_once(db, js, config, tenants)
            if on_round is not None:
                result = on_round(n)
                if result is not None:
                    await result
            if n:
                continue
        except Exception:
            log.exception("NATS への送信に失敗しました。再試行します。")
            if nc is not None:
                with contextlib.suppress(Exception):
                    await nc.close()
            nc = None
            await _sleep_or_stop(stop, 2.0)
            continue
        await _sleep_or_stop(stop, interval)
    if nc is not None:
        with contextlib.suppress(Exception):
            await nc.drain()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def config_from_settings(settings: Settings) -> PushConfig | None:
    """The push configuration, or None when KIKAN_NATS_URL is not set."""
    if not settings.nats_url:
        return None
    return PushConfig(
        url=settings.nats_url, prefix=settings.nats_subject_prefix, stream=settings.nats_stream
    )


@contextlib.asynccontextmanager
async def background(
    db: Database, settings: Settings, linkage: LinkageSettings
) -> AsyncIterator[None]:
    """The relay as a background task of the server, when KIKAN_NATS_URL is set (and
    KIKAN_LINKAGE_PUSH_IN_SERVER is not false). Several workers may each run one: positions
    only move forward and the stream de-duplicates, so that is safe, if wasteful."""
    config = config_from_settings(settings)
    if config is None or not linkage.push_in_server:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run(db, config, stop), name="kikan-linkage-push")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()
