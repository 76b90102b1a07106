"""The module protocol: what a business module (or a service) hands the composition root.

Why one descriptor per module: before it, a module was wired in four ways (router includes in
`kikan.app`, verbs in `kikan.cli`, import-time `add_nav`/`add_templates`/`register_seeder`,
hand edits in `kikan.models`). Now each module exports exactly one `ModuleDescriptor` (as
`MODULE` in `<package>/module.py`) and the composition root (`kikan.modules.MODULES`) iterates
them. Nothing registers itself on import.

Why references are text (`"package.module:attribute"`): the CLI imports every descriptor to
build `kikan --help`; naming a router or a settings class must not import FastAPI or the
module's pages. `resolve` imports a reference when the application, the CLI or the demo needs
it, and tests/test_module_registry.py resolves every one, so a typo fails there, not in
production. The platform knows no module by name: it only defines the shape (ADR 0011).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic_settings import BaseSettings

from kikan.platform.functions import Catalogue, table

if TYPE_CHECKING:
    from kikan.platform.crypto import KeyRing
    from kikan.platform.uow import Database

#: "package.module:attribute", imported only when needed (see `resolve`)
Ref = str

#: adds demo data to the demo tenant through the module's own use cases; returns a count
DemoSeed = Callable[["Database", str, "KeyRing | None"], int]

S = TypeVar("S", bound=BaseSettings)


@dataclass(frozen=True)
class NavItem:
    """One entry of the global navigation. `roles` empty = every staff member; "operator" =
    host operators. `accesskey` is shown on screen next to the label (spec 2.3.2)."""

    label: str
    href: str
    roles: tuple[str, ...] = ()
    accesskey: str = ""
    order: int = 100


@dataclass(frozen=True)
class CliVerb:
    """A top-level `kikan` verb: `target` is a typer sub-app (a group) or a function (a command)."""

    name: str
    target: Ref


@dataclass(frozen=True)
class LinkageProvider:
    """A 全件 (連携区分 1) data group the module publishes to 庁内データ連携: the linkage layer
    cannot import modules, so the composition root registers these with it."""

    data_group: str
    resource: str
    page: Ref
    records: Ref
    #: the 全件 reader "as of a valid date" (`GET /full/{resource}?as_of=`), if the module
    #: can answer it from its history
    page_as_of: Ref | None = None
    #: the 個人番号 reader `(uow, keyring, keys) -> {key: 12 digits}` for clients holding the
    #: `my_number` scope (マイナンバー利用事務系 only); None: the group never publishes 個人番号
    my_numbers: Ref | None = None


@dataclass(frozen=True)
class DemoSeeder:
    """Demo data of one kind (`label` is printed by `kikan demo` with the count)."""

    label: str
    seed: Ref


@dataclass(frozen=True)
class ModuleDescriptor:
    """Everything the composition root needs to know about one module, and nothing else.

    `gyomu_code` is the 業務コード of the national standard (e.g. "001" 住民記録); a package
    without one is a *service* that modules share (庁内データ連携, 移行) rather than a 業務.
    """

    name: str
    title: str
    package: str
    gyomu_code: str | None = None
    api_routers: tuple[Ref, ...] = ()
    ui_routers: tuple[Ref, ...] = ()
    #: each resolves to one NavItem or an iterable of them (declared next to their pages)
    nav: tuple[Ref, ...] = ()
    #: template directories relative to `package` (module templates extend `base.html`)
    templates: tuple[str, ...] = ()
    cli: tuple[CliVerb, ...] = ()
    #: modules defining ORM tables, imported for the metadata (Alembic, checks)
    stores: tuple[str, ...] = ()
    #: a pydantic-settings class with the `KIKAN_<MODULE>_` prefix
    settings: Ref | None = None
    #: the module's own Alembic version folder, relative to `package` (e.g. "migrations"):
    #: its revisions form the branch labelled `name`, whose first revision `depends_on` the
    #: platform revision it needs. None: the module's tables live on the platform chain
    #: (modules older than ADR 0011's addendum).
    migrations: str | None = None
    linkage_providers: tuple[LinkageProvider, ...] = ()
    #: resolves to a `Mapping[str, str]` (scope → Japanese label): entitlements a linkage client
    #: may be given for the module's own provider API (checked with
    #: `kikan.linkage.provider.require_scope`); registered with the linkage layer by the
    #: composition root, since the linkage layer names no module
    linkage_scopes: Ref | None = None
    #: each resolves to a `kikan.linkage.consumer.Consumer`: the module keeps a 宛名 replica
    #: through the linkage-consumer kit, and the server runs its background sync when the
    #: module's settings set `sync_interval` (ADR 0012)
    linkage_consumers: tuple[Ref, ...] = ()
    demo_seeders: tuple[DemoSeeder, ...] = ()
    #: the module's 機能ID catalogue, a TOML file relative to `package` (e.g. "functions.toml"):
    #: every function its routes declare and its use cases audit (ADR 0014)
    functions: str | None = None

    @property
    def is_business(self) -> bool:
        return self.gyomu_code is not None

    def template_dirs(self) -> list[Path]:
        root = resources.files(self.package)
        return [Path(str(root.joinpath(t))) for t in self.templates]

    def migration_location(self) -> Path | None:
        if self.migrations is None:
            return None
        return Path(str(resources.files(self.package).joinpath(self.migrations)))

    def function_table(self) -> Catalogue:
        """The module's functions (read once per process); empty without a file."""
        if self.functions is None:
            return Catalogue()
        return table(self.package, self.functions, self.name, self.gyomu_code)

    def nav_items(self) -> list[NavItem]:
        items: list[NavItem] = []
        for ref in self.nav:
            found = resolve(ref)
            group = [found] if isinstance(found, NavItem) else list(found)
            if not all(isinstance(i, NavItem) for i in group):
                raise TypeError(f"{ref} is not a NavItem or an iterable of NavItem")
            items.extend(group)
        return items

    def scope_labels(self) -> dict[str, str]:
        """The linkage scopes the module declares (empty without `linkage_scopes`)."""
        if self.linkage_scopes is None:
            return {}
        found = resolve(self.linkage_scopes)
        if not isinstance(found, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in found.items()
        ):
            raise TypeError(f"{self.linkage_scopes} is not a mapping of scope to label")
        return dict(found)

    def settings_class(self) -> type[BaseSettings] | None:
        if self.settings is None:
            return None
        cls = resolve(self.settings)
        if not (isinstance(cls, type) and issubclass(cls, BaseSettings)):
            raise TypeError(f"{self.settings} is not a pydantic-settings class")
        return cls


