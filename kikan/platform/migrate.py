"""`kikan db upgrade`: apply Alembic migrations, then grant the application role its rights.

Why several version locations: the platform chain (kikan/migrations/versions) is linear and
stays so, but a module added after ADR 0011's addendum keeps its revisions in its own folder, on
its own Alembic branch (labelled with the module's name, `depends_on` the platform revision it
needs). The platform knows no module: the composition root (`kikan.modules.migration_locations`)
hands the folders in, and every function here upgrades or compares *all* heads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from kikan.platform.db import make_engine
from kikan.platform.rls import grant_app_role

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
PLATFORM_VERSIONS = MIGRATIONS_DIR / "versions"


def alembic_config(locations: Iterable[Path] = ()) -> Config:
    """The platform chain plus each module's own version folder (duplicates ignored: a folder
    read twice would make Alembic see every revision twice)."""
    folders: list[Path] = [PLATFORM_VERSIONS]
    for location in locations:
        folder = Path(location).resolve()
        if folder not in folders:
            folders.append(folder)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(f) for f in folders))
    return cfg


def upgrade(
    url: str,
    *,
    app_role: str | None = None,
    revision: str = "heads",
    locations: Iterable[Path] = (),
) -> bool:
    """Migrate the database at `url` to `revision` ("heads": every branch, the platform's and
    each module's). Returns whether the app role is set up."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(locations)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            granted = grant_app_role(conn, app_role) if app_role else True
        return granted
    finally:
        engine.dispose()


def head_revisions(locations: Iterable[Path] = ()) -> tuple[str, ...]:
    """The newest revision of each branch this code knows, sorted."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config(locations)).get_heads()))


def head_revision(locations: Iterable[Path] = ()) -> str:
    """The heads as one label ("a, b" when modules have branches of their own)."""
    return ", ".join(head_revisions(locations))


def _current_heads(conn: Connection) -> tuple[str, ...]:
    if not inspect(conn).has_table("alembic_version"):
        return ()
    return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def schema_is_current(
    engine: Engine, locations: Iterable[Path] = ()
) -> tuple[bool, str | None, str]:
    """(every branch at its head?, the database's revisions, the code's heads) — revisions as
    one label each, "a, b" when there are several.

    Not a comparison of the two sets: Alembic stores the fewest revisions that imply the rest,
    so a module branch that `depends_on` the platform head stands for both. The schema is
    current when the database's revisions and their ancestors (dependencies included) reach
    every head, and the code knows each of them."""
    with engine.connect() as conn:
        current = _current_heads(conn)
    script = ScriptDirectory.from_config(alembic_config(locations))
    heads = tuple(sorted(script.get_heads()))
    label = ", ".join(current) or None
    known = {r.revision for r in script.walk_revisions()}
    if not current or not set(current) <= known:
        return False, label, ", ".join(heads)
    reached = {r.revision for r in script.revision_map.iterate_revisions(current, "base")}
    return set(heads) <= reached, label, ", ".join(heads)


def current_revisions(url: str) -> tuple[str, ...]:
    """The revision each branch of the database at `url` is at (empty: never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return _current_heads(conn)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    return ", ".join(current_revisions(url)) or None
