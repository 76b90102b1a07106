"""Fixtures for the linkage layer: a municipality with a clerk, a sysadmin and signed assertions."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kikan.linkage.domain import ASSERTION_TYPE, TOKEN_PATH, sign_hs256
from kikan.platform.crypto import KeyRing
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import bearer, create_staff, create_tenant
from tests.residents.conftest import Clerk


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    keyfile = tmp_path / "mynumber.keys"
    KeyRing.generate_key_file(keyfile, "k1")
    return Settings(var_dir=tmp_path, mynumber_key_file=keyfile)


def assertion(
    client_id: str,
    secret: str,
    *,
    aud: str = TOKEN_PATH,
    exp_in: int = 120,
    jti: str | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": now + exp_in,
        "iat": now,
        "jti": jti or uuid.uuid4().hex,
        **claims,
    }
    return sign_hs256(body, secret)


def token_request(client: TestClient, signed: str, *, as_json: bool = False) -> Any:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    if as_json:
        return client.post("/api/v1/linkage/token", json=data)
    return client.post("/api/v1/linkage/token", data=data)


@dataclass
class Town:
    """One municipality: a clerk for 異動 and a sysadmin who registers linkage clients."""

    client: TestClient
    tenant: str
    clerk: Clerk
    admin: dict[str, str]

    def register(self, scopes: list[str], name: str = "税務システム") -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/linkage/clients", json={"name": name, "scopes": scopes}, headers=self.admin
        )
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def token(self, registered: dict[str, Any]) -> dict[str, str]:
        r = token_request(
            self.client, assertion(registered["client_id"], registered["client_secret"])
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def pull(self, headers: dict[str, str], after: int = 0, limit: int = 100) -> dict[str, Any]:
        r = self.client.get(
            "/api/v1/linkage/changes", params={"after": after, "limit": limit}, headers=headers
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


def make_town(client: TestClient, db: Database, name: str = "日和市") -> Town:
    t = create_tenant(db, name)
    create_staff(db, t, "shinsa", ["counter", "approver"])
    create_staff(db, t, "kanri", ["sysadmin"])
    return Town(
        client, t, Clerk(client, t, bearer(client, t, "shinsa")), bearer(client, t, "kanri")
    )


@pytest.fixture
def town(client: TestClient, db: Database) -> Town:
    return make_town(client, db)
