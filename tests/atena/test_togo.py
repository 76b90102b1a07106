"""団体内統合宛名 (032) on both backends: one number per 個人番号, the swap both ways, the file
toward the 中間サーバー (its layout is data), and the CSV bulk registration."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kikan.atena.service import bulk, register, togo
from kikan.errors import ConflictError, InvalidError
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.settings import get_settings
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.standard.layouts import layout
from tests.atena.conftest import landowner, my_number
from tests.conftest import TEST_ACTOR, Backend


def _register(db: Database, tenant: str, ctx: Context, **values: str) -> str:
    with db.unit_of_work(tenant) as uow:
        result = register.fuban_unattended(
            uow, ctx, register.Fuban("0", landowner(**values), "tester")
        )
        uow.commit()
    return result.atena_number


def test_one_togo_number_per_my_number_and_the_swap(
    db: Database, town: str, ctx: Context, tmp_path: Path
) -> None:
    number = my_number("12345678901")
    a = _register(db, town, ctx, my_number=number)
    b = _register(db, town, ctx, my_number=number, town="梅田三丁目")  # same person elsewhere
    c = _register(db, town, ctx, family_name="佐藤", my_number=my_number("10987654321"))
    none = _register(db, town, ctx, family_name="鈴木")
    with db.unit_of_work(town) as uow:
        ta = togo.togo_of(uow, ctx, togo.TogoOf(a))
        assert togo.togo_of(uow, ctx, togo.TogoOf(b)) == ta
        assert togo.togo_of(uow, ctx, togo.TogoOf(c)) != ta
        assert togo.atenas_of(uow, ctx, togo.AtenasOf(ta)) == sorted([a, b])
        with pytest.raises(ConflictError):
            togo.togo_of(uow, ctx, togo.TogoOf(none))
        out = tmp_path / "togo.csv"
        count = togo.export_togo(uow, ctx, togo.ExportTogo(out))
        uow.commit()
    assert count == 3
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == layout("atena").group("togo").header
    assert [r[0] for r in rows[1:]].count(ta) == 2
    assert {r[1] for r in rows[1:]} == {number, my_number("10987654321")}
    assert all(r[3] == "2" for r in rows[1:])
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    with db.unit_of_work(town) as uow:
        exported = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.action == "export")
        ).one()
        assert exported.mynumber_accessed and number not in str(exported.detail)


def test_the_export_needs_a_key(db: Database, town: str, ctx: Context, tmp_path: Path) -> None:
    _register(db, town, ctx, my_number=my_number("12345678901"))
    with db.unit_of_work(town) as uow, pytest.raises(ConflictError):
        togo.export_togo(uow, Context(actor=TEST_ACTOR), togo.ExportTogo(tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()
    assert not (tmp_path / "x.csv.partial").exists()


def test_bulk_registration_accounts_for_every_row(
    db: Database, town: str, ctx: Context, tmp_path: Path
) -> None:
    first = _register(db, town, ctx)
    path = tmp_path / "jutogai.csv"
    lines = [
        "宛名番号,氏,名,氏カナ,名カナ,性別,生年月日,都道府県,市区郡町村,町字,番地,業務ID",
        ",山田,花子,ヤマダ,ハナコ,2,1980-05-05,兵庫県,神戸市中央区,加納町,６丁目５番１号,010",
        ",ﾔﾏﾀﾞ,次郎,ヤマダ,ジロウ,1,1982-01-01,兵庫県,神戸市中央区,加納町,１番,010",
        f"{first},髙橋,一郎,タカハシ,イチロウ,1,昭和45年4月1日,京都府,京都市左京区,岩倉,１番,012",
        ",山田,三郎,ヤマダ,サブロウ,1,2099-01-01,兵庫県,神戸市中央区,加納町,１番,010",
        ",短い行",
        "",
    ]
    path.write_text("\n".join(lines), encoding="cp932")
    with db.unit_of_work(town) as uow:
        report = bulk.import_jutogai(uow, ctx, bulk.ImportJutogai(path))
        uow.commit()
    assert report.total == 5 and report.accounted
    assert len(report.numbered) == 1 and report.updated == [(4, first)]
    reasons = dict(report.rejected)
    assert set(reasons) == {3, 5, 6}
    assert "半角" in reasons[3] and "未来" in reasons[5] and "列の数" in reasons[6]
    rejects = tmp_path / "rejects.csv"
    bulk.write_rejects(report, rejects)
    assert "半角" in rejects.read_text(encoding="utf-8-sig")


def test_an_unknown_column_is_refused_before_any_row(
    db: Database, town: str, ctx: Context, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("氏,名,好きな色\n山田,花子,赤\n", encoding="utf-8")
    with db.unit_of_work(town) as uow, pytest.raises(InvalidError) as refused:
        bulk.import_jutogai(uow, ctx, bulk.ImportJutogai(path))
    assert "好きな色" in str(refused.value)


def test_the_cli_imports_and_exports_like_an_operator(
    backend: Backend, db: Database, town: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kikan.cli import app

    keys = tmp_path / "keys"
    KeyRing.generate_key_file(keys, "k1")
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    monkeypatch.setenv("KIKAN_MYNUMBER_KEY_FILE", str(keys))
    get_settings.cache_clear()
    path = tmp_path / "in.csv"
    path.write_text(
        "氏,名,氏カナ,名カナ,性別,生年月日,国外住所,個人番号\n"
        f"スミス,ジョン,スミス,ジョン,1,1970-01-01,アメリカ合衆国,{my_number('12345678901')}\n"
        "山田,ﾀﾛｳ,ヤマダ,タロウ,1,1970-01-01,アメリカ合衆国,\n",
        encoding="utf-8",
    )
    try:
        runner = CliRunner()
        rejects = tmp_path / "rejects.csv"
        done = runner.invoke(
            app,
            ["atena", "import", str(path), "--tenant", town, "--gyomu", "010",
             "--rejects", str(rejects)],
        )  # fmt: skip
        assert done.exit_code == 1, done.output  # one row refused
        assert "2行" in done.output and "新規付番 1件" in done.output
        assert "3行目" in done.output and rejects.exists()
        out = tmp_path / "togo.csv"
        exported = runner.invoke(app, ["atena", "togo-export", "--tenant", town, "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        assert "1件" in exported.output and my_number("12345678901") in out.read_text("utf-8")
        assert my_number("12345678901") not in exported.output
        unknown = runner.invoke(app, ["atena", "import", str(path), "--tenant", "999999"])
        assert unknown.exit_code == 2
    finally:
        get_settings.cache_clear()
