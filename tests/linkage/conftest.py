"""Fixtures for the linkage layer: a municipality with a clerk, a sysadmin and signed assertions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nats
import pytest
from fastapi.testclient import TestClient

from kikan.linkage.domain import ASSERTION_TYPE, TOKEN_PATH, sign_hs256
from kikan.linkage.push import PushConfig
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
    aud: str | list[str] = TOKEN_PATH,
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


# ---------------------------------------------------------------- NATS JetStream

NATS_URL = os.environ.get("KIKAN_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), 1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The NATS server with JetStream the push tests publish to: KIKAN_TEST_NATS_URL (default
    127.0.0.1:4222), or, if nothing listens there, a private `nats-server -js` on a free port.
    Like PostgreSQL, it is required: the tests fail, never skip, without it."""
    if _reachable(NATS_URL):
        yield NATS_URL
        return
    binary = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )
    if binary is None:
        pytest.fail(f"NATS (JetStream) is required for the push tests: nothing at {NATS_URL}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = tmp_path_factory.mktemp("nats")
    proc = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"nats://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while not _reachable(url):
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("could not start nats-server for the push tests")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def push_config(nats_url: str) -> Iterator[PushConfig]:
    """A stream and subject prefix of this test only; the stream is deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    config = PushConfig(url=nats_url, prefix=f"kikantest{tag}", stream=f"KIKANTEST_{tag}")
    yield config

    async def cleanup() -> None:
        nc = await nats.connect(nats_url)
        try:
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(config.stream)
        finally:
            await nc.close()

    asyncio.run(cleanup())
