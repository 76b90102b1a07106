"""The 附票's standard-layout export (issue 19 item 4): every data group with every version, a
manifest that matches the files, audited; Kikan's own export passes `kikan check --layout fuhyo`
and a planted fault does not; the CLI verbs `export` and `worklist` (on both backends)."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kikan.conformance import check_files
from kikan.fuhyo import domain
from kikan.fuhyo.service import export, notices, records
from kikan.platform import ids
from kikan.platform.settings import get_settings
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.standard.layouts import layout
from tests.conftest import Backend
from tests.fuhyo.test_fuhyo import CITY, CTX, HONSEKI, deliver, resident


def code(serial: int) -> str:
    """A 住民票コード with its check digit."""
    body = f"{serial:010d}"
    return body + str(ids.juminhyo_code_check_digit(body))


def atena(serial: int) -> str:
    return ids.make_atena_number(serial, 15)


@pytest.fixture
def town(db: Database) -> str:
    from tests.conftest import create_tenant

    return create_tenant(db, CITY)


def realistic(db: Database, town: str) -> None:
    """Two 戸籍: one fed by the register (転入, 転居, an other city's notice), one kept by staff
    (記載, 修正, 消除, 改製); a pending and a rejected notice."""
    hanako = resident(atena_number=atena(1), juminhyo_code=code(1))
    taro = resident(
        atena_number=atena(2),
        juminhyo_code=code(2),
        given_name="太郎",
        given_name_kana="タロウ",
        sex="1",
        birth_date="S50-02-03",
    )
    with db.unit_of_work(town) as uow:
        deliver(uow, hanako)
        deliver(uow, taro)
        uow.commit()
    moved = {**hanako, "town": "新町", "banchi": "2番地", "address_set_date": "R6-05-01"}
    with db.unit_of_work(town) as uow:
        deliver(uow, moved, before=hanako)
        sent = notices.Notice(
            sender_code="271004",
            sender_name="大阪市",
            notice_date=date(2024, 6, 5),
            reason="転入",
            honseki=HONSEKI,
            facts=domain.EntryFacts(
                "山田",
                "太郎",
                birth_date="S50-02-03",
                sex="1",
                juminhyo_code=code(2),
                address=domain.Address("大阪府", "大阪市北区", "梅田一丁目", "1番1号"),
                address_set_date="2024-06-01",
            ),
        )
        assert notices.receive(uow, CTX, sent).status == notices.APPLIED
        stranger = domain.Honseki("", CITY, "北町", "9番地", "佐藤", "一郎")
        unknown = notices.Notice(**{**sent.__dict__, "honseki": stranger})
        unknown = notices.Notice(
            **{
                **unknown.__dict__,
                "facts": domain.EntryFacts(
                    "佐藤", "花", address_set_date="R6-06-01", address=sent.facts.address
                ),
            }
        )
        first = notices.receive(uow, CTX, unknown)
        second = notices.receive(uow, CTX, unknown)
        assert first.status == second.status == notices.PENDING
        notices.reject(uow, CTX, notices.Reject(first.notice_id, "該当する戸籍なし"))
        staff = domain.Honseki("", CITY, "東町", "3番地", "鈴木", "一郎")
        made = records.create_record(uow, CTX, records.CreateRecord(staff, "戸籍の編製"))
        facts = domain.EntryFacts(
            "鈴木",
            "一郎",
            birth_date="1940-01-01",
            sex="1",
            juminhyo_code=code(3),
            address=domain.Address("", CITY, "東町", "3番地"),
            address_set_date="1970-04-01",
        )
        records.add_entry(uow, CTX, records.AddEntry(made.id, facts, "戸籍の届出"))
        records.add_entry(
            uow,
            CTX,
            records.AddEntry(
                made.id,
                domain.EntryFacts(
                    **{**facts.__dict__, "given_name": "次郎", "juminhyo_code": code(4)}
                ),
                "届出 2",
            ),
        )
        noted = domain.EntryFacts(**{**facts.__dict__, "zaigai_note": "在外選挙人名簿登録"})
        records.correct_entry(uow, CTX, records.CorrectEntry(made.id, 1, noted, "在外 1", 1))
        records.remove_entry(uow, CTX, records.RemoveEntry(made.id, 2, date(2021, 6, 1), "除籍"))
        records.remake(uow, CTX, records.Remake(made.id, date(2024, 7, 1), "改製"))
        uow.commit()


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_the_export_is_complete_conforming_and_a_planted_fault_is_found(
    db: Database, town: str, tmp_path: Path
) -> None:
    realistic(db, town)
    with db.unit_of_work(town, snapshot=True) as uow:
        manifest = export.export_standard(uow, CTX, export.ExportStandard(tmp_path))
        uow.commit()
    rows = {f.group: f.rows for f in manifest.files}
    # 3 附票 (two 戸籍, one 改製); 花子 2 versions, 太郎 2, 一郎 2 + 1 (移記), 次郎 2
    assert rows == {"record": 3, "event": 4, "entry": 9, "notice": 3}
    written = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert written["layout"] == "fuhyo" and written["tenant"] == town
    for f in written["files"]:
        data = (tmp_path / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert data.count(b"\n") == f["rows"] + 1  # header + rows
    entries = _rows(tmp_path / "entry.csv")
    assert entries[0] == layout("fuhyo").group("entry").header
    latest = [r for r in entries[1:] if r[3] == "1"]
    assert len(latest) == 5  # one current version per entry
    assert any("在外選挙人名簿登録" in r for r in latest)
    with db.unit_of_work(town) as uow:
        audited = [
            r.detail
            for r in uow.session.scalars(
                select(AuditRecordRow).where(AuditRecordRow.action == "euc")
            )
        ]
    assert audited and audited[-1]["files"]["entry"] == 9

    paths = sorted(tmp_path.glob("*.csv"))
    report = check_files("fuhyo", paths)
    assert report.ok, [(x.file, x.line, x.item, x.message) for x in report.findings[:5]]
    assert check_files("戸籍の附票", paths).ok

    # planted faults: a 住民票コード with a wrong check digit, a second "latest" version, and
    # an entry of a 附票 that is not in the file
    broken = [list(r) for r in entries]
    column = broken[0].index("住民票コード")
    good = broken[1][column]
    broken[1][column] = good[:-1] + str((int(good[-1]) + 1) % 10)
    broken[1][3] = "1"  # its later version is the latest too
    stray = list(broken[1])
    stray[0], stray[column] = "999999", good
    broken.append(stray)
    with (tmp_path / "entry.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(broken)
    report = check_files("fuhyo", paths)
    assert not report.ok and report.exit_code == 1
    found = {x.rule for x in report.findings}
    assert {"check_digit", "reference"} <= found, found
    assert any("最新の版" in x.message for x in report.findings)


def test_the_cli_exports_and_lists_the_worklist(
    backend: Backend, db: Database, town: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kikan.cli import app

    realistic(db, town)
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = tmp_path / "out"
        done = runner.invoke(app, ["fuhyo", "export", "--tenant", town, "--out", str(out)])
        assert done.exit_code == 0, done.output
        assert (out / "manifest.json").exists() and "entry.csv" in done.output
        checked = runner.invoke(
            app, ["check", "--layout", "fuhyo", *map(str, sorted(out.glob("*.csv")))]
        )
        assert checked.exit_code == 0, checked.output
        waiting = runner.invoke(app, ["fuhyo", "worklist", "--tenant", town])
        assert waiting.exit_code == 1, waiting.output  # one notice waits for staff
        assert "確認待ちの通知: 1件" in waiting.output and "大阪市" in waiting.output
        with db.unit_of_work(town) as uow:
            (pending,) = notices.worklist(uow, CTX, notices.OpenNotices())
            notices.reject(uow, CTX, notices.Reject(pending.id, "該当する戸籍なし"))
            uow.commit()
        clear = runner.invoke(app, ["fuhyo", "worklist", "--tenant", town])
        assert clear.exit_code == 0 and "ありません" in clear.output
        unknown = runner.invoke(app, ["fuhyo", "export", "--tenant", "999999", "--out", str(out)])
        assert unknown.exit_code == 2
    finally:
        get_settings.cache_clear()
