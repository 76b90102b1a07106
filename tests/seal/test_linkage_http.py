"""印鑑登録 against the real linkage API over HTTP only (SQLite and PostgreSQL).

The whole application runs under uvicorn on a free local port; the seal's sync reaches it only
through `client_secret_jwt` and the 全件/差分 endpoints, and the 異動 are made through the
residents API over HTTP — exactly as a second vendor's system would see Kikan.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from typer.testing import CliRunner

from kikan.platform.crypto import KeyRing
from kikan.platform.settings import Settings, get_settings
from kikan.platform.uow import Database
from kikan.seal import service
from kikan.seal.store import SealHistoryRow, SealLinkRow, SealRegistrationRow
from kikan.seal.sync import sync_tenant
from tests.conftest import PASSWORD, Backend, create_staff, create_tenant
from tests.residents.conftest import ADDRESS, ADDRESS2, PRIOR, TODAY, days_ago, person
from tests.seal.conftest import png


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    keyfile = tmp_path / "mynumber.keys"
    KeyRing.generate_key_file(keyfile, "k1")
    return Settings(var_dir=tmp_path, mynumber_key_file=keyfile, cookie_secure=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db: Database, settings: Settings) -> Iterator[str]:
    """The real application under uvicorn in a thread; yields its base URL."""
    from kikan.app import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, db), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@dataclass
class Office:
    """One municipality reached over HTTP: a clerk (住民記録 and 印鑑登録) and a sysadmin."""

    http: httpx.Client
    tenant: str
    clerk: dict[str, str]
    admin: dict[str, str]

    def ok(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        r = self.http.post(f"/api/v1{path}", json=body, headers=self.clerk)
        assert r.status_code == status, r.text
        return r.json()  # type: ignore[no-any-return]

    def connect(self) -> None:
        """Register 印鑑登録 as a linkage client through the linkage API; store it in seal."""
        r = self.http.post(
            "/api/v1/linkage/clients",
            json={"name": "印鑑登録システム", "scopes": ["residents.changed", "support_measure"]},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        created = r.json()
        put = self.http.put(
            "/api/v1/seal/linkage",
            json={
                "base_url": str(self.http.base_url).rstrip("/"),
                "client_id": created["client_id"],
                "client_secret": created["client_secret"],
            },
            headers=self.admin,
        )
        assert put.status_code == 200, put.text

    def register_seal(self, atena: str, seal_text: str) -> httpx.Response:
        return self.http.post(
            "/api/v1/seal/registrations",
            json={
                "atena_number": atena,
                "method": "即日登録",
                "identity_document": "個人番号カード",
                "seal_text": seal_text,
                "image_base64": base64.b64encode(png()).decode(),
            },
            headers=self.clerk,
        )

    def move_in(self, *people: dict[str, Any]) -> list[str]:
        body = {
            "movers": [{"person": p} for p in people],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(3),
            "notified_date": days_ago(1),
        }
        return self.ok("/residents/move-in", body, 201)["atena_numbers"]  # type: ignore[no-any-return]

    def move_out(self, atena: str) -> None:
        dest = {
            "address": {
                "prefecture": "大阪府",
                "city": "大阪市北区",
                "town": "梅田",
                "banchi": "1番",
            }
        }
        self.ok(
            "/residents/move-out",
            {
                "atena_numbers": [atena],
                "destination": dest,
                "planned_date": TODAY.isoformat(),
                "notified_date": TODAY.isoformat(),
            },
        )
        self.ok(
            "/residents/move-out/confirm",
            {"atena_numbers": [atena], "moved_date": TODAY.isoformat()},
        )


@pytest.fixture
def office(server: str, db: Database) -> Iterator[Office]:
    tenant = create_tenant(db, "日和市")
    create_staff(db, tenant, "shinsa", ["counter", "approver"])
    create_staff(db, tenant, "kanri", ["sysadmin"])
    with httpx.Client(base_url=server, timeout=30) as http:

        def token(login: str) -> dict[str, str]:
            r = http.post(
                "/api/v1/auth/token",
                json={"tenant": tenant, "login_id": login, "password": PASSWORD},
            )
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        yield Office(http, tenant, token("shinsa"), token("kanri"))


def family(o: Office) -> list[str]:
    return o.move_in(
        person("青木", "太郎", "アオキ", "タロウ", "1", "昭和55年1月7日", "世帯主"),
        person("青木", "花子", "アオキ", "ハナコ", "2", "昭和57年12月30日", "妻"),
        person("青木", "一郎", "アオキ", "イチロウ", "1", "令和5年4月1日", "子"),
    )


def test_move_out_strikes_the_registration(office: Office, db: Database) -> None:
    o = office
    taro, hanako, ichiro = family(o)
    o.connect()
    first = sync_tenant(db, o.tenant)
    assert first.full_records == 3 and first.stopped == ""
    # the replica, not the resident register, decides: a minor is refused
    minor = o.register_seal(ichiro, "一郎")
    assert minor.status_code == 422 and "15歳未満" in minor.json()["detail"]
    reg = o.register_seal(hanako, "花子")
    assert reg.status_code == 201, reg.text
    card = reg.json()["card_number"]
    assert o.http.get(f"/api/v1/seal/cards/{card}", headers=o.clerk).status_code == 200
    cert = {"card_number": card, "requester_kind": "本人", "requester_name": "青木 花子"}
    issued = o.http.post("/api/v1/seal/certificates", json=cert, headers=o.clerk)
    assert issued.status_code == 200 and issued.content.startswith(b"%PDF")

    o.move_out(hanako)
    before = sync_tenant(db, o.tenant)
    assert before.events >= 2 and before.reactions["strike"] == 1

    number = reg.json()["registration_number"]
    after = o.http.get(f"/api/v1/seal/registrations/{number}", headers=o.clerk).json()
    assert after["status"] == "職権抹消" and "転出" in after["end_reason"]
    assert o.http.get(f"/api/v1/seal/cards/{card}", headers=o.clerk).status_code == 409
    refused = o.http.post("/api/v1/seal/certificates", json=cert, headers=o.clerk)
    assert refused.status_code == 409 and "職権抹消" in refused.json()["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    # nothing new: a second sync does nothing and the cursor stays
    again = sync_tenant(db, o.tenant)
    assert again.events == 0 and again.cursor == before.cursor
    assert taro  # untouched


def test_name_change_over_the_feed_opens_a_review(office: Office, db: Database) -> None:
    o = office
    taro, hanako, _ = family(o)
    o.connect()
    sync_tenant(db, o.tenant)
    a = o.register_seal(taro, "青木").json()
    b = o.register_seal(hanako, "花子").json()
    for atena in (taro, hanako):
        r = o.http.post(
            f"/api/v1/residents/{atena}/corrections",
            json={"changes": {"family_name": "蒼木"}, "reason": "誤記修正"},
            headers=o.clerk,
        )
        assert r.status_code == 200, r.text
    report = sync_tenant(db, o.tenant)
    assert report.reactions == {"review": 1, "update": 1}
    reviews = o.http.get("/api/v1/seal/reviews", headers=o.clerk).json()
    assert [r["registration_number"] for r in reviews] == [a["registration_number"]]
    updated = o.http.get(
        f"/api/v1/seal/registrations/{b['registration_number']}", headers=o.clerk
    ).json()
    assert updated["name"] == "蒼木　花子" and updated["status"] == "登録"


def _history(db: Database, tenant: str) -> dict[str, list[tuple[str, int | None]]]:
    with db.unit_of_work(tenant) as uow:
        regs = {r.id: r.atena_number for r in uow.session.scalars(select(SealRegistrationRow))}
        out: dict[str, list[tuple[str, int | None]]] = {}
        for h in uow.session.scalars(select(SealHistoryRow).order_by(SealHistoryRow.id)):
            out.setdefault(regs[h.registration_id], []).append((h.event, h.seq))
        return out


def _cursor(db: Database, tenant: str) -> int:
    with db.unit_of_work(tenant) as uow:
        row = uow.session.scalars(select(SealLinkRow)).one()
        return row.cursor


class Crash(RuntimeError):
    pass


def test_sync_resumes_after_a_crash_without_missing_or_repeating(
    office: Office, db: Database
) -> None:
    o = office
    people = [
        person("青木", given, "アオキ", "タロウ", "1", "昭和50年1月1日", "世帯主")
        for given in ("一", "二", "三", "四", "五", "六")
    ]
    atenas = [o.move_in(p)[0] for p in people]
    o.connect()
    # 全件 in pages of 2, killed after the first page and crashing inside the second
    stopped = sync_tenant(db, o.tenant, full_limit=2, max_pages=1)
    assert stopped.stopped == "max_pages" and stopped.full_records == 2

    def crash_on_second(kind: str, page: int) -> None:
        if page == 0:
            raise Crash(kind)

    with pytest.raises(Crash):
        sync_tenant(db, o.tenant, full_limit=2, before_commit=crash_on_second)
    rest = sync_tenant(db, o.tenant, full_limit=2)
    assert rest.full_records == 4  # 2 + 4 = 6: the crashed page was not kept, nor lost
    for atena, given in zip(atenas, ("一", "二", "三", "四", "五", "六"), strict=True):
        assert o.register_seal(atena, given).status_code == 201
    # many 異動, then a sync that is killed between pages and crashes inside one
    for atena in atenas[:3]:
        o.move_out(atena)
    for atena in atenas[3:]:
        r = o.http.post(
            f"/api/v1/residents/{atena}/corrections",
            json={"changes": {"family_name": "蒼木"}, "reason": "誤記修正"},
            headers=o.clerk,
        )
        assert r.status_code == 200, r.text
    start = _cursor(db, o.tenant)
    one = sync_tenant(db, o.tenant, changes_limit=1, max_pages=2)
    assert one.stopped == "max_pages" and _cursor(db, o.tenant) == start + 2
    pages = {"n": 0}

    def crash_on_third(kind: str, page: int) -> None:
        pages["n"] += 1
        if pages["n"] == 3:
            raise Crash(kind)

    with pytest.raises(Crash):
        sync_tenant(db, o.tenant, changes_limit=1, before_commit=crash_on_third)
    crashed_at = _cursor(db, o.tenant)
    assert crashed_at == start + 4  # two pages kept, the crashed one rolled back
    final = sync_tenant(db, o.tenant, changes_limit=1)
    assert final.stopped == ""
    history = _history(db, o.tenant)
    for atena in atenas[:3]:  # each 転出 struck exactly once
        events = [e for e, _ in history[atena]]
        assert events == ["登録", "職権抹消"], events
    for atena in atenas[3:]:  # the seal shows 名: updated exactly once
        events = [e for e, _ in history[atena]]
        assert events == ["登録", "登録事項変更（職権）"], events
    seqs = [s for h in history.values() for e, s in h if s is not None]
    assert len(seqs) == len(set(seqs)) == 6  # one reaction per event, none twice


def test_cli_connects_through_the_linkage_api_and_syncs(
    office: Office, db: Database, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kikan.cli import app

    o = office
    _, hanako, _ = family(o)
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    monkeypatch.setenv("KIKAN_SEAL_ADMIN_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        base = str(o.http.base_url).rstrip("/")
        connected = runner.invoke(
            app,
            ["seal", "connect", "--tenant", o.tenant, "--base-url", base, "--login-id", "kanri"],
        )
        assert connected.exit_code == 0, connected.output
        synced = runner.invoke(app, ["seal", "sync", "--tenant", o.tenant, "--base-url", base])
        assert synced.exit_code == 0, synced.output
        assert "全件 3件" in synced.output
        with db.unit_of_work(o.tenant) as uow:
            assert service.current_person(uow, hanako) is not None
        unknown = runner.invoke(app, ["seal", "sync", "--tenant", "999999"])
        assert unknown.exit_code == 2
    finally:
        get_settings.cache_clear()


def test_support_measure_before_the_first_sync_is_honoured(office: Office, db: Database) -> None:
    """The 全件 records carry the 支援措置 flag: the first sync protects the person from 全件
    alone (no 差分 replay) and keeps their data inside (only the card holder reaches the
    registration); the end of the measure, seen on a 差分 record, lifts it."""
    o = office
    taro, hanako, ichiro = family(o)
    start = TODAY.replace(day=1)
    measure = o.ok(
        f"/residents/{hanako}/support-measures",
        {"start_date": start.isoformat(), "perpetrators": [{"氏名": "加害 太郎"}]},
        201,
    )["id"]
    o.connect()
    first = sync_tenant(db, o.tenant)
    assert first.full_records == 3
    assert first.events == 0 and first.cursor == 2  # 差分 from as_of_seq: the 転入, the measure
    with db.unit_of_work(o.tenant) as uow:
        assert [service.is_protected(uow, a) for a in (taro, hanako, ichiro)] == [
            False,
            True,
            False,
        ]
    reg = o.register_seal(hanako, "花子")
    assert reg.status_code == 201, reg.text
    number, card = reg.json()["registration_number"], reg.json()["card_number"]
    hidden = o.http.get(f"/api/v1/seal/registrations/{number}", headers=o.clerk)
    assert hidden.status_code == 403 and hidden.json()["type"].endswith("support-measure")
    listed = o.http.get(
        "/api/v1/seal/registrations", params={"atena_number": hanako}, headers=o.clerk
    )
    assert listed.status_code == 403
    assert o.http.get(f"/api/v1/seal/cards/{card}", headers=o.clerk).status_code == 200
    o.ok(f"/residents/{hanako}/support-measures/{measure}/end", {"reason": "申出"})
    lifted = sync_tenant(db, o.tenant)
    assert lifted.events == 1
    shown = o.http.get(f"/api/v1/seal/registrations/{number}", headers=o.clerk)
    assert shown.status_code == 200 and shown.json()["name"] == "青木　花子"


def test_background_sync_in_the_server(db: Database, settings: Settings) -> None:
    """KIKAN_SEAL_SYNC_INTERVAL: the server pulls by itself; a 転出 ends the registration."""
    from kikan.app import create_app
    from kikan.seal.settings import SealSettings

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    live = SealSettings(sync_interval=0.2, linkage_url=base)
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db, module_settings=[live]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        while not srv.started:
            time.sleep(0.05)
        tenant = create_tenant(db, "日和市")
        create_staff(db, tenant, "shinsa", ["counter", "approver"])
        create_staff(db, tenant, "kanri", ["sysadmin"])
        with httpx.Client(base_url=base, timeout=30) as http:
            tokens = {}
            for login in ("shinsa", "kanri"):
                r = http.post(
                    "/api/v1/auth/token",
                    json={"tenant": tenant, "login_id": login, "password": PASSWORD},
                )
                tokens[login] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            o = Office(http, tenant, tokens["shinsa"], tokens["kanri"])
            _, hanako, _ = family(o)
            o.connect()

            def wait_for(check: Any) -> Any:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    if (value := check()) is not None:
                        return value
                    time.sleep(0.1)
                pytest.fail("the background sync did not catch up")

            def registered() -> dict[str, Any] | None:  # once the replica knows 花子
                r = o.register_seal(hanako, "花子")
                return r.json() if r.status_code == 201 else None

            reg = wait_for(registered)
            o.move_out(hanako)
            path = f"/api/v1/seal/registrations/{reg['registration_number']}"

            def struck_off() -> dict[str, Any] | None:
                body: dict[str, Any] = http.get(path, headers=o.clerk).json()
                return body if body["status"] == "職権抹消" else None

            struck = wait_for(struck_off)
            assert "転出" in struck["end_reason"]
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def _certificate_text(o: Office, card: str) -> str:
    """The issued 印鑑登録証明書 read back as text with poppler's pdftotext."""
    body = {"card_number": card, "requester_kind": "本人", "requester_name": "青木 花子"}
    issued = o.http.post("/api/v1/seal/certificates", json=body, headers=o.clerk)
    assert issued.status_code == 200, issued.text
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=issued.content, capture_output=True, check=True
    )
    return "".join(done.stdout.decode("utf-8").split())  # the 住所 cell may wrap


