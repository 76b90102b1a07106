"""CLI scenarios (both backends): `kikan synth` into the database, then the existing
`kikan export standard` and `kikan check` pass on the synthesized city; `kikan synth
--legacy-out` then `kikan import legacy` round-trips a city; bad arguments are refused in
Japanese."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kikan.platform.uow import Database
from tests.conftest import Backend, create_tenant


def kikan(
    backend: Backend, keyfile: Path, tmp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_MYNUMBER_KEY_FILE": str(keyfile),
        "KIKAN_VAR_DIR": str(tmp),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "kikan", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_synth_then_export_and_check_pass(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path
) -> None:
    tenant = create_tenant(db, "合成市")
    r = kikan(backend, keyfile, tmp_path, "synth", "--tenant", tenant, "--population", "600",
              "--seed", "3", "--chunk", "250")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "600人を登録しました" in r.stdout
    out = tmp_path / "export"
    r = kikan(
        backend, keyfile, tmp_path, "export", "standard", "--tenant", tenant, "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    rows = {f["group"]: f["rows"] for f in manifest["files"]}
    assert rows["person"] == 600 and rows["history"] == 600 and rows["support_measure"] >= 1
    r = kikan(backend, keyfile, tmp_path, "check", "--layout", "住民記録",
              *sorted(str(p) for p in out.glob("*.csv")))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "適合" in r.stdout


def test_legacy_files_round_trip_through_import(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path
) -> None:
    tenant = create_tenant(db, "移行市")
    legacy = tmp_path / "legacy"
    r = kikan(backend, keyfile, tmp_path, "synth", "--tenant", tenant, "--population", "300",
              "--legacy-out", str(legacy), "--legacy-format", "utf8-csv")  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = kikan(backend, keyfile, tmp_path, "import", "legacy", "--mapping",
              str(legacy / "mapping.toml"), "--tenant", tenant, "--report-dir",
              str(tmp_path / "rep"), str(legacy / "legacy.csv"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "全300行 = 取込300行 + 取込済み0行 + 作業リスト0行 + 不採用0行" in r.stdout
    assert (tmp_path / "rep" / "report.html").exists()
    assert (tmp_path / "rep" / "report.xlsx").exists()


def test_bad_arguments_are_refused_in_japanese(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path
) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a,b\n", "utf-8")
    bad_mapping = tmp_path / "m.toml"
    bad_mapping.write_text('[source]\nformat = "csv"\nencoding = "latin1"\n', "utf-8")
    tenant = create_tenant(db, "誤り市")
    r = kikan(backend, keyfile, tmp_path, "import", "legacy", "--mapping", str(bad_mapping),
              "--tenant", tenant, str(data))  # fmt: skip
    assert r.returncode == 2 and "cp932 か utf-8" in r.stderr
    r = kikan(backend, keyfile, tmp_path, "import", "legacy", "--mapping", str(bad_mapping),
              "--tenant", "131016", str(data))  # fmt: skip
    assert r.returncode == 2 and "エラー" in r.stderr
    r = kikan(backend, keyfile, tmp_path, "synth", "--tenant", tenant, "--population", "5",
              "--legacy-out", str(tmp_path / "o"), "--legacy-format", "xml")  # fmt: skip
    assert r.returncode == 2 and "--legacy-format" in r.stderr
