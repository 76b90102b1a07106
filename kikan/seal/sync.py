"""Pulling the 宛名 for 印鑑登録: the linkage-consumer kit's sync with seal's `Consumer`
(kept as a module so `kikan.seal.sync.sync_tenant(db, tenant, …)` callers keep working)."""

from __future__ import annotations

from typing import Any

from kikan.linkage.consumer import SyncReport
from kikan.linkage.consumer import sync as kit
from kikan.platform.uow import Database
from kikan.seal.service.replica import CONSUMER


def sync_tenant(db: Database, tenant: str, **options: Any) -> SyncReport:
    """See `kikan.linkage.consumer.sync.sync_tenant` (same options)."""
    return kit.sync_tenant(db, CONSUMER, tenant, **options)
