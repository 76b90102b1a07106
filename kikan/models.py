"""Every module's tables, imported so that Alembic and the metadata checks see all of them.

The composition root for persistence: the platform's and the UI shell's tables, then each
registered module's stores (`ModuleDescriptor.stores`, in registry order), and `upgrade`, the
migration of the whole application (the platform chain and every module's own branch).
"""

from importlib import import_module

from kikan.modules import migration_locations, store_modules
from kikan.platform import migrate
from kikan.platform import store as platform_store
from kikan.web import store as web_store

STORES = [platform_store, web_store, *map(import_module, store_modules())]


def upgrade(url: str, *, app_role: str | None = None, revision: str = "heads") -> bool:
    """`kikan.platform.migrate.upgrade` with every registered module's version folder: what
    `kikan db upgrade`, the test databases and the benchmarks need. A caller of the platform
    function alone would miss a module's branch, and Alembic refuses a database it cannot place."""
    return migrate.upgrade(
        url, app_role=app_role, revision=revision, locations=migration_locations()
    )


__all__ = ["STORES", "platform_store", "upgrade", "web_store"]