def test_certificate_prints_the_address_and_follows_a_move_within(
    office: Office, db: Database, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 住所 comes over the linkage feed into the replica, the registration and the PDF; a
    転居 in the resident register reaches the next certificate after `kikan seal sync`."""
    from kikan.cli import app

    o = office
    moved = o.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "青木", "花子", "アオキ", "ハナコ", "2", "昭和57年12月30日", "世帯主"
                    )
                }
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(3),
            "notified_date": days_ago(1),
        },
        201,
    )
    hanako, household = moved["atena_numbers"][0], moved["household_numbers"][0]
    o.connect()
    sync_tenant(db, o.tenant)
    with db.unit_of_work(o.tenant) as uow:
        replica = service.person_row(uow, hanako)
        assert replica is not None
        assert (replica.record["prefecture"], replica.record["town"]) == ("架空県", "松町一丁目")
    card = o.register_seal(hanako, "花子").json()["card_number"]
    first = _certificate_text(o, card)
    assert "架空県日和市松町一丁目1番地" in first, first

    o.ok(
        "/residents/move-within",
        {
            "household_number": household,
            "address": {**ADDRESS2, "katagaki": "日和荘101号室"},
            "move_date": days_ago(1),
        },
    )
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    get_settings.cache_clear()
    try:
        base = str(o.http.base_url).rstrip("/")
        synced = CliRunner().invoke(app, ["seal", "sync", "--tenant", o.tenant, "--base-url", base])
        assert synced.exit_code == 0, synced.output
    finally:
        get_settings.cache_clear()
    second = _certificate_text(o, card)
    assert "架空県日和市松町二丁目8番地日和荘101号室" in second, second
    assert "松町一丁目" not in second
    path = f"/api/v1/seal/registrations/{_number_of(db, o.tenant, hanako)}"
    shown = o.http.get(path, headers=o.clerk).json()
    assert shown["address"] == "架空県日和市松町二丁目8番地　日和荘101号室"
    history = o.http.get(f"{path}/history", headers=o.clerk).json()
    assert [h["event"] for h in history].count("登録事項変更（職権）") == 1


def _number_of(db: Database, tenant: str, atena: str) -> int:
    with db.unit_of_work(tenant) as uow:
        reg = uow.session.scalars(
            select(SealRegistrationRow).where(SealRegistrationRow.atena_number == atena)
        ).one()
        return reg.registration_number
