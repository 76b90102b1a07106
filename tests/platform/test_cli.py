"""The operator CLI, driven as a script would drive it: real processes, exit codes, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from kikan.platform.uow import Database
from tests.conftest import Backend, fresh_tenant_code


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kikan", *args],
        env={**os.environ, "KIKAN_LOG_LEVEL": "WARNING", "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def cli_env(backend: Backend, tmp_path: Path) -> dict[str, str]:
    return {
        "KIKAN_VAR_DIR": str(tmp_path),
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_MIGRATION_DATABASE_URL": backend.admin_url,
    }


def test_fresh_sqlite_database_from_nothing(tmp_path: Path) -> None:
    env = {"KIKAN_VAR_DIR": str(tmp_path / "var")}
    up = run(env, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert (tmp_path / "var" / "kikan.db").exists()
    demo = run(env, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "992011 日和市 を登録しました" in demo.stdout
    assert "住民:" in demo.stdout and "証明書設定:" in demo.stdout  # the registry's seeders ran
    assert "住登外者: 4 件" in demo.stdout  # 宛名管理: a 名寄せ pair waits on the worklist
    again = run(env, "demo")
    assert again.returncode == 0 and "登録済み" in again.stdout
    listed = run(env, "tenant", "list")
    assert "髙橋 一郎" in listed.stdout


def test_tenant_create_and_bad_codes(cli_env: dict[str, str]) -> None:
    code = fresh_tenant_code()
    ok = run(cli_env, "tenant", "create", code, "試験村")
    assert ok.returncode == 0, ok.stderr
    assert f"団体 {code} 試験村 を登録しました" in ok.stdout
    dup = run(cli_env, "tenant", "create", code, "試験村")
    assert dup.returncode == 2 and "既に登録されています" in dup.stderr
    bad = run(cli_env, "tenant", "create", "131017", "千代田区")
    assert bad.returncode == 2 and "検査数字" in bad.stderr
    short = run(cli_env, "tenant", "create", "1310", "千代田区")
    assert short.returncode == 2 and "エラー" in short.stderr
    assert "Traceback" not in bad.stderr + short.stderr + dup.stderr


def test_audit_verify_names_the_tampered_record(
    cli_env: dict[str, str], admin_db: Database
) -> None:
    code = fresh_tenant_code()
    assert run(cli_env, "tenant", "create", code, "検証市").returncode == 0
    staff = run(
        cli_env,
        "staff",
        "create",
        "--tenant",
        code,
        "--login",
        "kansa",
        "--name",
        "監査 四子",
        "--role",
        "auditor",
        "--password",
        "Audit-Pass-2026",
    )
    assert staff.returncode == 0, staff.stderr
    for _ in range(2):
        ok = run(cli_env, "audit", "verify", "--tenant", code)
        assert ok.returncode == 0, ok.stderr
        assert "アクセスログは正常です" in ok.stdout
    with admin_db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_records SET actor = 'mallory' WHERE tenant_code = :t AND seq = 2"),
            {"t": code},
        )
    bad = run(cli_env, "audit", "verify", "--tenant", code)
    assert bad.returncode == 1
    assert "改ざんを検出しました" in bad.stderr
    assert "連番 2" in bad.stderr
    unknown = run(cli_env, "audit", "verify", "--tenant", "011002")
    assert unknown.returncode == 2 and "登録されていません" in unknown.stderr


def test_anchor_detects_a_rewritten_tail(
    cli_env: dict[str, str], admin_db: Database, tmp_path: Path
) -> None:
    code = fresh_tenant_code()
    assert run(cli_env, "tenant", "create", code, "錨市").returncode == 0
    anchor = tmp_path / "anchor.txt"
    for _ in range(2):  # each verification is itself audited: the chain now has records 1 and 2
        assert run(cli_env, "audit", "verify", "--tenant", code).returncode == 0
    first = run(cli_env, "audit", "verify", "--tenant", code, "--anchor", str(anchor))
    assert first.returncode == 0 and anchor.exists()
    # an insider deletes everything after the first record and fixes the head consistently
    with admin_db.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM audit_records WHERE tenant_code = :t AND seq > 1"), {"t": code}
        )
        h = conn.execute(
            text("SELECT hash FROM audit_records WHERE tenant_code = :t AND seq = 1"), {"t": code}
        ).scalar()
        conn.execute(
            text("UPDATE audit_heads SET last_seq = 1, last_hash = :h WHERE tenant_code = :t"),
            {"h": h, "t": code},
        )
    plain = run(cli_env, "audit", "verify", "--tenant", code)
    assert plain.returncode == 0  # the chain alone cannot see a consistent rewrite …
    anchored = run(cli_env, "audit", "verify", "--tenant", code, "--anchor", str(anchor))
    assert anchored.returncode == 1  # … the anchor kept outside the database can
    assert "保存済みの先頭" in anchored.stderr


def test_database_unreachable(tmp_path: Path) -> None:
    env = {
        "KIKAN_DATABASE_URL": "postgresql+psycopg://kikan_app@127.0.0.1:1/none?connect_timeout=2"
    }
    r = run(env, "tenant", "list")
    assert r.returncode == 3
    assert "データベースに接続できません" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    from kikan.platform.migrate import upgrade

    upgrade(f"sqlite:///{tmp_path / 'kikan.db'}", revision="0001_platform")
    r = run({"KIKAN_VAR_DIR": str(tmp_path)}, "serve", "--port", "1")
    assert r.returncode == 2
    assert "kikan db upgrade" in r.stderr and "Traceback" not in r.stderr
