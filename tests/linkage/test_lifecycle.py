"""Client lifecycle: rotating a secret, disabling a client, purging used jti and old tokens —
over HTTP and through the `kikan linkage` CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kikan.linkage.store import LinkageJtiRow, LinkageTokenRow
from kikan.platform.db import utcnow
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.conftest import Backend
from tests.linkage.conftest import Town, assertion, make_town, token_request
from tests.linkage.test_linkage import problem
from tests.platform.test_cli import run


def test_rotating_a_secret_ends_the_old_one_and_its_tokens(town: Town, db: Database) -> None:
    reg = town.register(["residents.changed"])
    old_token = town.token(reg)
    r = town.client.post(
        f"/api/v1/linkage/clients/{reg['client_id']}/rotate-secret", headers=town.admin
    )
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["client_id"] == reg["client_id"]
    assert rotated["client_secret"] != reg["client_secret"]
    # the old secret no longer signs valid assertions; the token it minted is revoked
    refused = problem(token_request(town.client, assertion(reg["client_id"], reg["client_secret"])))
    assert refused["reason"] == "bad_signature"
    problem(town.client.get("/api/v1/linkage/changes", headers=old_token))
    town.pull(town.token(rotated))
    with db.unit_of_work(town.tenant) as uow:
        functions = [r.function for r in uow.session.scalars(select(AuditRecordRow))]
        assert "庁内データ連携（共有鍵の更新）" in functions


def test_disabling_a_client_stops_it_at_once(town: Town) -> None:
    reg = town.register(["residents.changed"])
    h = town.token(reg)
    r = town.client.post(f"/api/v1/linkage/clients/{reg['client_id']}/disable", headers=town.admin)
    assert r.status_code == 200 and r.json()["active"] is False
    problem(town.client.get("/api/v1/linkage/changes", headers=h))
    body = problem(token_request(town.client, assertion(reg["client_id"], reg["client_secret"])))
    assert body["reason"] == "unknown_client"
    listed = town.client.get("/api/v1/linkage/clients", headers=town.admin).json()
    assert [c["active"] for c in listed] == [False]
    # a disabled client's secret cannot be rotated back to life
    again = town.client.post(
        f"/api/v1/linkage/clients/{reg['client_id']}/rotate-secret", headers=town.admin
    )
    problem(again, 409)


def test_lifecycle_needs_sysadmin_and_a_known_client(town: Town) -> None:
    reg = town.register(["residents.changed"])
    problem(
        town.client.post(
            f"/api/v1/linkage/clients/{reg['client_id']}/disable", headers=town.clerk.h
        ),
        403,
    )
    problem(
        town.client.post(
            f"/api/v1/linkage/clients/{town.tenant}{'0' * 26}/rotate-secret", headers=town.admin
        ),
        404,
    )


def test_another_tenants_admin_cannot_touch_a_client(client: object, db: Database) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    a = make_town(client, db, "甲市")
    b = make_town(client, db, "乙市")
    reg = a.register(["residents.changed"])
    problem(
        client.post(f"/api/v1/linkage/clients/{reg['client_id']}/disable", headers=b.admin), 404
    )
    a.pull(a.token(reg))


@pytest.fixture
def cli_env(backend: Backend, tmp_path: Path) -> dict[str, str]:
    return {
        "KIKAN_VAR_DIR": str(tmp_path),
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_MIGRATION_DATABASE_URL": backend.admin_url,
    }


def test_cli_client_create_answers_json_for_scripts(town: Town, cli_env: dict[str, str]) -> None:
    """Issue 14, item 15: scripts that automate the registration had to scrape Japanese text."""
    import json

    created = run(
        cli_env, "linkage", "client", "create", "--tenant", town.tenant, "--name", "印鑑登録",
        "--scope", "residents.changed", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)  # the whole of stdout is one JSON document
    assert body["tenant"] == town.tenant and body["name"] == "印鑑登録"
    assert body["scopes"] == ["residents.changed"]
    ok = token_request(town.client, assertion(body["client_id"], body["client_secret"]))
    assert ok.status_code == 200, ok.text


def test_cli_client_verbs_and_purge(town: Town, db: Database, cli_env: dict[str, str]) -> None:
    created = run(
        cli_env, "linkage", "client", "create", "--tenant", town.tenant, "--name", "印鑑登録",
        "--scope", "residents.changed",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    lines = dict(
        line.strip().split(maxsplit=1)
        for line in created.stdout.splitlines()
        if line.strip().startswith(("クライアントID", "共有鍵 "))
    )
    client_id, secret = lines["クライアントID"], lines["共有鍵"]
    ok = token_request(town.client, assertion(client_id, secret))
    assert ok.status_code == 200, ok.text

    listed = run(cli_env, "linkage", "client", "list", "--tenant", town.tenant)
    assert listed.returncode == 0 and client_id in listed.stdout and "利用中" in listed.stdout

    rotated = run(cli_env, "linkage", "client", "rotate", "--tenant", town.tenant, client_id)
    assert rotated.returncode == 0, rotated.stderr
    assert "共有鍵を更新しました" in rotated.stdout
    assert token_request(town.client, assertion(client_id, secret)).status_code == 401

    unknown = run(cli_env, "linkage", "client", "disable", "--tenant", town.tenant, "nobody")
    assert unknown.returncode == 2 and "登録されていません" in unknown.stderr
    disabled = run(cli_env, "linkage", "client", "disable", "--tenant", town.tenant, client_id)
    assert disabled.returncode == 0, disabled.stderr
    assert "停止" in run(cli_env, "linkage", "client", "list", "--tenant", town.tenant).stdout

    # purge: expired jti and tokens go, live ones stay
    reg = town.register(["residents.changed"])
    town.token(reg)
    town.token(reg)
    with db.unit_of_work(town.tenant) as uow:
        token = uow.session.scalars(select(LinkageTokenRow)).first()
        jti = uow.session.scalars(select(LinkageJtiRow)).first()
        assert token is not None and jti is not None
        token.expires_at = utcnow() - timedelta(seconds=1)
        jti.expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    with db.unit_of_work(town.tenant) as uow:
        before = (
            uow.session.scalar(select(func.count()).select_from(LinkageTokenRow)),
            uow.session.scalar(select(func.count()).select_from(LinkageJtiRow)),
        )
    purged = run(cli_env, "linkage", "purge")
    assert purged.returncode == 0, purged.stderr
    assert "削除しました" in purged.stdout
    with db.unit_of_work(town.tenant) as uow:
        after = (
            uow.session.scalar(select(func.count()).select_from(LinkageTokenRow)),
            uow.session.scalar(select(func.count()).select_from(LinkageJtiRow)),
        )
    assert before[0] is not None and before[1] is not None and before[0] >= 2
    assert after == (before[0] - 1, before[1] - 1)


def test_cli_push_without_nats_url_says_so(cli_env: dict[str, str]) -> None:
    r = run({**cli_env, "KIKAN_NATS_URL": ""}, "linkage", "push", "--once")
    assert r.returncode == 2 and "KIKAN_NATS_URL" in r.stderr
