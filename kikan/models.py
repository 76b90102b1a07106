"""Every module's tables, imported so that Alembic and the metadata checks see all of them.

The composition root for persistence: only this module, `kikan.app` and the CLI know every module.
"""

from kikan.linkage import store as linkage_store
from kikan.migration import store as migration_store
from kikan.platform import store as platform_store
from kikan.residents import store as residents_store
from kikan.seal import store as seal_store
from kikan.web import store as web_store

__all__ = [
    "linkage_store",
    "migration_store",
    "platform_store",
    "residents_store",
    "seal_store",
    "web_store",
]
