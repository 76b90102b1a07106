"""Migrations: valid on both backends, and the models match what the migrations build."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from kikan.models import upgrade as upgrade_application
from kikan.platform.db import Base
from kikan.platform.migrate import (
    current_revision,
    current_revisions,
    head_revision,
    schema_is_current,
    upgrade,
)
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
    upgrade_application(backend.admin_url)
    assert current_revision(backend.admin_url) == before


BRANCH_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "probe_0001"
down_revision = None
branch_labels = ("probe",)
depends_on = "{platform_head}"


def upgrade() -> None:
    op.create_table("probe_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("probe_things")
"""


def test_a_module_branch_is_upgraded_and_checked_with_the_platform_heads(tmp_path: Path) -> None:
    """A module's own version folder is a second head: `upgrade` applies both, and the schema is
    current only when the database is at every head the code knows."""
    platform_head = head_revision()
    folder = tmp_path / "probe_versions"
    folder.mkdir()
    (folder / "probe_0001.py").write_text(
        BRANCH_REVISION.format(platform_head=platform_head), encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'branches.db'}"

    upgrade(url)  # the platform chain only: the branch is unknown here
    engine = create_engine(url)
    try:
        ok, current, heads = schema_is_current(engine, [folder])
        assert not ok and current == platform_head
        assert heads == ", ".join(sorted([platform_head, "probe_0001"]))

        upgrade(url, locations=[folder, folder])  # a folder named twice is read once
        # Alembic keeps the fewest revisions: the branch depends on the platform head
        assert current_revisions(url) == ("probe_0001",)
        assert schema_is_current(engine, [folder])[0]
        assert inspect(engine).has_table("probe_things")
        # code that does not know the branch does not pass a database that has it as current
        assert not schema_is_current(engine)[0]
        upgrade(url, locations=[folder])  # idempotent with several heads
        assert current_revisions(url) == ("probe_0001",)
    finally:
        engine.dispose()


def test_the_application_upgrade_includes_every_registered_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kikan db upgrade` and the test databases migrate through `kikan.models.upgrade`: a
    registered module's branch must be applied there, not only by callers that remember it."""
    import kikan.models

    folder = tmp_path / "probe_versions"
    folder.mkdir()
    (folder / "probe_0001.py").write_text(
        BRANCH_REVISION.format(platform_head=head_revision()), encoding="utf-8"
    )
    monkeypatch.setattr(kikan.models, "migration_locations", lambda: [folder])
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade_application(url)
    assert current_revisions(url) == ("probe_0001",)
