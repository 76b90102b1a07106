"""The module registry (ADR 0011): one descriptor per module, one list, boundaries as tests.

A new module cannot be forgotten: a package exporting a descriptor must be registered, and the
registry's business modules must be exactly the import-linter independence contract's.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest
import typer
from fastapi import APIRouter
from fastapi.testclient import TestClient

from kikan.linkage.consumer import Consumer
from kikan.modules import MODULES, business_modules
from kikan.platform.modules import ModuleDescriptor, NavItem, build_settings, resolve
from kikan.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _descriptors_in(package: str) -> list[ModuleDescriptor]:
    """Every descriptor a package's modules define at top level (not only `module.MODULE`)."""
    found = []
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        if info.name.startswith("kikan.migrations"):
            continue  # Alembic's env.py runs migrations on import
        source = importlib.util.find_spec(info.name)
        origin = source.origin if source else None
        if origin is None or "ModuleDescriptor(" not in Path(origin).read_text(encoding="utf-8"):
            continue  # import only what can define one: importing every page is slow
        module = importlib.import_module(info.name)
        found += [v for v in vars(module).values() if isinstance(v, ModuleDescriptor)]
    return found


def _independence_contract() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = [
        c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "independence"
    ]
    assert len(contracts) == 1, "one independence contract: the business modules"
    return set(contracts[0]["modules"])


def test_every_descriptor_in_kikan_is_registered() -> None:
    declared = _descriptors_in("kikan")
    assert {d.name for d in declared} >= {"residents", "seal", "linkage", "migration"}
    missing = [d.name for d in declared if d not in MODULES]
    assert not missing, f"descriptors missing from kikan.modules.MODULES: {missing}"


def test_each_module_exports_exactly_one_descriptor_named_module() -> None:
    for descriptor in MODULES:
        own = importlib.import_module(f"{descriptor.package}.module")
        assert own.MODULE is descriptor
        assert [v for v in vars(own).values() if isinstance(v, ModuleDescriptor)] == [descriptor]
    assert len({m.name for m in MODULES}) == len(MODULES)
    assert len({m.package for m in MODULES}) == len(MODULES)


def test_business_modules_are_the_independence_contract() -> None:
    registered = {m.package for m in business_modules()}
    assert registered == _independence_contract()
    assert {m.name: m.gyomu_code for m in business_modules()} == {
        "residents": "001",
        "seal": "002",
        "atena": "031",
        "electoral_roll": "006",
        "juminzei": "010",
        "fuhyo": "004",
    }


def test_every_reference_resolves_to_what_it_names() -> None:
    for m in MODULES:
        for ref in (*m.api_routers, *m.ui_routers):
            assert isinstance(resolve(ref), APIRouter), ref
        for verb in m.cli:
            target = resolve(verb.target)
            assert isinstance(target, typer.Typer) or callable(target), verb
        for store in m.stores:
            importlib.import_module(store)
        for provider in m.linkage_providers:
            assert callable(resolve(provider.page)) and callable(resolve(provider.records))
            assert provider.page_as_of is None or callable(resolve(provider.page_as_of))
            assert provider.my_numbers is None or callable(resolve(provider.my_numbers))
        assert all(label.strip() for label in m.scope_labels().values()), m.name
        for ref in m.linkage_consumers:
            assert isinstance(resolve(ref), Consumer), ref
        for seeder in m.demo_seeders:
            assert callable(resolve(seeder.seed)), seeder
        assert all(isinstance(i, NavItem) for i in m.nav_items())
        assert all(p.is_dir() for p in m.template_dirs())
        assert m.settings is None or m.settings_class() is not None


def test_resolve_names_a_bad_reference() -> None:
    with pytest.raises(ValueError, match=r"package\.module:attribute"):
        resolve("kikan.seal.api")
    with pytest.raises(AttributeError):
        resolve("kikan.seal.api:no_such_router")


