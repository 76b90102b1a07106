"""Write a new module's four rooms, settings, descriptor, migration branch and test file.

Why templates are package data (kikan/scaffold/templates/*.tmpl, `string.Template`): they are
read and reviewed as the files they become; a template string inside code hides them. The
scaffold refuses rather than overwrites: a half-written module is worse than none.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from importlib.util import find_spec
from pathlib import Path
from string import Template

from kikan.platform.errors import InvalidInput
from kikan.platform.modules import ModuleDescriptor

NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")
GYOMU_CODE = re.compile(r"[0-9]{3}")
DECLARED_CODE = re.compile(r"""gyomu_code\s*=\s*["']([0-9]{3})["']""")
#: template (relative to templates/) → file (relative to the root), `{...}` filled per module
LAYOUT: dict[str, str] = {
    "module/__init__.py.tmpl": "{pkgdir}/__init__.py",
    "module/domain.py.tmpl": "{pkgdir}/domain.py",
    "module/store.py.tmpl": "{pkgdir}/store.py",
    "module/service.py.tmpl": "{pkgdir}/service.py",
    "module/api.py.tmpl": "{pkgdir}/api.py",
    "module/settings.py.tmpl": "{pkgdir}/settings.py",
    "module/linkage.py.tmpl": "{pkgdir}/linkage.py",
    "module/cli.py.tmpl": "{pkgdir}/cli.py",
    "module/module.py.tmpl": "{pkgdir}/module.py",
    "module/functions.toml.tmpl": "{pkgdir}/functions.toml",
    "module/migrations/__init__.py.tmpl": "{pkgdir}/migrations/__init__.py",
    "module/migrations/revision.py.tmpl": "{pkgdir}/migrations/{revision}_initial.py",
    "tests/__init__.py.tmpl": "tests/{name}/__init__.py",
    "tests/test_module.py.tmpl": "tests/{name}/test_{name}.py",
}


@dataclass(frozen=True)
class Scaffolded:
    name: str
    code: str
    package: str
    files: tuple[Path, ...]
    revision: str
    depends_on: str


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _codes_declared(root: Path, parent: str) -> set[str]:
    """業務コード in descriptors on disk, registered or not (a module written but not yet named in
    the registry still owns its code)."""
    found: set[str] = set()
    for path in (root / parent.replace(".", "/")).glob("*/module.py"):
        found.update(DECLARED_CODE.findall(path.read_text(encoding="utf-8")))
    return found


def check(
    root: Path,
    *,
    name: str,
    code: str,
    title: str,
    registered: Iterable[ModuleDescriptor],
    parent: str = "kikan",
) -> None:
    """Refuse bad input in Japanese, naming the item, before anything is written."""
    registered = tuple(registered)
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise InvalidInput(
            "モジュール名は英小文字で始まり、英小文字・数字・下線だけからなる2〜40文字の"
            "識別子で指定してください。",
            item="name",
        )
    package = f"{parent}.{name}"
    exists = (
        (root / parent.replace(".", "/") / name).exists()
        or (root / "tests" / name).exists()
        or any(m.name == name or m.package == package for m in registered)
    )
    if not exists:
        try:
            exists = find_spec(package) is not None
        except ModuleNotFoundError:
            exists = False
    if exists:
        raise InvalidInput("同じ名前のモジュール（パッケージ）が既にあります。", item="name")
    if not GYOMU_CODE.fullmatch(code):
        raise InvalidInput("業務コードは3桁の数字で指定してください。", item="code")
    taken = {m.gyomu_code for m in registered if m.gyomu_code} | _codes_declared(root, parent)
    if code in taken:
        raise InvalidInput("この業務コードは既に他のモジュールが使っています。", item="code")
    if not title.strip() or len(title.strip()) > 40 or any(c in title for c in "\"'\\$\n\r"):
        raise InvalidInput(
            "日本語名は40文字以内で、引用符・$・改行を含めずに指定してください。", item="title"
        )


def _templates() -> Traversable:
    return resources.files("kikan.scaffold").joinpath("templates")


def scaffold(
    root: Path,
    *,
    name: str,
    code: str,
    title: str,
    registered: Iterable[ModuleDescriptor],
    parent: str = "kikan",
) -> Scaffolded:
    """Create the module `parent.name` under `root` (the repository root in real use)."""
    # Alembic is imported when a module is written, not for every `kikan --help`
    from kikan.platform.migrate import head_revisions  # noqa: PLC0415

    registered = tuple(registered)
    check(root, name=name, code=code, title=title, registered=registered, parent=parent)
    platform = head_revisions()
    if len(platform) != 1:
        raise RuntimeError("the platform chain must have exactly one head")
    revision = f"{name}_0001"
    package = f"{parent}.{name}"
    values = {
        "name": name,
        "Name": _camel(name),
        "NAME": name.upper(),
        "package": package,
        "code": code,
        "title": title.strip(),
        "revision": revision,
        "platform_head": platform[0],
    }
    where = {"pkgdir": package.replace(".", "/"), "name": name, "revision": revision}
    rendered = {
        root / target.format(**where): Template(
            _templates().joinpath(source).read_text(encoding="utf-8")
        ).substitute(values)
        for source, target in LAYOUT.items()
    }
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never overwrite
            out.write(text)
    return Scaffolded(name, code, package, tuple(rendered), revision, platform[0])


def next_steps(done: Scaffolded) -> list[str]:
    """What a person still adds by hand: edits of shared files (the registry, the import-linter
    contracts, README, the registry test) that a reviewer should see rather than a tool making
    them in files other work changes at the same time."""
    pkg, name = done.package, done.name
    const = name.upper()
    return [
        f"kikan/modules.py: from {pkg}.module import MODULE as {const} を追加し、"
        f"MODULES に {const} を加える",
        f'pyproject.toml（import-linter）: 独立性の契約 modules に "{pkg}" を加える',
        "pyproject.toml（import-linter）: 「庁内データ連携は HTTP のみ」の source_modules に"
        f' "{pkg}" を加える',
        f'pyproject.toml（import-linter）: layers の業務モジュールの行に "| {pkg}" を加え、'
        f'プラットフォーム・UI シェルの forbidden_modules に "{pkg}" を加える',
        f"README.md: 設定 KIKAN_{const}_PAGE_SIZE・_SYNC_INTERVAL・_LINKAGE_URL を"
        "運用設定の表に記載する（tests/test_module_registry.py が確認）",
        f'tests/test_module_registry.py: 業務コードの一覧に "{name}": "{done.code}" を加える',
        f"確認: .venv/bin/pytest -n 0 -q tests/{name} tests/test_module_registry.py "
        "tests/platform/test_migrations.py && .venv/bin/lint-imports",
    ]
