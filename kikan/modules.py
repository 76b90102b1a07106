"""The module registry: the one list of modules the application, the CLI, the model metadata and
the demo iterate (ADR 0011).

Adding a module = writing its `module.py` descriptor and naming it here (and in the import-linter
independence contract when it is a business module; tests/test_module_registry.py checks both).
Order matters: it is the order of routers (the OpenAPI document), verbs, navigation ties and
demo seeders.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer
from fastapi import APIRouter, FastAPI

from kikan.atena.module import MODULE as ATENA
from kikan.electoral_roll.module import MODULE as ELECTORAL_ROLL
from kikan.fuhyo.module import MODULE as FUHYO
from kikan.juminzei.module import MODULE as JUMINZEI
from kikan.linkage import service as linkage_service
from kikan.linkage.consumer import Consumer
from kikan.linkage.module import MODULE as LINKAGE
from kikan.migration.module import MODULE as MIGRATION
from kikan.platform.functions import Catalogue, platform_table
from kikan.platform.modules import DemoSeed, ModuleDescriptor, NavItem, resolve
from kikan.residents.module import MODULE as RESIDENTS
from kikan.seal.module import MODULE as SEAL

MODULES: tuple[ModuleDescriptor, ...] = (
    RESIDENTS,
    LINKAGE,
    SEAL,
    ATENA,
    FUHYO,
    ELECTORAL_ROLL,
    JUMINZEI,
    MIGRATION,
)


def business_modules() -> tuple[ModuleDescriptor, ...]:
    """The 業務 (with a 業務コード); the others are services they share."""
    return tuple(m for m in MODULES if m.is_business)


def _router(ref: str) -> APIRouter:
    router = resolve(ref)
    if not isinstance(router, APIRouter):
        raise TypeError(f"{ref} is not an APIRouter")
    return router


def include_api_routers(app: FastAPI, modules: Iterable[ModuleDescriptor] = MODULES) -> None:
    for module in modules:
        for ref in module.api_routers:
            app.include_router(_router(ref))


def include_ui_routers(app: FastAPI, modules: Iterable[ModuleDescriptor] = MODULES) -> None:
    for module in modules:
        for ref in module.ui_routers:
            app.include_router(_router(ref))


def nav_items(modules: Iterable[ModuleDescriptor] = MODULES) -> list[NavItem]:
    return [item for module in modules for item in module.nav_items()]


def template_dirs(modules: Iterable[ModuleDescriptor] = MODULES) -> list[Path]:
    return [path for module in modules for path in module.template_dirs()]


def register_linkage_providers(modules: Iterable[ModuleDescriptor] = MODULES) -> None:
    """What each module publishes to 庁内データ連携 (the linkage layer cannot import modules)."""
    for module in modules:
        for provider in module.linkage_providers:
            linkage_service.register_full_provider(
                provider.data_group,
                resolve(provider.page),
                records=resolve(provider.records),
                resource=provider.resource,
                as_of=resolve(provider.page_as_of) if provider.page_as_of else None,
                my_numbers=resolve(provider.my_numbers) if provider.my_numbers else None,
            )


def register_linkage_scopes(modules: Iterable[ModuleDescriptor] = MODULES) -> None:
    """The scopes modules declare for their own provider APIs (`linkage_scopes`), so client
    registration accepts them and listings show their labels (the linkage layer cannot import
    modules). Called wherever clients are registered: the application and the CLI."""
    for module in modules:
        linkage_service.register_scopes(module.scope_labels())


def linkage_consumers(modules: Iterable[ModuleDescriptor] = MODULES) -> list[Consumer]:
    """The modules' 宛名 consumers (the kit's `Consumer`), whose background syncs the server
    runs (`kikan.app`'s lifespan) instead of naming a module."""
    found: list[Consumer] = []
    for module in modules:
        for ref in module.linkage_consumers:
            consumer = resolve(ref)
            if not isinstance(consumer, Consumer):
                raise TypeError(f"{ref} is not a kikan.linkage.consumer.Consumer")
            found.append(consumer)
    return found


def install_cli(app: typer.Typer, modules: Iterable[ModuleDescriptor] = MODULES) -> None:
    """Each module's verbs: a typer sub-app becomes a group, a function a command."""
    for module in modules:
        for verb in module.cli:
            target = resolve(verb.target)
            if isinstance(target, typer.Typer):
                app.add_typer(target, name=verb.name)
            elif callable(target):
                app.command(verb.name)(target)
            else:
                raise TypeError(f"{verb.target} is neither a typer app nor a function")


def demo_seeders(modules: Iterable[ModuleDescriptor] = MODULES) -> list[tuple[str, DemoSeed]]:
    return [(s.label, resolve(s.seed)) for module in modules for s in module.demo_seeders]


def migration_locations(modules: Iterable[ModuleDescriptor] = MODULES) -> list[Path]:
    """The modules' own Alembic version folders (their branches), for `kikan.platform.migrate`."""
    found = (module.migration_location() for module in modules)
    return [location for location in found if location is not None]


def function_catalogue(modules: Iterable[ModuleDescriptor] = MODULES) -> Catalogue:
    """The 機能ID catalogue of the application: the platform's functions and every module's."""
    return Catalogue.merged(platform_table(), *(module.function_table() for module in modules))


def store_modules(modules: Iterable[ModuleDescriptor] = MODULES) -> list[str]:
    return [store for module in modules for store in module.stores]


__all__ = [
    "MODULES",
    "business_modules",
    "demo_seeders",
    "function_catalogue",
    "include_api_routers",
    "include_ui_routers",
    "install_cli",
    "linkage_consumers",
    "migration_locations",
    "nav_items",
    "register_linkage_providers",
    "register_linkage_scopes",
    "store_modules",
    "template_dirs",
]
