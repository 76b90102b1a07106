"""`kikan db upgrade`: apply Alembic migrations, then grant the application role its rights."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from kikan.platform.db import make_engine
from kikan.platform.rls import grant_app_role

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(url: str, *, app_role: str | None = None, revision: str = "head") -> bool:
    """Migrate the database at `url` to `revision`. Returns whether the app role is set up."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            granted = grant_app_role(conn, app_role) if app_role else True
        return granted
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_is_current(engine: Engine) -> tuple[bool, str | None, str]:
    """(up to date?, the database's revision, the code's head revision)."""
    with engine.connect() as conn:
        current = (
            MigrationContext.configure(conn).get_current_revision()
            if inspect(conn).has_table("alembic_version")
            else None
        )
    head = head_revision()
    return current == head, current, head


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
