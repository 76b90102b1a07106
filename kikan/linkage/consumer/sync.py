"""The sync of one consumer: first 全件, then 差分, page by page, into the module's own tables.

Each page is applied in ONE transaction together with the cursor that follows it, under a lock
on the consumer's link row for this tenant. So whatever stops the sync (a crash, a kill, a
provider that stays down) between or inside pages, the next run resumes from the stored cursor:
no change is missed (the cursor never moves past an unapplied event) and none is applied twice
(an applied event's cursor is committed with it). Two syncs of one tenant at once cannot
interleave either: the second one sees the cursor moved under its lock and stops.

A module brings a `Consumer`: its link and replica tables (the mixins of `replica`), its
settings and a `react` hook that turns delivered persons into its own consequences (印鑑登録:
死亡・転出 → 職権抹消, a changed 氏名 → 要確認). Everything else is here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy import select

from kikan.linkage.consumer.client import (
    ChangeItem,
    LinkageClient,
    LinkageError,
    ResyncRequired,
    RetryPolicy,
)
from kikan.linkage.consumer.replica import (
    MY_NUMBER_ITEM,
    AtenaReplicaMixin,
    LinkStateMixin,
    known_rows,
    support_flag,
    upsert,
    without_my_number,
)
from kikan.platform import audit, tenancy
from kikan.platform.crypto import MyNumber
from kikan.platform.db import utcnow
from kikan.platform.errors import Conflict, NotFound
from kikan.platform.functions import Catalogue, Function
from kikan.platform.ids import IdentifierError
from kikan.platform.uow import Database, Scope, UnitOfWork

log = logging.getLogger("kikan.linkage.consumer")

CHANGES_LIMIT = 100
FULL_LIMIT = 500
TOPIC = "residents.changed"
FULL, CHANGES = "全件", "差分"


class ConsumerSettings(BaseSettings):
    """What every consumer reads from its own `KIKAN_<MODULE>_` settings (subclass it and set
    `model_config`): the background sync interval and a URL overriding the stored one."""

    sync_interval: float | None = Field(
        default=None, description="seconds between background 宛名 syncs (unset: off)"
    )
    linkage_url: str = Field(
        default="", description="linkage API base URL overriding the stored one"
    )


@dataclass(frozen=True)
class PersonChange:
    """One person as a page delivered them, after the replica took it.

    `record` None: no longer published (e.g. a cancelled 転入). `before`: the replica's record
    before this page (None: never seen, or gone). `seq` 0 for 全件. Neither record holds the
    個人番号 item: a consumer holding the `my_number` scope finds the delivered number in
    `my_number` (a `MyNumber`, masked in repr/str and logs; `reveal()` where it is really
    needed, e.g. to encrypt it into the module's own store), None when the person has none or
    the consumer does not receive them."""

    atena_number: str
    record: Mapping[str, str] | None
    before: Mapping[str, str] | None
    seq: int
    kind: str
    valid_from: date | None = None
    protected: bool = False
    my_number: MyNumber | None = None


class React(Protocol):
    """A module's consequences of one page's persons, in delivery order, in the page's
    transaction (never commit). Returns one label per consequence (counted in the report)."""

    def __call__(self, uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]: ...


def no_reaction(uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
    """For a consumer that only keeps the replica."""
    return ()


@dataclass(frozen=True)
class Consumer:
    """One module as a consumer of the 宛名 (declared on its descriptor's `linkage_consumers`).

    `name` is the module name (CLI group, settings prefix, slugs); `functions` the module's 機能ID
    catalogue, which must hold the kit's entries under the module's name (ADR 0014):
    `<name>.linkage_settings` (the link routes), `<name>.audit.linkage_settings`,
    `<name>.audit.resync` and `<name>.audit.replica` (the access-log labels);
    `client_name`/`scopes` what `connect` registers."""

    name: str
    title: str
    link: type[LinkStateMixin]
    replica: type[AtenaReplicaMixin]
    settings: type[ConsumerSettings]
    actor: audit.Actor
    functions: Catalogue
    react: React = no_reaction
    client_name: str = ""
    scopes: tuple[str, ...] = (TOPIC, "support_measure")

    @property
    def route_key(self) -> str:
        """The catalogue key the link routes declare."""
        return f"{self.name}.linkage_settings"

    def audit_function(self, what: str) -> Function:
        """The catalogue entry of one of the kit's access-log labels (`replica`, `resync`,
        `linkage_settings`); a module missing one fails at its first use in the tests."""
        return self.functions.entry(f"{self.name}.audit.{what}")

    def not_connected(self) -> NotFound:
        return NotFound(
            f"この団体の{self.title}は庁内データ連携に接続されていません"
            f"（kikan {self.name} connect で連携クライアントを登録してください）。",
            slug=f"{self.name}-not-connected",
        )


# ---------------------------------------------------------------- link state (one transaction)


def link(uow: UnitOfWork, consumer: Consumer, *, for_update: bool = False) -> LinkStateMixin | None:
    stmt = select(consumer.link)
    if for_update:
        stmt = stmt.with_for_update()
    return uow.session.scalars(stmt).first()


def save_link(
    uow: UnitOfWork,
    consumer: Consumer,
    actor: audit.Actor,
    *,
    base_url: str,
    client_id: str,
    client_secret: str,
) -> LinkStateMixin:
    """Keep the linkage client this tenant registered for the consumer (a new client restarts
    the sync from 全件: the replica is refreshed in place, the module's data is kept)."""
    row = link(uow, consumer)
    if row is None:
        row = consumer.link()
        uow.session.add(row)
    row.base_url, row.client_id, row.client_secret = base_url, client_id, client_secret
    row.restart()
    _audit_config(uow, consumer, actor, "linkage_settings", client_id=client_id, base_url=base_url)
    return row


def _audit_config(
    uow: UnitOfWork, consumer: Consumer, actor: audit.Actor, what: str, **detail: object
) -> None:
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=consumer.audit_function(what),
            detail=dict(detail),
        ),
    )


