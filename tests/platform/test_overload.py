"""Overload: when every pooled connection stays busy, requests get a clear 503, never a 500."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
from fastapi.testclient import TestClient

from kikan.app import create_app
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import Backend


def test_exhausted_pool_answers_503_busy_with_retry_after(backend: Backend, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2)
    db = Database(backend.app_url, **settings.engine_options)
    try:
        with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
            assert client.get("/healthz").status_code == 200
            held = db.engine.connect()  # a long request elsewhere holds the only connection
            try:
                r = client.get("/healthz")
            finally:
                held.close()
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["Retry-After"] == "2"
            assert r.json()["type"] == "urn:kikan:problem:busy"
            assert "混み合って" in r.json()["detail"]
            assert client.get("/healthz").status_code == 200
    finally:
        db.dispose()


def test_worker_threads_never_outnumber_pooled_connections(
    sqlite_backend: Backend, tmp_path: Path
) -> None:
    settings = Settings(var_dir=tmp_path, db_pool_size=3, db_max_overflow=2)
    db = Database(sqlite_backend.app_url, **settings.engine_options)
    try:
        with TestClient(create_app(settings, db)) as client:
            # the limiter belongs to the app's event loop: read it from inside that loop
            tokens = client.portal.call(  # type: ignore[union-attr]
                lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
            )
    finally:
        db.dispose()
    assert tokens == 5
