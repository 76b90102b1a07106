"""個人番号 over linkage (the `my_number` scope), scopes declared by modules, the provider kit
for modules' own routes, and the consumer kit's handling of received 個人番号.

The standard's 団体内統合宛名 and 名寄せ need residents' 個人番号 inside the マイナンバー利用事務系:
only clients holding `my_number` receive it, every such delivery is audited as My Number
access, and a consumer's replica never keeps it in plain text.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from kikan.app import create_app
from kikan.linkage import service as linkage_service
from kikan.linkage.consumer import PersonChange, apply_change, apply_full, audit_sync
from kikan.linkage.consumer.replica import typed_columns
from kikan.linkage.provider import ClientCallerDep, require_scope
from kikan.modules import MODULES
from kikan.platform.crypto import MyNumber
from kikan.platform.ids import my_number_check_digit
from kikan.platform.modules import ModuleDescriptor
from kikan.platform.settings import Settings, get_settings
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database, UnitOfWork
from kikan.seal.service.replica import CONSUMER as SEAL
from kikan.seal.store import SealPersonRow
from tests.conftest import Backend, create_tenant
from tests.linkage.conftest import Town, assertion, make_town, token_request
from tests.linkage.test_feed import full, protect
from tests.linkage.test_linkage import problem
from tests.residents.conftest import ADDRESS, ADDRESS2, PRIOR, days_ago, person


def _number(body11: str) -> str:
    return body11 + str(my_number_check_digit(body11))


TARO, HANAKO = _number("31234567890"), _number("41234567891")


def numbered_family(town: Town) -> list[str]:
    """A household of three moving in, two of them with a 個人番号 (the child has none)."""
    body = {
        "movers": [
            {
                "person": person(
                    "青木", "太郎", "アオキ", "タロウ", "1", "平成15年1月7日", "世帯主"
                ),
                "my_number": TARO,
            },
            {
                "person": person("青木", "花子", "アオキ", "ハナコ", "2", "平成17年12月30日", "妻"),
                "my_number": HANAKO,
            },
            {"person": person("青木", "一郎", "アオキ", "イチロウ", "1", "令和5年4月1日", "子")},
        ],
        "address": ADDRESS,
        "prior_address": PRIOR,
        "move_date": days_ago(3),
        "notified_date": days_ago(1),
    }
    return town.clerk.ok("/residents/move-in", body, status=201)["atena_numbers"]  # type: ignore[no-any-return]


def _inquiries(db: Database, tenant: str, client_id: str) -> list[AuditRecordRow]:
    with db.unit_of_work(tenant) as uow:
        rows = list(
            uow.session.scalars(
                select(AuditRecordRow)
                .where(AuditRecordRow.actor == client_id)
                .where(AuditRecordRow.action == "inquiry")
                .order_by(AuditRecordRow.seq)
            )
        )
        for row in rows:
            uow.session.expunge(row)
    return rows


# ---------------------------------------------------------------- the provider side


def test_a_my_number_client_receives_numbers_everywhere_and_it_is_audited(
    town: Town, db: Database
) -> None:
    head, wife, child = numbered_family(town)
    reg = town.register(["residents.changed", "my_number"])
    h = town.token(reg)
    expected = {head: TARO, wife: HANAKO, child: ""}

    # 全件, and 全件 as of a day
    page = full(town, h)
    assert {r["atena_number"]: r["my_number"] for r in page["records"]} == expected
    as_of = full(town, h, as_of=days_ago(0))
    assert {r["atena_number"]: r["my_number"] for r in as_of["records"]} == expected
    # records attached to 差分
    change = town.pull(h)["changes"][0]
    assert {r["atena_number"]: r["my_number"] for r in change["records"]} == expected
    # the per-person fetch
    r = town.client.get(
        "/api/v1/linkage/records/residents", params={"atena_number": [head, child]}, headers=h
    )
    assert r.status_code == 200, r.text
    assert {x["atena_number"]: x["my_number"] for x in r.json()["records"]} == {
        head: TARO,
        child: "",
    }

    pulls = _inquiries(db, town.tenant, reg["client_id"])
    assert len(pulls) == 4
    assert all(p.mynumber_accessed for p in pulls)
    assert [p.detail["my_numbers"] for p in pulls] == [2, 2, 2, 1]
    for p in pulls:  # counted, never quoted
        dumped = json.dumps(p.detail, ensure_ascii=False)
        assert TARO not in dumped and HANAKO not in dumped


def test_a_client_without_the_scope_gets_the_item_empty(town: Town, db: Database) -> None:
    head, _wife, _child = numbered_family(town)
    reg = town.register(["residents.changed", "support_measure"])
    h = town.token(reg)
    assert all(r["my_number"] == "" for r in full(town, h)["records"])
    assert all(r["my_number"] == "" for r in town.pull(h)["changes"][0]["records"])
    r = town.client.get(
        "/api/v1/linkage/records/residents", params={"atena_number": [head]}, headers=h
    )
    assert r.json()["records"][0]["my_number"] == ""
    pulls = _inquiries(db, town.tenant, reg["client_id"])
    assert len(pulls) == 3
    assert not any(p.mynumber_accessed for p in pulls)
    assert all("my_numbers" not in p.detail for p in pulls)


def test_the_support_measure_rule_comes_before_the_number(town: Town, db: Database) -> None:
    """A protected person's number never reaches a client that may not see the person."""
    head, wife, _child = numbered_family(town)
    protect(town, wife)
    h = town.token(town.register(["residents.changed", "my_number"]))
    records = full(town, h)["records"]
    assert wife not in {r["atena_number"] for r in records}
    assert HANAKO not in json.dumps(records)
    assert {r["atena_number"]: r["my_number"] for r in records}[head] == TARO