def restart(uow: UnitOfWork, consumer: Consumer, actor: audit.Actor) -> LinkStateMixin:
    """Re-sync from 全件 (the operator's answer to ResyncRequired), audited."""
    row = link(uow, consumer, for_update=True)
    if row is None:
        raise consumer.not_connected()
    previous = row.cursor
    row.restart()
    _audit_config(uow, consumer, actor, "resync", previous_cursor=previous)
    return row


# ---------------------------------------------------------------- applying pages


@dataclass
class Applied:
    """What one sync page did (for the report and the audit record)."""

    persons: set[str] = field(default_factory=set)
    reactions: Counter[str] = field(default_factory=Counter)
    ids_only: int = 0
    my_numbers: int = 0  # 個人番号 received and handed to `react` (never which)
    bad_my_numbers: int = 0  # a filled 個人番号 item that is not a valid number (dropped)


def _my_number(record: Mapping[str, str] | None, applied: Applied) -> MyNumber | None:
    """The delivered 個人番号 as a masked value (counted), or None. A malformed one (another
    vendor's provider) is counted and dropped, never quoted: the error would carry it."""
    value = record.get(MY_NUMBER_ITEM) if record is not None else None
    if not value:
        return None
    try:
        number = MyNumber(value)
    except IdentifierError:
        applied.bad_my_numbers += 1
        return None
    applied.my_numbers += 1
    return number


def _react(
    uow: UnitOfWork, consumer: Consumer, changes: list[PersonChange], applied: Applied
) -> None:
    applied.persons.update(c.atena_number for c in changes)
    if changes:
        applied.reactions.update(consumer.react(uow, changes))


def apply_full(
    uow: UnitOfWork, consumer: Consumer, records: Iterable[Mapping[str, str]]
) -> Applied:
    """One 全件 page: refresh the replica (with each record's 支援措置 flag, so a person
    protected before the first sync is protected from the first page on), then react."""
    applied = Applied()
    page = [r for r in records if r.get("atena_number")]
    known = known_rows(uow, consumer.replica, [str(r["atena_number"]) for r in page])
    changes: list[PersonChange] = []
    for record in page:
        atena = str(record["atena_number"])
        before = known.get(atena)
        previous = without_my_number(before.record) if before and not before.gone else None
        row = upsert(
            uow, consumer.replica, known, atena, record, protected=support_flag(record), seq=0
        )
        changes.append(
            PersonChange(
                atena,
                without_my_number(record),
                previous,
                0,
                FULL,
                protected=bool(row and row.protected),
                my_number=_my_number(record, applied),
            )
        )
    _react(uow, consumer, changes, applied)
    return applied


