"""The scaffold (`kikan module new`): a throwaway module built inside the test, registered,
migrated on both backends on its own Alembic branch (models checked against the migration),
served over HTTP, syncing residents into its 宛名 replica through the linkage-consumer kit
against the real application under uvicorn, and its generated test file run — without leaving a
file in kikan/ or a table in this session's metadata (tests/scaffold_driver.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from kikan.cli import app as cli_app
from kikan.modules import MODULES
from kikan.platform.errors import InvalidInput
from kikan.platform.functions import parse
from kikan.scaffold.generate import LAYOUT, Scaffolded, scaffold
from tests.conftest import APP_ROLE, PG_ADMIN_URL, Backend, _psycopg_dsn

ROOT = Path(__file__).resolve().parents[1]
NAME = "probe"
CODE = "950"


def _throwaway(tmp_path: Path) -> tuple[Path, Scaffolded]:
    """A module under a unique top-level package in tmp (never kikan/)."""
    parent = f"scaffold_probe_{uuid.uuid4().hex[:8]}"
    (tmp_path / parent).mkdir(parents=True)
    (tmp_path / parent / "__init__.py").write_text("", encoding="utf-8")
    return tmp_path, scaffold(
        tmp_path, name=NAME, code=CODE, title="見本業務", registered=MODULES, parent=parent
    )


def _run(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(ROOT)])}
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_scaffold_writes_every_room_and_nothing_in_kikan(tmp_path: Path) -> None:
    root, done = _throwaway(tmp_path)
    assert len(done.files) == len(LAYOUT) and all(p.is_file() for p in done.files)
    pkg = root / done.package.replace(".", "/")
    for room in ("domain", "store", "service", "api", "settings", "module"):
        compile((pkg / f"{room}.py").read_text(encoding="utf-8"), room, "exec")
    assert 'env_prefix="KIKAN_PROBE_"' in (pkg / "settings.py").read_text(encoding="utf-8")
    revision = (pkg / "migrations" / "probe_0001_initial.py").read_text(encoding="utf-8")
    assert 'branch_labels = ("probe",)' in revision and "down_revision = None" in revision
    assert f'depends_on = "{done.depends_on}"' in revision
    assert 'enable_rls(op.get_bind(), "probe_items")' in revision
    assert (root / "tests" / NAME / f"test_{NAME}.py").is_file()
    # the module ships its 機能ID catalogue and its routes declare their operations (ADR 0014)
    functions = parse(
        tomllib.loads((pkg / "functions.toml").read_text(encoding="utf-8")),
        module=NAME,
        gyomu_code=None,
        source="functions.toml",
    )
    assert {"probe.items_list", "probe.items_add", "probe.record"} <= set(functions)
    assert 'functions="functions.toml"' in (pkg / "module.py").read_text(encoding="utf-8")
    api = (pkg / "api.py").read_text(encoding="utf-8")
    assert 'uses("probe.items_list")' in api and 'uses("probe.items_add")' in api
    assert not (ROOT / "kikan" / NAME).exists() and not (ROOT / "tests" / NAME).exists()


@pytest.fixture
def fresh_database(backend: Backend, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(admin url, app url) of a database of this test only: the throwaway branch must not reach
    the session's databases (the models-match-migrations check runs on those)."""
    if backend.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'scenario.db'}"
        yield url, url
        return
    name = f"kikan_scaffold_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    admin_url = make_url(PG_ADMIN_URL).set(database=name)
    app_url = admin_url.set(username=APP_ROLE, password=None)
    try:
        yield (
            admin_url.render_as_string(hide_password=False),
            app_url.render_as_string(hide_password=False),
        )
    finally:
        with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_scaffolded_module_migrates_on_its_branch_and_serves_its_endpoint(
    tmp_path: Path, fresh_database: tuple[str, str]
) -> None:
    root, done = _throwaway(tmp_path / "tree")
    admin_url, app_url = fresh_database
    var = tmp_path / "var"
    var.mkdir()
    result = _run(["-m", "tests.scaffold_driver", done.package, admin_url, app_url, str(var)], root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scenario ok" in result.stdout


def test_the_generated_test_file_passes_on_both_backends(tmp_path: Path) -> None:
    root, _done = _throwaway(tmp_path)
    test_file = root / "tests" / NAME / f"test_{NAME}.py"
    result = _run(
        [
            "-m",
            "pytest",
            "-n",
            "0",
            "-q",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(root),
            "-c",
            str(ROOT / "pyproject.toml"),
            str(test_file),
        ],
        root,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    backends = os.environ.get("KIKAN_TEST_BACKENDS", "sqlite,postgres").count(",") + 1
    assert f"{3 * backends} passed" in result.stdout, result.stdout[-2000:]


@pytest.mark.parametrize(
    ("args", "item"),
    [
        (["1probe", "--code", "951", "--title", "見本"], "モジュール名"),
        (["class", "--code", "951", "--title", "見本"], "モジュール名"),
        (["seal", "--code", "951", "--title", "見本"], "同じ名前"),
        (["probe2", "--code", "95", "--title", "見本"], "3桁"),
        (["probe2", "--code", "002", "--title", "見本"], "既に他のモジュール"),
        (["probe2", "--code", "951", "--title", ""], "日本語名"),
    ],
)
def test_bad_input_is_refused_in_japanese_and_writes_nothing(
    tmp_path: Path, args: list[str], item: str
) -> None:
    result = CliRunner().invoke(cli_app, ["module", "new", *args, "--root", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert item in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_code_declared_by_an_unregistered_module_on_disk_is_taken(tmp_path: Path) -> None:
    root, _done = _throwaway(tmp_path)
    parent = _done.package.split(".")[0]
    with pytest.raises(InvalidInput) as refused:
        scaffold(root, name="other", code=CODE, title="別業務", registered=MODULES, parent=parent)
    assert refused.value.item == "code"
    with pytest.raises(InvalidInput) as again:
        scaffold(root, name=NAME, code="952", title="別業務", registered=MODULES, parent=parent)
    assert again.value.item == "name"


def test_the_command_creates_the_module_and_prints_the_hand_steps(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["module", "new", "probe", "--code", "951", "--title", "見本", "--root", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kikan" / "probe" / "migrations" / "probe_0001_initial.py").is_file()
    assert "from kikan.probe.module import MODULE as PROBE" in result.output
    assert '"kikan.probe"' in result.output and "lint-imports" in result.output
    again = CliRunner().invoke(
        cli_app,
        ["module", "new", "probe", "--code", "952", "--title", "見本", "--root", str(tmp_path)],
    )
    assert again.exit_code == 2 and "同じ名前" in again.output
