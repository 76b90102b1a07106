"""Every error a client sees is RFC 9457 problem+json in Japanese, without stack traces or echoes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from kikan.app import UnsafeDatabaseRole, create_app, verify_database_role
from kikan.platform.ids import my_number_check_digit
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import Backend

PROBLEM = "application/problem+json"
MY_NUMBER = "12345678901" + str(my_number_check_digit("12345678901"))


def test_validation_error_names_the_item_and_does_not_echo_input(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/token",
        json={"tenant": "992011", "login_id": ["x"], "password": MY_NUMBER * 30},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"] == "urn:kikan:problem:invalid-input"
    assert body["title"] == "入力内容に誤りがあります。"
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert fields["login_id"] == "文字列で指定してください。"
    assert fields["password"] == "256文字以内で入力してください。"
    assert MY_NUMBER not in r.text


def test_malformed_json_is_a_problem(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "JSON の形式が正しくありません。"


def test_unknown_route_and_method(client: TestClient) -> None:
    r = client.get("/api/v1/nowhere")
    assert (r.status_code, r.headers["content-type"], r.json()["title"]) == (
        404,
        PROBLEM,
        "ページが見つかりません。",
    )
    r = client.delete("/healthz")
    assert r.status_code == 405 and r.json()["type"] == "urn:kikan:problem:http-405"


def test_unexpected_error_hides_the_stack_trace(db: Database, settings: Settings) -> None:
    app = create_app(settings, db)
    boom = APIRouter()

    @boom.get("/boom")
    def _boom() -> None:
        raise KeyError("secret internal detail")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert (
        r.json()["detail"]
        == "システムで予期しないエラーが発生しました。管理者にお問い合わせください。"
    )
    assert len(r.json()["error_id"]) == 12


@pytest.fixture
def unreachable_db() -> Iterator[Database]:
    database = Database(
        "postgresql+psycopg://kikan_app@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 2}
    )
    yield database
    database.dispose()


def test_database_unreachable_is_503(unreachable_db: Database) -> None:
    settings = Settings(allow_rls_bypass=True)
    app = create_app(settings, unreachable_db)
    app.router.lifespan_context = _no_lifespan  # the startup role check would fail first
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["type"] == "urn:kikan:problem:database-unavailable"
        assert "データベースに接続できません" in r.json()["detail"]
        login = c.post(
            "/api/v1/auth/token", json={"tenant": "131016", "login_id": "a", "password": "b"}
        )
        assert login.status_code == 503


from contextlib import asynccontextmanager  # noqa: E402


@asynccontextmanager
async def _no_lifespan(_app: object) -> Iterator[None]:  # type: ignore[misc]
    yield


def test_healthz(client: TestClient, backend: Backend) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == {"sqlite": "sqlite", "postgres": "postgresql"}[backend.name]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_app_refuses_a_role_that_bypasses_rls(postgres_backend: Backend) -> None:
    superuser = Database(postgres_backend.admin_url)
    try:
        with pytest.raises(UnsafeDatabaseRole, match="行レベルセキュリティ"):
            verify_database_role(superuser, Settings())
        verify_database_role(superuser, Settings(allow_rls_bypass=True))
    finally:
        superuser.dispose()
    app_db = Database(postgres_backend.app_url)
    try:
        verify_database_role(app_db, Settings())
    finally:
        app_db.dispose()


def test_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    from kikan.app import SchemaOutdated
    from kikan.platform.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, revision="0002_sequences_outbox")
    old = Database(url)
    try:
        with (
            pytest.raises(SchemaOutdated, match="kikan db upgrade"),
            TestClient(create_app(Settings(var_dir=tmp_path), old)),
        ):
            pass
    finally:
        old.dispose()