def _valid_from(payload: Mapping[str, object]) -> date | None:
    value = payload.get("valid_from")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def apply_change(
    uow: UnitOfWork,
    consumer: Consumer,
    *,
    seq: int,
    topic: str,
    payload: Mapping[str, object] | None,
    records: Sequence[Mapping[str, str]] | None,
    applied: Applied | None = None,
) -> Applied:
    """One 差分 event: the replica takes the delivered current rows, then the module reacts.

    State-based: a subject without a record is no longer published (e.g. a cancelled 転入).
    The 支援措置 flag comes from the record (as at pull time, so a measure that ended clears
    it); the payload's `support_measure` list (as at the event) only stands in for a record
    without the flag. `records` None (ids only) is counted, not guessed at: the sync fetches
    such persons before it calls this."""
    applied = applied or Applied()
    if payload is None or topic != TOPIC:
        return applied
    if records is None:
        applied.ids_only += 1
        return applied
    listed = payload.get("support_measure")
    protected = {str(a) for a in listed} if isinstance(listed, list) else set()
    by_atena = {str(r.get("atena_number")): r for r in records}
    numbers = payload.get("atena_numbers")
    subjects = [str(a) for a in numbers] if isinstance(numbers, list) else []
    valid_from = _valid_from(payload)
    known = known_rows(uow, consumer.replica, subjects)
    changes: list[PersonChange] = []
    for atena in subjects:
        record = by_atena.get(atena)
        before = known.get(atena)
        previous = without_my_number(before.record) if before and not before.gone else None
        flag = support_flag(record) if record is not None else None
        row = upsert(
            uow,
            consumer.replica,
            known,
            atena,
            record,
            protected=flag if flag is not None else atena in protected,
            seq=seq,
            valid_from=valid_from if record is not None else None,
        )
        changes.append(
            PersonChange(
                atena,
                without_my_number(record) if record is not None else None,
                previous,
                seq,
                CHANGES,
                valid_from,
                bool(row and row.protected),
                _my_number(record, applied),
            )
        )
    _react(uow, consumer, changes, applied)
    return applied


def audit_sync(uow: UnitOfWork, consumer: Consumer, applied: Applied, **detail: object) -> None:
    if not applied.persons and not applied.reactions:
        return
    audit.append(
        uow,
        consumer.actor,
        audit.AuditEvent(
            category="operation",
            action="batch.update",
            function=consumer.audit_function("replica"),
            subjects=sorted(applied.persons),
            # 個人番号 received (and handed to the module) is My Number access: said, and
            # counted, never quoted
            mynumber_accessed=applied.my_numbers > 0,
            detail={
                **detail,
                "reactions": dict(applied.reactions),
                **({"my_numbers": applied.my_numbers} if applied.my_numbers else {}),
                **({"bad_my_numbers": applied.bad_my_numbers} if applied.bad_my_numbers else {}),
            },
        ),
    )


# ---------------------------------------------------------------- the run


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
    fetched: int = 0  # persons fetched because a change named them without a record
    stopped: str = ""  # why a run ended early ("" = caught up)


#: Test hook: called inside a page's transaction after the reactions, before the commit.
PageHook = Callable[[str, int], None]


@dataclass(frozen=True)
class ClientOptions:
    """How the sync's HTTP client behaves (tests inject a transport, a sleep and a clock)."""

    transport: httpx.BaseTransport | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] | None = None
    rng: random.Random | None = None

    def client(self, base_url: str, client_id: str, secret: str) -> LinkageClient:
        api = LinkageClient(base_url, client_id, secret, transport=self.transport, retry=self.retry)
        if self.sleep is not None:
            api.sleep = self.sleep
        if self.clock is not None:
            api.clock = self.clock
        if self.rng is not None:
            api.rng = self.rng
        return api


def credentials(db: Database, consumer: Consumer, tenant: Scope | str) -> tuple[str, str, str]:
    """(base URL, client id, secret) of the linkage client this tenant registered for the
    consumer (`kikan <module> connect`); not connected → the consumer's Japanese 404."""
    with db.unit_of_work(tenant) as uow:
        state = link(uow, consumer)
        if state is None:
            raise consumer.not_connected()
        return state.base_url, state.client_id, state.client_secret


