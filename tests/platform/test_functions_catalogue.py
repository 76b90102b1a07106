"""The 機能ID catalogue is data, and the code names only what it holds (ADR 0014).

Why these checks: the catalogue replaced free-text 機能 labels and role constants. A key typed
wrong, a label written again as text, or a route that forgets to declare its operation would
otherwise only show in production (an audit record with the wrong label, a route anyone may call).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import kikan
from kikan.app import create_app
from kikan.modules import MODULES, function_catalogue
from kikan.platform import auth
from kikan.platform.deps import route_operations
from kikan.platform.functions import (
    PRINCIPALS,
    Catalogue,
    CatalogueError,
    parse,
    platform_table,
)
from kikan.platform.settings import Settings

ROOT = Path(kikan.__file__).resolve().parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

#: calls that name a catalogue key as their first argument
KEY_CALLS = {"entry", "uses", "operator_uses", "client_uses"}

#: files that may still pass text as an audit 機能, each with the reason
TEXT_ALLOWED = {
    # the 帳票 name of a print record is data of the 帳票ID registry, not a 機能
    "scaffold/templates/module/service.py.tmpl": "template, checked by tests/test_scaffold.py",
}

#: /api/v1 routes that declare no operation, each with the reason
PUBLIC_ROUTES = {
    "/api/v1/auth/token": "issues a token: nobody is authenticated yet (login is audited)",
    "/api/v1/auth/login": "the session login: nobody is authenticated yet (audited as ログイン)",
    "/api/v1/auth/logout": "ends the caller's own session, whoever it is (audited)",
    "/api/v1/auth/me": "the caller's own account (staff or host operator), no personal data",
    "/api/v1/linkage/token": "client credentials exchange (RFC 7523); denials are audited",
    "/api/v1/certificates/{issue_number}/verify": "public check of a certificate; names no person",
    "/api/v1/docs": "the API documentation page",
    "/api/v1/docs-openapi.json": "part of the documentation page",
    "/api/v1/docs-init.js": "part of the documentation page",
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return function_catalogue()


def test_every_catalogue_file_parses_with_unique_keys(catalogue: Catalogue) -> None:
    tables = [platform_table(), *(m.function_table() for m in MODULES)]
    assert sum(len(t) for t in tables) == len(catalogue)  # merged refuses duplicates
    declared = [m for m in MODULES if m.functions]
    assert {m.name for m in declared} == {m.name for m in MODULES}, "every module ships a catalogue"


def test_labels_roles_and_ids(catalogue: Catalogue) -> None:
    roles = {r.value for r in auth.Role}
    for fn in catalogue.values():
        assert fn.label.strip() and JAPANESE.search(fn.label), fn.key
        assert set(fn.roles) <= roles, (fn.key, fn.roles)
        assert fn.principal in PRINCIPALS
        if fn.principal != "staff":
            assert not fn.roles, f"{fn.key}: roles only apply to staff functions"
        # the official 機能ID are not known yet: an entry must not claim one without its format
        assert fn.official_id == "" or re.fullmatch(r"\d{7}", fn.official_id), fn.key
        assert all(re.fullmatch(r"\(\d+\)", s) for s in fn.spec), (fn.key, fn.spec)


def test_a_bad_file_fails_loudly() -> None:
    good = {"function": [{"key": "x.a", "label": "照会"}]}
    assert len(parse(good, module="x", gyomu_code=None, source="t")) == 1
    for bad in (
        {"function": [{"key": "y.a", "label": "照会"}]},  # another module's key
        {"function": [{"key": "x.a", "label": ""}]},
        {"function": [{"key": "x.a", "label": "照会"}, {"key": "x.a", "label": "検索"}]},
        {"function": [{"key": "x.a", "label": "照会", "roles": "nope"}]},
        {"function": [{"key": "x.a", "label": "照会", "principal": "anyone"}]},
        {"function": [{"key": "x.a", "label": "照会", "offical_id": ""}]},  # typo of a field
    ):
        with pytest.raises(CatalogueError):
            parse(bad, module="x", gyomu_code=None, source="t")


def _python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def _name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def test_every_key_named_in_code_is_in_the_catalogue(catalogue: Catalogue) -> None:
    used: set[str] = set()
    for path in _python_files():
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if _name(call) not in KEY_CALLS or not call.args:
                continue
            arg = call.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys = [arg.value]
            elif isinstance(arg, ast.IfExp):  # entry("a" if x else "b")
                keys = [
                    b.value
                    for b in (arg.body, arg.orelse)
                    if isinstance(b, ast.Constant) and isinstance(b.value, str)
                ]
            else:
                continue
            for key in keys:
                if "." in key:
                    assert key in catalogue, f"{path.relative_to(ROOT)}: unknown function {key!r}"
                    used.add(key)
    # the screens name their functions through a table (kikan/residents/web/entry/kinds.py)
    from kikan.residents.web.entry.kinds import KINDS

    for kind in KINDS.values():
        assert kind.function in catalogue, kind.slug
        used.add(kind.function)
    assert used, "the walk found no key: the call shapes changed"


def _text_label(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)
    )


def test_no_function_label_is_written_as_text() -> None:
    found = []
    for path in _python_files():
        rel = str(path.relative_to(ROOT))
        if rel in TEXT_ALLOWED:
            continue
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            for kw in call.keywords:
                if kw.arg == "function" and _text_label(kw.value):
                    found.append(f"{rel}:{call.lineno}")
    assert not found, f"function= written as text (use a catalogue key): {found}"


def test_every_personal_data_route_declares_an_operation(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    app = create_app(Settings(var_dir=tmp_path))
    missing, seen = [], set()
    for op in route_operations(app):
        if not op.path.startswith("/api/v1"):
            continue
        seen.add(op.path)
        if op.key is None and op.path not in PUBLIC_ROUTES:
            missing.append(f"{','.join(op.methods)} {op.path}")
        if op.key is not None:
            assert op.key in catalogue
    assert not missing, f"routes without an operation (uses(...)): {missing}"
    stale = set(PUBLIC_ROUTES) - seen
    assert not stale, f"allow-list names routes that no longer exist: {stale}"


def test_staff_operations_keep_the_roles_and_403_text(catalogue: Catalogue) -> None:
    """The roles moved from endpoint constants into the files without changing: spot checks."""
    write, read = ("counter", "approver"), ("counter", "approver", "auditor")
    assert catalogue.entry("residents.move_in").roles == write
    assert catalogue.entry("residents.search").roles == read
    assert catalogue.entry("residents.cancel").roles == ("approver",)
    assert catalogue.entry("seal.inquiry").roles == read
    assert catalogue.entry("linkage.client_create").roles == ("sysadmin",)
    assert catalogue.entry("platform.audit_verify").roles == ("auditor", "sysadmin")


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        function_catalogue().entry("residents.no_such_function")


def test_the_cli_exports_the_map_as_csv_and_excel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from kikan.cli import app as cli_app

    monkeypatch.setenv("KIKAN_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(cli_app, ["functions"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("キー,機能,業務コード")
    assert any(
        line.startswith("residents.move_in,転入,001") and "POST /api/v1/residents/move-in" in line
        for line in lines
    )
    out = tmp_path / "map.xlsx"
    assert CliRunner().invoke(cli_app, ["functions", "--out", str(out)]).exit_code == 0
    sheet = load_workbook(out).active
    assert sheet is not None and sheet.max_row == len(function_catalogue()) + 1
