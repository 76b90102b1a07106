"""Shared fixtures: every database test runs on SQLite *and* PostgreSQL.

PostgreSQL tests create their own database (one per test session and xdist worker), migrate it
as the owner and connect the application as the non-superuser role `kikan_app`, exactly as in
production, so row-level security is really in force. If PostgreSQL is unreachable the tests
fail; they never skip (set KIKAN_TEST_BACKENDS=sqlite only for a quick local loop).
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from kikan.models import upgrade
from kikan.platform import audit, auth, tenancy
from kikan.platform.ids import local_government_code_check_digit
from kikan.platform.settings import Settings
from kikan.platform.uow import Database, Scope

PG_ADMIN_URL = os.environ.get(
    "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
APP_ROLE = "kikan_app"
BACKENDS = [b.strip() for b in os.environ.get("KIKAN_TEST_BACKENDS", "sqlite,postgres").split(",")]
PASSWORD = "Test-Password-2026"
TEST_ACTOR = audit.Actor(kind="system", id="pytest")


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Backend:
    name: str
    app_url: str
    admin_url: str  # owner/superuser: for tampering and inspection only


@pytest.fixture(scope="session")
def postgres_backend() -> Iterator[Backend]:
    name = f"kikan_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the test suite and is unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db_admin_url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    assert upgrade(db_admin_url, app_role=APP_ROLE)
    app_url = (
        make_url(db_admin_url)
        .set(username=APP_ROLE, password=None)
        .render_as_string(hide_password=False)
    )
    try:
        yield Backend("postgres", app_url, db_admin_url)
    finally:
        with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    path = tmp_path_factory.mktemp("sqlite") / "kikan.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return Backend("sqlite", url, url)


def _backend_params() -> list[object]:
    params: list[object] = []
    if "sqlite" in BACKENDS:
        params.append("sqlite")
    if "postgres" in BACKENDS:
        params.append(pytest.param("postgres", marks=pytest.mark.postgres))
    return params


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")  # type: ignore[no-any-return]


@pytest.fixture
def db(backend: Backend) -> Iterator[Database]:
    database = Database(backend.app_url)
    yield database
    database.dispose()


@pytest.fixture
def admin_db(backend: Backend) -> Iterator[Database]:
    """A connection as the owner/superuser: bypasses RLS. Only for tampering and inspection."""
    database = Database(backend.admin_url)
    yield database
    database.dispose()


_codes = itertools.count(random.randint(1000, 60000))


def fresh_tenant_code() -> str:
    """A valid, unused 団体コード for one test (prefecture 70–89 is unassigned)."""
    body = f"{70 + next(_codes) % 20:02d}{next(_codes) % 1000:03d}"
    return body + str(local_government_code_check_digit(body))


def create_tenant(db: Database, name: str = "試験市") -> str:
    for _ in range(50):
        code = fresh_tenant_code()
        with db.unit_of_work(Scope.host()) as uow:
            if tenancy.tenant_exists(uow, code):
                continue
            tenancy.create_tenant(uow, TEST_ACTOR, code=code, name=name, mayor_name="試験 太郎")
            uow.commit()
            return code
    raise RuntimeError("no free tenant code")


def create_staff(db: Database, tenant: str, login_id: str, roles: list[str]) -> None:
    with db.unit_of_work(tenant) as uow:
        auth.create_staff(
            uow,
            TEST_ACTOR,
            login_id=login_id,
            display_name=f"{login_id} 職員",
            roles=roles,
            password=PASSWORD,
        )
        uow.commit()


@pytest.fixture
def tenant(db: Database) -> str:
    return create_tenant(db)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, cookie_secure=True, lockout_threshold=5, lockout_minutes=15)


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    from kikan.app import create_app

    app = create_app(settings, db)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def bearer(
    client: TestClient, tenant: str | None, login_id: str, password: str = PASSWORD
) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/token", json={"tenant": tenant, "login_id": login_id, "password": password}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def pg_db(postgres_backend: Backend) -> Iterator[Database]:
    """The application's PostgreSQL connection, for tests of PostgreSQL-only protections."""
    database = Database(postgres_backend.app_url)
    yield database
    database.dispose()
