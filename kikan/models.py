"""Every module's tables, imported so that Alembic and the metadata checks see all of them.

The composition root for persistence: the platform's and the UI shell's tables, then each
registered module's stores (`ModuleDescriptor.stores`, in registry order).
"""

from importlib import import_module

from kikan.modules import store_modules
from kikan.platform import store as platform_store
from kikan.web import store as web_store

STORES = [platform_store, web_store, *map(import_module, store_modules())]

__all__ = ["STORES", "platform_store", "web_store"]