def resolve(ref: Ref) -> Any:
    """Import `"package.module:attribute"` and return the attribute."""
    module_name, sep, attribute = ref.partition(":")
    if not sep or not attribute:
        raise ValueError(f"{ref!r} is not 'package.module:attribute'")
    target: Any = import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def build_settings(
    modules: Iterable[ModuleDescriptor], overrides: Iterable[BaseSettings] = ()
) -> dict[type[BaseSettings], BaseSettings]:
    """Each module's settings, read from the environment unless a caller (a test) gives one."""
    given = {type(s): s for s in overrides}
    out: dict[type[BaseSettings], BaseSettings] = {}
    for module in modules:
        cls = module.settings_class()
        if cls is not None:
            out[cls] = given.get(cls) or cls()
    return out


def settings_for(state: Any, cls: type[S]) -> S:
    """A module's settings as the application was built with (`app.state.module_settings`);
    read from the environment when the module runs outside such an application."""
    known: Mapping[type[BaseSettings], BaseSettings] = getattr(state, "module_settings", {})
    found = known.get(cls)
    return found if isinstance(found, cls) else cls()


__all__ = [
    "CliVerb",
    "DemoSeed",
    "DemoSeeder",
    "LinkageProvider",
    "ModuleDescriptor",
    "NavItem",
    "Ref",
    "build_settings",
    "resolve",
    "settings_for",
]
