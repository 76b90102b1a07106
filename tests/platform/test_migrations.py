"""Migrations: valid on both backends, and the models match what the migrations build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kikan.platform.db import Base
from kikan.platform.migrate import current_revision, upgrade
from kikan.platform.uow import Database
from tests.conftest import Backend


def test_models_match_migrations(backend: Backend) -> None:
    database = Database(backend.admin_url)
    try:
        with database.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        database.dispose()
    assert diffs == []


def test_upgrade_is_idempotent_and_reports_revision(backend: Backend) -> None:
    before = current_revision(backend.admin_url)
    assert before is not None
    upgrade(backend.admin_url)
    assert current_revision(backend.admin_url) == before
