"""Throttling with exponential backoff, kept in the database (ADR 0009).

Why not a hard lock: a lock that anyone can trigger with a few anonymous wrong passwords lets
anyone keep any staff member out (and, if it ends sessions, throw them out mid-transaction), and
its distinct answer tells an attacker which login ids exist. A throttle instead makes each key
(a client address, an account) wait longer after every failure past a free allowance, answers
every waiting caller with the same 429, and never touches live sessions.

Why the database: the server runs several worker processes; a per-process counter would multiply
the allowance by the number of workers and forget everything on restart.

Keys are stored as SHA-256 digests (a "login id" may be a password typed into the wrong field).
Account keys live in their tenant's scope (row-level security like any tenant row); address keys
in the host scope.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kikan.platform.db import HOST_SCOPE, utcnow
from kikan.platform.store import AuthThrottleRow
from kikan.platform.uow import UnitOfWork

#: The first wait once the free allowance is used up; each further failure doubles it.
BASE_DELAY_SECONDS = 30


@dataclass(frozen=True)
class Key:
    """One thing that is throttled: `kind` (login-account, login-address, verify-address …) and
    the value it is about, in the scope whose rows hold it."""

    scope: str
    kind: str
    value: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.kind}\x00{self.value}".encode()).hexdigest()


def account_key(scope: str, login_id: str) -> Key:
    """The same key whether or not the login id exists, so both are throttled alike."""
    return Key(scope, "login-account", login_id.casefold())


def address_key(kind: str, address: str) -> Key:
    return Key(HOST_SCOPE, kind, address)


def _remaining(until: datetime | None, now: datetime) -> int:
    if until is None or until <= now:
        return 0
    return max(1, math.ceil((until - now).total_seconds()))


def _ensure_row(uow: UnitOfWork, key: Key, now: datetime) -> AuthThrottleRow:
    """The key's row, locked for this transaction (created if missing, race-free)."""
    values = {
        "tenant_code": key.scope,
        "key_hash": key.digest,
        "kind": key.kind,
        "failures": 0,
        "window_started_at": now,
        "refused": 0,
    }
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    uow.session.execute(
        insert(AuthThrottleRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_code", "key_hash"])
    )
    row = uow.session.scalars(
        select(AuthThrottleRow)
        .where(AuthThrottleRow.key_hash == key.digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return row


def wait_seconds(
    uow: UnitOfWork, key: Key, *, count_refusal: bool = True, lock: bool = False
) -> int:
    """Seconds the key must still wait (0: go ahead). A refusal is counted on the row, not
    appended to the audit chain, so waiting callers cannot grow the chain.

    `lock=True` holds the key's row until the transaction ends, so concurrent attempts on the
    key are checked and counted one after the other: a burst of parallel requests cannot all
    pass the check before the first failure is recorded (`record_failure` in the same
    transaction)."""
    now = utcnow()
    row: AuthThrottleRow | None
    if lock:
        row = _ensure_row(uow, key, now)
    else:
        row = uow.session.scalars(
            select(AuthThrottleRow).where(AuthThrottleRow.key_hash == key.digest)
        ).first()
    if row is None:
        return 0
    left = _remaining(row.blocked_until, now)
    if left and count_refusal:
        row.refused += 1
    return left


def record_failure(uow: UnitOfWork, key: Key, *, threshold: int, max_seconds: int) -> int:
    """Count one failure; returns the wait it starts (0 while inside the free allowance).

    The count is forgotten after a quiet period as long as the longest wait, counted from the
    end of the last wait, so waiting out one block does not buy a fresh allowance.
    """
    now = utcnow()
    row = _ensure_row(uow, key, now)
    quiet_since = row.blocked_until or row.last_failure_at
    if quiet_since is not None and quiet_since + timedelta(seconds=max_seconds) <= now:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    row.last_failure_at = now
    if threshold <= 0 or row.failures < threshold:
        return 0
    doublings: int = min(row.failures - threshold, 20)
    delay = min(BASE_DELAY_SECONDS * (1 << doublings), max_seconds)
    row.blocked_until = now + timedelta(seconds=delay)
    return delay


def count_call(uow: UnitOfWork, key: Key, *, limit: int, window_seconds: int) -> int:
    """A fixed-window rate limit: count one call; returns the wait if this call is over `limit`
    (the call is then refused and not counted)."""
    now = utcnow()
    row = _ensure_row(uow, key, now)
    left = _remaining(row.blocked_until, now)
    if left:
        row.refused += 1
        return left
    if row.window_started_at + timedelta(seconds=window_seconds) <= now:
        row.window_started_at = now
        row.failures = 0
    if row.failures >= limit:
        row.blocked_until = row.window_started_at + timedelta(seconds=window_seconds)
        row.refused += 1
        return _remaining(row.blocked_until, now)
    row.failures += 1
    return 0


def clear(uow: UnitOfWork, key: Key) -> None:
    """Forget a key (a successful login, or an administrator's ロック解除)."""
    uow.session.execute(delete(AuthThrottleRow).where(AuthThrottleRow.key_hash == key.digest))


def waiting(uow: UnitOfWork, keys: list[Key]) -> set[str]:
    """Digests of those `keys` that are waiting now (for the staff list's 待機中 flag)."""
    if not keys:
        return set()
    now = utcnow()
    rows = uow.session.scalars(
        select(AuthThrottleRow).where(AuthThrottleRow.key_hash.in_([k.digest for k in keys]))
    )
    return {r.key_hash for r in rows if r.blocked_until is not None and r.blocked_until > now}