def test_the_app_is_built_from_the_registry(tmp_path: Path) -> None:
    from kikan.app import create_app

    app = create_app(Settings(var_dir=tmp_path))
    nav = [(item.order, item.href) for item in app.state.ui.nav]
    assert nav == sorted(nav)
    assert {i.href for m in MODULES for i in m.nav_items()} <= {href for _, href in nav}
    paths = set(app.openapi()["paths"])
    assert {"/api/v1/seal/registrations", "/api/v1/linkage/changes"} <= paths
    page = TestClient(app).get("/ui/residents", follow_redirects=False)  # a module's page
    assert page.status_code == 303 and page.headers["location"].startswith("/ui/login")


def test_cli_verbs_come_from_the_registry() -> None:
    from typer.main import get_command

    from kikan.cli import app

    verbs = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert {v.name for m in MODULES for v in m.cli} <= verbs


def test_platform_knows_no_module_by_name() -> None:
    """The module settings left the platform: no field of Settings names a registered module."""
    fields = set(Settings.model_fields) - {"migration_database_url"}  # Alembic's, not 移行's
    assert not {f for f in fields for m in MODULES if f.startswith(f"{m.name}_")}
    platform = ROOT / "kikan" / "platform"
    for path in platform.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in MODULES:
            assert f"import {m.package}" not in text and f"from {m.package}" not in text, path


def test_module_settings_keep_the_operators_variable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kikan.linkage.settings import LinkageSettings
    from kikan.seal.settings import SealSettings

    monkeypatch.setenv("KIKAN_SEAL_SYNC_INTERVAL", "7.5")
    monkeypatch.setenv("KIKAN_SEAL_LINKAGE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("KIKAN_LINKAGE_PUSH_IN_SERVER", "false")
    built = build_settings(MODULES)
    seal = built[SealSettings]
    assert isinstance(seal, SealSettings)
    assert seal.sync_interval == 7.5 and seal.linkage_url == "http://127.0.0.1:9/"
    linkage = built[LinkageSettings]
    assert isinstance(linkage, LinkageSettings) and linkage.push_in_server is False
    given = SealSettings(sync_interval=1.0)
    assert build_settings(MODULES, [given])[SealSettings] is given


def test_readme_documents_every_module_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for m in MODULES:
        cls = m.settings_class()
        if cls is None:
            continue
        prefix = str(cls.model_config.get("env_prefix", ""))
        assert prefix == f"KIKAN_{m.name.upper()}_"
        for name in cls.model_fields:
            assert f"{prefix}{name.upper()}" in readme, name


def test_every_module_is_type_checked_strictly() -> None:
    """mypy runs `--strict` on the whole package, and no override relaxes a registered module."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config.get("strict") is True
    relaxing = {"strict", "disallow_untyped_defs", "disallow_any_generics", "check_untyped_defs"}
    for override in config.get("overrides", []):
        names = override["module"] if isinstance(override["module"], list) else [override["module"]]
        loosened = [k for k in relaxing if override.get(k) is False]
        for descriptor in MODULES:
            covered = [n for n in names if n.split(".*")[0] in (descriptor.package, "kikan")]
            assert not (covered and loosened), (
                f"{descriptor.name}: mypy override relaxes {loosened}"
            )


def _migration_contract() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract.get("source_modules") == ["kikan.migration"]:
            return set(contract["forbidden_modules"])
    raise AssertionError("no contract for kikan.migration")


def test_migration_contract_names_every_residents_module_but_bulk() -> None:
    """The forbidden list cannot rot: a new residents module is forbidden to 移行 unless it is
    the published bulk interface."""
    package = ROOT / "kikan" / "residents"
    children = {
        f"kikan.residents.{p.stem if p.is_file() else p.name}"
        for p in package.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert _migration_contract() == children - {"kikan.residents.bulk"}


def test_migration_imports_only_the_residents_bulk_interface() -> None:
    """Belt and braces for the contract above, on the source itself (any depth of import)."""
    found = []
    for path in sorted((ROOT / "kikan" / "migration").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("kikan.residents") and name != "kikan.residents.bulk":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not found, "\n".join(found)