def as_of_records(
    db: Database,
    consumer: Consumer,
    tenant: Scope | str,
    as_of: date,
    *,
    base_url: str | None = None,
    page_size: int = FULL_LIMIT,
    options: ClientOptions | None = None,
) -> Iterator[Mapping[str, str]]:
    """The register as it stood on `as_of`, person by person in 宛名番号 order, read page by
    page over HTTP (全件 with `as_of`) with the tenant's client of this consumer — what a
    選挙人名簿's base date or a tax's 賦課期日 is judged on. Nothing is stored."""
    url, client_id, secret = credentials(db, consumer, tenant)
    opts = options or ClientOptions()
    with opts.client(base_url or url, client_id, secret) as api:
        for page in api.full_pages(as_of=as_of, limit=page_size):
            yield from page.records


def sync_tenant(
    db: Database,
    consumer: Consumer,
    tenant: str,
    *,
    base_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
    changes_limit: int = CHANGES_LIMIT,
    full_limit: int = FULL_LIMIT,
    max_pages: int | None = None,
    before_commit: PageHook | None = None,
    options: ClientOptions | None = None,
) -> SyncReport:
    """Bring one tenant's replica (and the module's reactions) up to date with the linkage API.

    `max_pages` stops after that many pages (the next run resumes); `before_commit` is called
    inside each page's transaction just before its commit (tests crash the sync there). A
    cursor the provider refuses raises ResyncRequired with the stored cursor untouched."""
    with db.unit_of_work(tenant) as uow:
        state = link(uow, consumer)
        if state is None:
            raise consumer.not_connected()
        url = base_url or state.base_url
        client_id, secret = state.client_id, state.client_secret
    opts = options or ClientOptions(transport=transport)
    if transport is not None and opts.transport is None:
        opts = dataclasses.replace(opts, transport=transport)
    run = _Run(db, consumer, tenant, SyncReport(tenant), max_pages, before_commit)
    with opts.client(url, client_id, secret) as api:
        if run.full(api, full_limit):
            run.changes(api, changes_limit)
    return run.report


@dataclass
class _Run:
    db: Database
    consumer: Consumer
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

    def _state(self, uow: UnitOfWork, *, for_update: bool = False) -> LinkStateMixin:
        state = link(uow, self.consumer, for_update=for_update)
        if state is None:  # removed while we ran
            raise self.consumer.not_connected()
        return state

    def full(self, api: LinkageClient, limit: int) -> bool:
        """全件 (連携区分 1), resumable by its cursor. True when done and 差分 may follow."""
        while True:
            with self.db.unit_of_work(self.tenant) as uow:
                state = self._state(uow)
                if state.full_done:
                    return True
                expected = state.full_cursor
            if not self._budget_left():
                return False
            page = api.full(expected, limit)
            with self.db.unit_of_work(self.tenant) as uow:
                state = self._state(uow, for_update=True)
                if state.full_done or state.full_cursor != expected:
                    self.report.stopped = "concurrent"
                    return False
                applied = apply_full(uow, self.consumer, page.records)
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
                audit_sync(uow, self.consumer, applied, kind=FULL, records=len(page.records))
                if self.before_commit:
                    self.before_commit("full", self.pages)
                uow.commit()
            self.pages += 1
            self.report.full_pages += 1
            self.report.full_records += len(page.records)
            self.report.reactions.update(applied.reactions)

    def _missing(
        self, api: LinkageClient, changes: Sequence[ChangeItem]
    ) -> dict[str, dict[str, str]]:
        """Records of persons a change names without one, fetched rather than dropped: every
        subject of an ids-only change, and a subject the replica has never seen."""
        wanted: set[str] = set()
        unlisted: set[str] = set()
        for c in changes:
            if c.payload is None or c.topic != TOPIC:
                continue
            numbers = c.payload.get("atena_numbers")
            subjects = {str(a) for a in numbers} if isinstance(numbers, list) else set()
            if c.records is None:
                wanted |= subjects
            else:
                unlisted |= subjects - {str(r.get("atena_number")) for r in c.records}
        if unlisted:
            with self.db.unit_of_work(self.tenant) as uow:
                seen = known_rows(uow, self.consumer.replica, unlisted)
            wanted |= unlisted - set(seen)
        if not wanted:
            return {}
        fetched = {str(r.get("atena_number")): r for r in api.records(sorted(wanted))}
        self.report.fetched += len(fetched)
        return fetched

    def changes(self, api: LinkageClient, limit: int) -> None:
        """差分 (連携区分 2) from the stored cursor until caught up."""
        while True:
            with self.db.unit_of_work(self.tenant) as uow:
                after = self.report.cursor = self._state(uow).cursor
            if not self._budget_left():
                return
            page = api.changes(after, limit)
            fetched = self._missing(api, page.changes)
            with self.db.unit_of_work(self.tenant) as uow:
                state = self._state(uow, for_update=True)
                if state.cursor != after:
                    self.report.stopped = "concurrent"
                    self.report.cursor = state.cursor
                    return
                applied = Applied()
                for change in page.changes:
                    if change.seq <= after:  # never apply an event twice
                        continue
                    records = _with_fetched(change, fetched)
                    apply_change(
                        uow,
                        self.consumer,
                        seq=change.seq,
                        topic=change.topic,
                        payload=change.payload,
                        records=records,
                        applied=applied,
                    )
                    self.report.events += 1
                state.cursor = max(after, page.next_cursor)
                state.last_sync_at = state.updated_at = utcnow()
                audit_sync(
                    uow, self.consumer, applied, kind=CHANGES, after=after, next_cursor=state.cursor
                )
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


