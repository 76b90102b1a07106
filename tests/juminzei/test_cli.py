"""`kikan juminzei …` as an operator runs it: intake with a rejects file, the 年度's 賦課 and the
notice batch (finished in steps: a second run of the same batch writes nothing twice), and the
Japanese refusals (unknown 年度, unknown tenant)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kikan.juminzei.service import commands as cmd
from kikan.juminzei.service import records
from kikan.platform.settings import get_settings
from kikan.platform.uow import Database
from tests.conftest import Backend, create_tenant
from tests.juminzei.test_juminzei import CTX, HANAKO, ICHIRO, REGISTER, YEAR, kyuyo_csv


def test_intake_assess_and_notices_from_the_command_line(
    backend: Backend, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kikan.cli import app

    tenant = create_tenant(db)
    with db.unit_of_work(tenant) as uow:
        records.take_kijitsu(uow, CTX, cmd.TakeKijitsu(YEAR, REGISTER))
        uow.commit()
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        csv_file = tmp_path / "kyuyo.csv"
        bad = ICHIRO.replace("課税　一郎", "").replace("1234567890123", "1111111111111")
        csv_file.write_bytes(kyuyo_csv(ICHIRO, HANAKO, bad))
        rejects = tmp_path / "rejects.csv"
        loaded = runner.invoke(app, ["juminzei", "intake", "--tenant", tenant, "--year", "令和8",
                                     str(csv_file), "--rejects", str(rejects)])  # fmt: skip
        assert loaded.exit_code == 0, loaded.output
        assert "3 行" in loaded.output and "不備 1" in loaded.output
        assert "受給者氏名がありません" in rejects.read_text(encoding="utf-8-sig")

        assessed = runner.invoke(app, ["juminzei", "assess", "--tenant", tenant, "--year", "R8"])
        assert assessed.exit_code == 0, assessed.output
        assert "当初賦課 2 人" in assessed.output
        again = runner.invoke(app, ["juminzei", "assess", "--tenant", tenant, "--year", "2026"])
        assert "当初賦課 0 人" in again.output and "変更なし 2 人" in again.output

        out = tmp_path / "notices"
        made = runner.invoke(app, ["juminzei", "notices", "--tenant", tenant, "--year", "令和8",
                                   "--out", str(out)])  # fmt: skip
        assert made.exit_code == 0, made.output
        assert "通知書 2/2 通" in made.output and "特別徴収義務者用 1 通" in made.output
        files = sorted(p.name for p in out.iterdir())
        assert len(files) == 3 and all(f.endswith(".pdf") for f in files)
        run_id = made.output.split("作成番号 ")[1].split(":")[0]
        resumed = runner.invoke(app, ["juminzei", "notices", "--tenant", tenant, "--year", "令和8",
                                      "--out", str(out), "--run", run_id])  # fmt: skip
        assert resumed.exit_code == 0 and "通知書 2/2 通" in resumed.output

        unknown = runner.invoke(app, ["juminzei", "assess", "--tenant", tenant, "--year", "令和13"])
        assert unknown.exit_code == 2 and "令和13年度" in unknown.output
        nowhere = runner.invoke(
            app, ["juminzei", "assess", "--tenant", "999999", "--year", "令和8"]
        )
        assert nowhere.exit_code == 2
        garbled = runner.invoke(app, ["juminzei", "assess", "--tenant", tenant, "--year", "来年"])
        assert garbled.exit_code == 2 and "を読めません" in garbled.output
    finally:
        get_settings.cache_clear()