def test_without_a_key_a_my_number_client_is_refused_clearly(
    town: Town, db: Database, tmp_path: Path
) -> None:
    head, _wife, _child = numbered_family(town)
    with_numbers = town.register(["residents.changed", "my_number"])
    without = town.register(["residents.changed"])
    keyless = create_app(Settings(var_dir=tmp_path / "keyless"), db)
    with TestClient(keyless, base_url="https://testserver", raise_server_exceptions=False) as c:
        assert keyless.state.keyring is None

        def bearer(reg: dict[str, Any]) -> dict[str, str]:
            r = token_request(c, assertion(reg["client_id"], reg["client_secret"]))
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        h = bearer(with_numbers)
        for path, params in (
            ("/api/v1/linkage/full/residents", {}),
            ("/api/v1/linkage/full/residents", {"as_of": days_ago(0)}),
            ("/api/v1/linkage/changes", {}),
            ("/api/v1/linkage/records/residents", {"atena_number": [head]}),
        ):
            body = problem(c.get(path, params=params, headers=h), 409)
            assert body["type"] == "urn:kikan:problem:keyring-missing", path
            assert "暗号鍵が設定されていない" in body["detail"]
        # others are served as before
        plain = c.get("/api/v1/linkage/full/residents", headers=bearer(without))
        assert plain.status_code == 200 and len(plain.json()["records"]) == 3
    assert _inquiries(db, town.tenant, with_numbers["client_id"]) == []


# ---------------------------------------------------------------- scopes declared by modules

#: what a module's descriptor names (`linkage_scopes`)
WIDGET_SCOPES = {"widget.read": "試験業務の照会（試験用）"}

widget_router = APIRouter(prefix="/api/v1/widget", tags=["試験"])


@widget_router.get("/whoami", summary="連携クライアントの確認（試験用）")
def whoami(caller: ClientCallerDep) -> dict[str, Any]:
    require_scope(caller, "widget.read")
    return {
        "tenant": caller.tenant,
        "client_id": caller.client_id,
        "scopes": sorted(caller.scopes),
        "actor": [caller.actor().kind, caller.actor().id],
        "frozen": dataclasses.is_dataclass(caller),
    }


WIDGET = ModuleDescriptor(
    name="widget",
    title="試験業務",
    package="tests.linkage",
    api_routers=("tests.linkage.test_my_number:widget_router",),
    linkage_scopes="tests.linkage.test_my_number:WIDGET_SCOPES",
)


@pytest.fixture
def module_scopes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The linkage layer's module scopes for this test only (they are process-wide)."""
    monkeypatch.setattr(linkage_service, "_MODULE_SCOPES", {})
    yield


