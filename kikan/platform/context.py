"""The context of one use case: who acts, for which tenant, at what moment, with which keys.

Every module's use cases take it as their second argument (`fn(uow, ctx, command)`, ADR 0013), so
the clock and the actor are injected, never read from globals: a test freezes `now`, a batch job
passes the system actor, and the 処理日 is computed the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kikan.platform import audit
from kikan.platform.crypto import KeyRing
from kikan.platform.db import utcnow

JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Context:
    """Who is doing the work and when: 入力場所, 入力端末 (spec 1.3.1) and the 処理日.

    `tenant` is the caller's scope (a 団体コード, or None for a host operator or a job that did
    not say); the unit of work's tenant stays authoritative for what is read and written.
    `keyring` is None where no key is configured: use cases that need one refuse cleanly.
    """

    actor: audit.Actor
    now: datetime = field(default_factory=utcnow)
    keyring: KeyRing | None = None
    tenant: str | None = None

    @property
    def today(self) -> date:
        """処理日: the processing day in Japan (spec 4.0.3: 処理当日が自動入力)."""
        return self.now.astimezone(JST).date()
