"""The linkage-consumer kit against the real provider over HTTP (SQLite and PostgreSQL).

The whole application runs under uvicorn (the fixtures of tests/seal/test_linkage_http.py); the
kit reaches it only through HTTP, with 印鑑登録 as the consumer. Failures are made at the edge a
real deployment has them: a transport that drops connections or answers 503, tokens revoked
in the provider's database, records left out of a 差分 answer (an older provider).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from kikan.linkage import domain as linkage_domain
from kikan.linkage.consumer import (
    ClientOptions,
    LinkageClient,
    LinkageUnavailable,
    ResyncRequired,
    RetryPolicy,
)
from kikan.linkage.consumer.client import client_assertion
from kikan.linkage.store import LinkageTokenRow
from kikan.platform.settings import get_settings
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database
from kikan.seal.store import SealLinkRow, SealPersonRow
from kikan.seal.sync import sync_tenant
from tests.conftest import Backend
from tests.residents.conftest import ADDRESS2, PRIOR, days_ago, person
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    family,
    office,
    server,
    settings,
)


@pytest.fixture
def live(office: Office) -> Office:  # noqa: F811 - the imported fixture
    """A municipality on the real application under uvicorn, 印鑑登録 as the consumer."""
    return office


class Edge(httpx.BaseTransport):
    """A real HTTP transport with a hook before each request (to fail it, or to change the
    provider's state first) and one after (to alter the answer)."""

    def __init__(
        self,
        before: Callable[[httpx.Request], httpx.Response | None] | None = None,
        after: Callable[[httpx.Request, httpx.Response], httpx.Response] | None = None,
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.before, self.after = before, after
        self.calls: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        if self.before is not None and (made := self.before(request)) is not None:
            return made
        response = self.inner.handle_request(request)
        if self.after is not None:
            response.read()
            response = self.after(request, response)
        return response

    def count(self, path_end: str) -> int:
        return sum(1 for _, path in self.calls if path.endswith(path_end))


class Sleeps:
    """An injected sleep: records the waits, never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _link(db: Database, tenant: str) -> SealLinkRow:
    with db.unit_of_work(tenant) as uow:
        row = uow.session.scalars(select(SealLinkRow)).one()
        uow.session.expunge(row)
        return row


def _set_cursor(db: Database, tenant: str, cursor: int) -> None:
    with db.unit_of_work(tenant) as uow:
        uow.session.execute(update(SealLinkRow).values(cursor=cursor))
        uow.commit()


def _replica(db: Database, tenant: str, atena: str) -> SealPersonRow | None:
    with db.unit_of_work(tenant) as uow:
        row = uow.session.scalars(
            select(SealPersonRow).where(SealPersonRow.atena_number == atena)
        ).first()
        if row is not None:
            uow.session.expunge(row)
        return row


def test_client_assertion_meets_the_published_contract() -> None:
    cid = "123456" + "ab" * 13
    signed = client_assertion(cid, "s3cret", audience=["http://x/api/v1/linkage/token"])
    ok = linkage_domain.verify_assertion(
        signed,
        client_id=cid,
        secret="s3cret",
        audiences={"http://x/api/v1/linkage/token"},
        now=time.time(),
    )
    assert ok.client_id == cid
    with pytest.raises(linkage_domain.AssertionRejected):
        linkage_domain.verify_assertion(
            signed, client_id=cid, secret="other", audiences={"/x"}, now=time.time()
        )


def test_the_replica_takes_the_kits_columns(live: Office, db: Database) -> None:
    o = live
    taro, _, _ = family(o)
    o.connect()
    sync_tenant(db, o.tenant)
    row = _replica(db, o.tenant, taro)
    assert row is not None
    assert (row.name, row.name_kana, row.sex, row.resident_status) == (
        "青木　太郎",
        "アオキ　タロウ",
        "1",
        "10",
    )
    assert row.birth_date.startswith("S55") and row.address.startswith("架空県日和市")
    assert row.valid_from is None  # known from 全件 only


def test_a_cursor_of_another_tenant_or_a_purged_range_asks_for_a_resync(
    live: Office, db: Database, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kikan.cli import app

    o = live
    family(o)
    o.connect()
    first = sync_tenant(db, o.tenant)
    assert first.cursor == 1
    # a cursor beyond this 団体's feed (another 団体's, or a restored database)
    _set_cursor(db, o.tenant, 99)
    with pytest.raises(ResyncRequired) as refused:
        sync_tenant(db, o.tenant)
    assert refused.value.slug == "cursor-out-of-range"
    assert "全件から取り直してください" in refused.value.message
    assert _link(db, o.tenant).cursor == 99  # kept: stopping loses nothing
    # the CLI says what to do, then does it when asked
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        base = str(o.http.base_url).rstrip("/")
        said = runner.invoke(app, ["seal", "sync", "--tenant", o.tenant, "--base-url", base])
        assert said.exit_code == 2
        assert "全件から取り直" in said.output and "--resync" in said.output
        redone = runner.invoke(
            app, ["seal", "sync", "--tenant", o.tenant, "--base-url", base, "--resync"]
        )
        assert redone.exit_code == 0, redone.output
        assert "全件 3件" in redone.output
    finally:
        get_settings.cache_clear()
    assert _link(db, o.tenant).cursor == 1
    # a purged range: events after the stored cursor are gone from the provider
    o.move_in(person("赤井", "一", "アカイ", "ハジメ", "1", "昭和50年1月1日", "世帯主"))
    o.move_in(person("赤井", "二", "アカイ", "ジ", "1", "昭和50年1月1日", "世帯主"))
    admin = Database(backend.admin_url)
    try:
        with admin.unit_of_work(o.tenant) as uow:
            uow.session.execute(delete(OutboxEventRow).where(OutboxEventRow.seq == 2))
            uow.commit()
    finally:
        admin.dispose()
    with pytest.raises(ResyncRequired, match="削除されています"):
        sync_tenant(db, o.tenant)
    assert _link(db, o.tenant).cursor == 1


def test_a_token_expiring_mid_run_is_renewed_and_the_page_completes(
    live: Office, db: Database
) -> None:
    o = live
    family(o)
    o.connect()
    pages = {"n": 0}

    def expire_tokens_before_the_second_page(request: httpx.Request) -> None:
        if request.url.path.endswith("/full/residents"):
            pages["n"] += 1
            if pages["n"] == 2:  # the provider's tokens expire under the running sync
                with db.unit_of_work(o.tenant) as uow:
                    uow.session.execute(
                        update(LinkageTokenRow).values(expires_at=LinkageTokenRow.created_at)
                    )
                    uow.commit()
        return None

    edge = Edge(before=expire_tokens_before_the_second_page)
    report = sync_tenant(db, o.tenant, full_limit=1, options=ClientOptions(transport=edge))
    assert report.full_records == 3 and report.full_pages == 3 and report.stopped == ""
    assert edge.count("/token") == 2  # one renewal
    assert edge.count("/full/residents") == 4  # the refused request asked again, once


def test_a_token_is_renewed_before_it_expires(live: Office, db: Database) -> None:
    o = live
    family(o)
    o.connect()
    now = {"t": 0.0}
    edge = Edge()

    def clock() -> float:
        return now["t"]

    def advance(request: httpx.Request) -> None:
        if request.url.path.endswith("/full/residents"):
            now["t"] += 300.0  # five minutes a page: the 10-minute token runs out on page 2
        return None

    edge.before = advance
    report = sync_tenant(
        db, o.tenant, full_limit=1, options=ClientOptions(transport=edge, clock=clock)
    )
    assert report.full_records == 3
    assert edge.count("/token") == 2  # renewed ahead of expiry …
    assert edge.count("/full/residents") == 3  # … so no request was refused


def test_a_provider_that_is_down_is_retried_with_backoff_and_the_cursor_kept(
    live: Office, db: Database
) -> None:
    o = live
    _, hanako, _ = family(o)
    o.connect()
    sync_tenant(db, o.tenant)
    registered = o.register_seal(hanako, "花子")
    assert registered.status_code == 201
    o.move_out(hanako)
    cursor = _link(db, o.tenant).cursor

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps = Sleeps()
    policy = RetryPolicy(attempts=4, base=0.5, cap=30.0)
    edge = Edge(before=down)
    with pytest.raises(LinkageUnavailable, match="4回試みました"):
        sync_tenant(db, o.tenant, options=ClientOptions(transport=edge, sleep=sleeps, retry=policy))
    assert len(edge.calls) == 4  # bounded: no busy loop
    assert len(sleeps.waits) == 3 and all(w > 0 for w in sleeps.waits)
    for n, wait in enumerate(sleeps.waits):  # exponential, jittered within [half, full]
        ceiling = min(30.0, 0.5 * 2**n)
        assert ceiling / 2 <= wait <= ceiling
    assert _link(db, o.tenant).cursor == cursor

    # busy (503 with Retry-After) twice, then up: the wait asked for is honoured
    busy = {"left": 2}

    def throttled(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/changes") and busy["left"]:
            busy["left"] -= 1
            return httpx.Response(503, headers={"Retry-After": "7"}, json={"status": 503})
        return None

    sleeps = Sleeps()
    report = sync_tenant(
        db,
        o.tenant,
        options=ClientOptions(transport=Edge(before=throttled), sleep=sleeps, retry=policy),
    )
    assert sleeps.waits == [7.0, 7.0]
    assert report.reactions["strike"] == 1 and report.cursor > cursor


def test_a_change_naming_a_person_never_seen_fetches_the_person(live: Office, db: Database) -> None:
    o = live
    family(o)
    o.connect()
    sync_tenant(db, o.tenant)
    (newcomer,) = o.move_in(
        person("赤井", "一", "アカイ", "ハジメ", "1", "昭和50年1月1日", "世帯主")
    )
    assert _replica(db, o.tenant, newcomer) is None

    def ids_only(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if not request.url.path.endswith("/changes"):
            return response
        body: dict[str, Any] = json.loads(response.content)
        for change in body["changes"]:
            change.pop("records", None)  # an older provider: ids only
        return httpx.Response(response.status_code, json=body)

    edge = Edge(after=ids_only)
    report = sync_tenant(db, o.tenant, options=ClientOptions(transport=edge))
    assert report.fetched == 1 and report.ids_only == 0 and report.events == 1
    assert edge.count("/records/residents") == 1
    row = _replica(db, o.tenant, newcomer)
    assert row is not None and row.name == "赤井　一" and not row.gone
    assert row.valid_from == date.fromisoformat(days_ago(3))


def test_the_register_as_of_a_date(live: Office, db: Database) -> None:
    o = live
    moved = o.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "青木", "花子", "アオキ", "ハナコ", "2", "昭和57年12月30日", "世帯主"
                    )
                },
                {
                    "person": person(
                        "青木", "一郎", "アオキ", "イチロウ", "1", "令和5年4月1日", "子"
                    )
                },
            ],
            "address": {**ADDRESS2, "banchi": "1番地"},
            "prior_address": PRIOR,
            "move_date": days_ago(10),
            "notified_date": days_ago(9),
        },
        201,
    )
    household = moved["household_numbers"][0]
    o.ok(
        "/residents/move-within",
        {"household_number": household, "address": ADDRESS2, "move_date": days_ago(2)},
    )
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "税務システム", "scopes": ["residents.changed"]},
        headers=o.admin,
    )
    created = r.json()
    base = str(o.http.base_url).rstrip("/")
    with LinkageClient(base, created["client_id"], created["client_secret"]) as api:

        def banchi_on(day: date | None) -> list[str]:
            pages = list(api.full_pages(as_of=day, limit=1))  # paged: the cursor keeps the day
            return [rec["banchi"] for p in pages for rec in p.records]

        assert banchi_on(date.fromisoformat(days_ago(5))) == ["1番地", "1番地"]
        assert banchi_on(None) == [ADDRESS2["banchi"]] * 2
        assert banchi_on(date.fromisoformat(days_ago(20))) == []  # not yet resident
        # a cursor of one day is refused for another: never a run mixing two days
        first = api.full(None, 1, as_of=date.fromisoformat(days_ago(5)))
        assert first.next_cursor is not None
        with pytest.raises(ResyncRequired):
            api.full(first.next_cursor, 1, as_of=date.fromisoformat(days_ago(1)))