@pytest.fixture
def widget_town(db: Database, settings: Settings, module_scopes: None) -> Iterator[Town]:
    app = create_app(settings, db, registry=(*MODULES, WIDGET))
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield make_town(c, db)


def test_a_module_scope_is_accepted_at_registration_and_listed_with_its_label(
    widget_town: Town,
) -> None:
    t = widget_town
    reg = t.register(["residents.changed", "widget.read"])
    assert reg["scopes"] == ["residents.changed", "widget.read"]
    listed = t.client.get("/api/v1/linkage/clients", headers=t.admin).json()
    assert listed[0]["scope_labels"] == {
        "residents.changed": "住民記録の異動",
        "widget.read": "試験業務の照会（試験用）",
    }
    refused = t.client.post(
        "/api/v1/linkage/clients",
        json={"name": "x", "scopes": ["residents.changed", "widget.write"]},
        headers=t.admin,
    )
    body = problem(refused, 422)
    assert "widget.read" in body["detail"] and "my_number" in body["detail"]


def test_module_scopes_are_checked_when_registered(module_scopes: None) -> None:
    linkage_service.register_scopes(WIDGET_SCOPES)
    linkage_service.register_scopes(WIDGET_SCOPES)  # idempotent: apps are built repeatedly
    for bad in (
        {"my_number": "奪う"},  # the linkage layer's own
        {"Widget Read": "空白"},  # stored comma-, sent space-separated
        {"widget.read": "別の説明"},  # declared twice differently
        {"widget.other": " "},  # no label
    ):
        with pytest.raises(ValueError):
            linkage_service.register_scopes(bad)


def test_the_cli_accepts_and_labels_module_scopes(
    town: Town, backend: Backend, monkeypatch: pytest.MonkeyPatch, module_scopes: None
) -> None:
    from kikan.cli import app

    linkage_service.register_scopes(WIDGET_SCOPES)
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        scopes = runner.invoke(app, ["linkage", "client", "scopes"])
        assert scopes.exit_code == 0, scopes.output
        assert "my_number" in scopes.output and "widget.read" in scopes.output
        made = runner.invoke(
            app,
            ["linkage", "client", "create", "--tenant", town.tenant, "--name", "試験",
             "--scope", "residents.changed", "--scope", "widget.read", "--json"],
        )  # fmt: skip
        assert made.exit_code == 0, made.output
        assert json.loads(made.stdout)["scopes"] == ["residents.changed", "widget.read"]
        bad = runner.invoke(
            app,
            ["linkage", "client", "create", "--tenant", town.tenant, "--name", "試験",
             "--scope", "residents.changed", "--scope", "widget.write"],
        )  # fmt: skip
        assert bad.exit_code == 2 and "指定できない連携範囲" in bad.output
    finally:
        get_settings.cache_clear()


# ---------------------------------------------------------------- the provider kit


def test_the_provider_kit_authenticates_module_routes(widget_town: Town) -> None:
    t = widget_town
    url = "/api/v1/widget/whoami"
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nonsense"}):
        r = t.client.get(url, headers=headers)
        problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
    # a token of the right shape for this 団体, but never issued (or expired and purged)
    r = t.client.get(url, headers={"Authorization": f"Bearer {t.tenant}.{'x' * 43}"})
    assert problem(r, 401)["type"] == "urn:kikan:problem:invalid-token"

    entitled = t.register(["residents.changed", "widget.read"])
    entitled_token = t.token(entitled)
    r = t.client.get(url, headers=entitled_token)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "tenant": t.tenant,
        "client_id": entitled["client_id"],
        "scopes": ["residents.changed", "widget.read"],
        "actor": ["client", entitled["client_id"]],
        "frozen": True,
    }

    other = t.register(["residents.changed"])
    body = problem(t.client.get(url, headers=t.token(other)), 403)
    assert body["type"] == "urn:kikan:problem:scope-missing"
    assert "試験業務の照会（試験用）" in body["detail"] and "widget.read" in body["detail"]

    # a disabled client's token stops at once
    t.client.post(f"/api/v1/linkage/clients/{entitled['client_id']}/disable", headers=t.admin)
    problem(t.client.get(url, headers=entitled_token), 401)


# ---------------------------------------------------------------- the consumer kit