def _with_fetched(
    change: ChangeItem, fetched: Mapping[str, dict[str, str]]
) -> list[dict[str, str]] | None:
    if change.payload is None or not fetched:
        return change.records
    numbers = change.payload.get("atena_numbers")
    subjects = [str(a) for a in numbers] if isinstance(numbers, list) else []
    records = list(change.records or [])
    listed = {str(r.get("atena_number")) for r in records}
    records += [fetched[a] for a in subjects if a in fetched and a not in listed]
    if change.records is None and not records:
        return None
    return records


# ---------------------------------------------------------------- in the server


def connected_tenants(db: Database, consumer: Consumer) -> list[str]:
    with db.unit_of_work(Scope.host()) as uow:
        codes = [t.code for t in tenancy.list_tenants(uow)]
    result = []
    for code in codes:
        with db.unit_of_work(code) as uow:
            if link(uow, consumer) is not None:
                result.append(code)
    return result


async def sync_forever(
    db: Database,
    consumer: Consumer,
    interval: float,
    base_url: str | None = None,
    *,
    options: ClientOptions | None = None,
) -> None:
    """The server's background loop (`KIKAN_<MODULE>_SYNC_INTERVAL`): every connected tenant,
    again and again. Errors are logged and retried next round; the cursors make that safe. A
    tenant whose cursor the provider refuses is logged each round until an operator re-syncs."""
    while True:
        for code in await asyncio.to_thread(connected_tenants, db, consumer):
            try:
                report = await asyncio.to_thread(
                    sync_tenant, db, consumer, code, base_url=base_url, options=options
                )
                if report.events or report.full_records:
                    log.info(
                        "%s sync %s: %d records, %d events, cursor %d",
                        consumer.name,
                        code,
                        report.full_records,
                        report.events,
                        report.cursor,
                    )
            except ResyncRequired as exc:
                log.warning(
                    "%s sync %s: %s (kikan %s sync --tenant %s --resync)",
                    consumer.name,
                    code,
                    exc.message,
                    consumer.name,
                    code,
                )
            except (Conflict, NotFound) as exc:
                log.warning("%s sync %s: %s", consumer.name, code, exc.detail)
            except LinkageError as exc:
                log.warning("%s sync %s: %s", consumer.name, code, exc.message)
            except Exception as exc:  # keep the loop alive; next round retries from the cursor
                log.warning("%s sync %s failed: %s", consumer.name, code, exc)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def background(
    db: Database, consumers: Sequence[tuple[Consumer, ConsumerSettings]]
) -> AsyncIterator[None]:
    """Run the loop of every consumer whose settings ask for one, for the server's lifetime
    (the composition root's lifespan enters this with the registry's consumers)."""
    tasks = [
        asyncio.create_task(
            sync_forever(db, consumer, settings.sync_interval, settings.linkage_url or None)
        )
        for consumer, settings in consumers
        if settings.sync_interval
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
