"""Pulling the 宛名 over the 庁内データ連携 API: first 全件, then 差分, page by page.

Each page is applied in ONE transaction together with the cursor that follows it, under a lock
on this tenant's `seal_link` row. So whatever stops the sync (a crash, a kill, a network error)
between or inside pages, the next run resumes from the stored cursor: no change is missed (the
cursor never moves past an unapplied event) and none is applied twice (an applied event's cursor
is committed with it). Two syncs of one tenant at once cannot interleave either: the second one
sees the cursor moved under its lock and stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from kikan.platform import tenancy
from kikan.platform.db import utcnow
from kikan.platform.errors import Conflict, NotFound
from kikan.platform.uow import Database, Scope
from kikan.seal import service
from kikan.seal.client import LinkageClient

log = logging.getLogger("kikan.seal.sync")

CHANGES_LIMIT = 100
FULL_LIMIT = 500


@dataclass
class SyncReport:
    tenant: str
    full_pages: int = 0
    full_records: int = 0
    change_pages: int = 0
    events: int = 0
    cursor: int = 0
    reactions: Counter[str] = field(default_factory=Counter)
    ids_only: int = 0
    stopped: str = ""  # why a run ended early ("" = caught up)


#: Test hook: called inside a page's transaction after the reactions, before the commit.
PageHook = Callable[[str, int], None]


def sync_tenant(
    db: Database,
    tenant: str,
    *,
    base_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    changes_limit: int = CHANGES_LIMIT,
    full_limit: int = FULL_LIMIT,
    max_pages: int | None = None,
    before_commit: PageHook | None = None,
) -> SyncReport:
    """Bring one tenant's replica and registrations up to date with the linkage API.

    `max_pages` stops after that many pages (the next run resumes); `before_commit` is called
    inside each page's transaction just before its commit (tests crash the sync there)."""
    with db.unit_of_work(tenant) as uow:
        state = service.link(uow)
        if state is None:
            raise NotFound(
                "この団体の印鑑登録は庁内データ連携に接続されていません"
                "（kikan seal connect で連携クライアントを登録してください）。",
                slug="seal-not-connected",
            )
        url = base_url or state.base_url
        client_id, secret = state.client_id, state.client_secret
    run = _Run(db, tenant, SyncReport(tenant), max_pages, before_commit)
    with LinkageClient(url, client_id, secret, transport=transport) as api:
        if run.full(api, full_limit):
            run.changes(api, changes_limit)
    return run.report


@dataclass
class _Run:
    db: Database
    tenant: str
    report: SyncReport
    max_pages: int | None
    before_commit: PageHook | None
    pages: int = 0

    def _budget_left(self) -> bool:
        if self.max_pages is not None and self.pages >= self.max_pages:
            self.report.stopped = "max_pages"
            return False
        return True

    def full(self, api: LinkageClient, limit: int) -> bool:
        """全件 (連携区分 1), resumable by its cursor. True when done and 差分 may follow."""
        while True:
            with self.db.unit_of_work(self.tenant) as uow:
                state = service.link(uow)
                assert state is not None
                if state.full_done:
                    return True
                expected = state.full_cursor
            if not self._budget_left():
                return False
            page = api.full(expected, limit)
            with self.db.unit_of_work(self.tenant) as uow:
                state = service.link(uow, for_update=True)
                assert state is not None
                if state.full_done or state.full_cursor != expected:
                    self.report.stopped = "concurrent"
                    return False
                applied = service.apply_full(uow, page.records)
                if state.full_as_of is None:
                    state.full_as_of = page.as_of_seq
                state.full_cursor = page.next_cursor
                if page.next_cursor is None:
                    # 差分 resumes from the outbox head as it was before page 1 was read: the
                    # 全件 records carried each person's 支援措置 flag, so nothing before it
                    # needs to be read again.
                    state.full_done = True
                    state.cursor = state.full_as_of
                state.last_sync_at = state.updated_at = utcnow()
                service.audit_sync(uow, applied, kind="全件", records=len(page.records))
                if self.before_commit:
                    self.before_commit("full", self.pages)
                uow.commit()
            self.pages += 1
            self.report.full_pages += 1
            self.report.full_records += len(page.records)
            self.report.reactions.update(applied.reactions)

    def changes(self, api: LinkageClient, limit: int) -> None:
        """差分 (連携区分 2) from the stored cursor until caught up."""
        while True:
            with self.db.unit_of_work(self.tenant) as uow:
                state = service.link(uow)
                assert state is not None
                after = self.report.cursor = state.cursor
            if not self._budget_left():
                return
            page = api.changes(after, limit)
            with self.db.unit_of_work(self.tenant) as uow:
                state = service.link(uow, for_update=True)
                assert state is not None
                if state.cursor != after:
                    self.report.stopped = "concurrent"
                    self.report.cursor = state.cursor
                    return
                applied = service.Applied()
                for change in page.changes:
                    if change.seq <= after:  # never apply an event twice
                        continue
                    service.apply_change(
                        uow,
                        seq=change.seq,
                        topic=change.topic,
                        payload=change.payload,
                        records=change.records,
                        applied=applied,
                    )
                    self.report.events += 1
                state.cursor = max(after, page.next_cursor)
                state.last_sync_at = state.updated_at = utcnow()
                service.audit_sync(uow, applied, kind="差分", after=after, next_cursor=state.cursor)
                if self.before_commit:
                    self.before_commit("changes", self.pages)
                uow.commit()
                self.report.cursor = state.cursor
            self.pages += 1
            self.report.change_pages += 1
            self.report.reactions.update(applied.reactions)
            self.report.ids_only += applied.ids_only
            if not page.has_more or not page.changes:
                return


def connected_tenants(db: Database) -> list[str]:
    with db.unit_of_work(Scope.host()) as uow:
        codes = [t.code for t in tenancy.list_tenants(uow)]
    result = []
    for code in codes:
        with db.unit_of_work(code) as uow:
            if service.link(uow) is not None:
                result.append(code)
    return result


async def sync_forever(db: Database, interval: float, base_url: str | None = None) -> None:
    """The server's background loop (KIKAN_SEAL_SYNC_INTERVAL): every connected tenant, again
    and again. Errors are logged and retried next round; the cursors make that safe."""
    while True:
        for code in await asyncio.to_thread(connected_tenants, db):
            try:
                report = await asyncio.to_thread(sync_tenant, db, code, base_url=base_url)
                if report.events or report.full_records:
                    log.info(
                        "seal sync %s: %d records, %d events, cursor %d",
                        code,
                        report.full_records,
                        report.events,
                        report.cursor,
                    )
            except (Conflict, NotFound) as exc:
                log.warning("seal sync %s: %s", code, exc.detail)
            except Exception as exc:  # keep the loop alive; next round retries from the cursor
                log.warning("seal sync %s failed: %s", code, exc)
        await asyncio.sleep(interval)