@dataclasses.dataclass
class Seen:
    changes: list[PersonChange] = dataclasses.field(default_factory=list)

    def __call__(self, uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
        self.changes.extend(changes)
        return ()


def _record(atena: str, number: str, family: str = "青木") -> dict[str, str]:
    return {
        "atena_number": atena,
        "my_number": number,
        "family_name": family,
        "given_name": "太郎",
        "birth_date": "H15-01-07",
        "sex": "1",
        "status": "10",
        "prefecture": "架空県",
        "city": "日和市",
        "support_measure": "0",
    }


def test_the_kit_never_stores_my_number_and_hands_it_to_react(
    db: Database, backend: Backend
) -> None:
    tenant = create_tenant(db)
    seen = Seen()
    consumer = dataclasses.replace(
        SEAL, react=seen, scopes=("residents.changed", "support_measure", "my_number")
    )
    assert "my_number" not in SEAL.scopes  # seal itself never asks for it
    with db.unit_of_work(tenant) as uow:
        applied = apply_full(uow, consumer, [_record("100001", TARO), _record("100002", "")])
        audit_sync(uow, consumer, applied, kind="全件", records=2)
        later = apply_change(
            uow,
            consumer,
            seq=5,
            topic="residents.changed",
            payload={"atena_numbers": ["100001"], "valid_from": days_ago(0)},
            records=[_record("100001", TARO, family="赤井")],
        )
        audit_sync(uow, consumer, later, kind="差分", after=0, next_cursor=5)
        uow.commit()

    first, second, changed = seen.changes
    assert first.my_number == MyNumber(TARO) and second.my_number is None
    assert changed.my_number == MyNumber(TARO) and changed.kind == "差分"
    for c in seen.changes:  # the records handed over do not carry it either
        assert c.record is not None and "my_number" not in c.record
        assert c.before is None or "my_number" not in c.before
        assert TARO not in repr(c) and TARO not in str(c)
    assert "my_number" not in typed_columns(_record("100001", TARO))

    with db.unit_of_work(tenant) as uow:
        rows = uow.session.scalars(select(SealPersonRow).order_by(SealPersonRow.atena_number))
        stored = {r.atena_number: dict(r.record) for r in rows}
        raw = [
            str(v) for v in uow.session.execute(text("SELECT record FROM seal_persons")).scalars()
        ]
    assert stored["100001"]["family_name"] == "赤井"
    assert all("my_number" not in r for r in stored.values())
    assert raw and not any(TARO in r for r in raw)

    with db.unit_of_work(tenant) as uow:
        syncs = list(
            uow.session.scalars(
                select(AuditRecordRow)
                .where(AuditRecordRow.action == "batch.update")
                .order_by(AuditRecordRow.seq)
            )
        )
        assert [s.mynumber_accessed for s in syncs] == [True, True]
        assert [s.detail.get("my_numbers") for s in syncs] == [1, 1]
        assert not any(TARO in json.dumps(s.detail) for s in syncs)


def test_a_malformed_number_is_dropped_and_counted_never_quoted(db: Database) -> None:
    tenant = create_tenant(db)
    seen = Seen()
    consumer = dataclasses.replace(SEAL, react=seen)
    bad = TARO[:-1] + str((int(TARO[-1]) + 1) % 10)  # wrong check digit
    with db.unit_of_work(tenant) as uow:
        applied = apply_full(uow, consumer, [_record("100001", bad)])
        uow.commit()
    assert seen.changes[0].my_number is None
    assert (applied.my_numbers, applied.bad_my_numbers) == (0, 1)


def test_a_my_number_client_sees_a_changed_address_with_its_number(town: Town) -> None:
    """差分 of a later 異動 carries the (unchanged) number with the new record."""
    head, _wife, _child = numbered_family(town)
    h = town.token(town.register(["residents.changed", "my_number"]))
    first = town.pull(h)
    household = town.clerk.resident(head)["snapshot"]["household_number"]
    town.clerk.ok(
        "/residents/move-within",
        {"household_number": household, "address": ADDRESS2, "move_date": days_ago(0)},
    )
    later = town.pull(h, after=first["next_cursor"])["changes"][0]
    assert {r["atena_number"]: r["my_number"] for r in later["records"]}[head] == TARO
