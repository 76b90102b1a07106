"""Legacy import on SQLite and PostgreSQL: every row imported or rejected with a Japanese
reason, bad rows of every kind, the batch ledger, the report and the 外字 worklist."""

from __future__ import annotations

import itertools
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from kikan.migration.importer import import_file
from kikan.migration.legacy import load_mapping
from kikan.migration.report import write_reports
from kikan.migration.store import ImportBatchRow, ImportFileRow, ImportRejectRow
from kikan.migration.synth import synth_to_files
from kikan.platform.context import Context
from kikan.platform.ids import juminhyo_code_check_digit
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.residents.store import CurrentRow, HistoryRow
from tests.conftest import create_tenant
from tests.migration.conftest import ACTOR, with_batch_size


def _field(mapping_path: Path, name: str) -> tuple[int, int]:
    f = load_mapping(mapping_path).fields[name]
    return f.start, f.length


def _set(line: bytes, span: tuple[int, int], value: bytes) -> bytes:
    start, length = span
    return line[:start] + value.ljust(length, b" ") + line[start + length :]


def _bad_rows(lines: list[bytes], mapping: Path) -> dict[str, bytes]:
    """One broken copy of a good row per kind of bad input (each in a household of its own)."""
    base = lines[0]
    hh = _field(mapping, "household_key")
    zk = _field(mapping, "zokugara")
    own = {}
    for i, kind in enumerate(
        ["encoding", "date", "juminhyo", "mynumber", "code", "gaiji", "duplicate"]
    ):
        row = _set(base, hh, f"X{i:09d}".encode())
        row = _set(row, zk, "世帯主".encode("cp932"))
        own[kind] = row
    fam = _field(mapping, "family_name")
    own["encoding"] = _set(own["encoding"], fam, b"\x81\x7f\x93\x63")
    own["date"] = _set(own["date"], _field(mapping, "birth_date"), b"5060231")
    jc = _field(mapping, "juminhyo_code")
    good = base[jc[0] : jc[0] + jc[1]].decode()
    wrong = good[:10] + str((juminhyo_code_check_digit(good[:10]) + 1) % 10)
    own["juminhyo"] = _set(own["juminhyo"], jc, wrong.encode())
    mn = _field(mapping, "my_number")
    number = base[mn[0] : mn[0] + mn[1]].decode().strip() or "123456789012"
    own["mynumber"] = _set(
        _set(own["mynumber"], jc, b""), mn, (number[:11] + str((int(number[11]) + 1) % 10)).encode()
    )
    own["code"] = _set(_set(own["code"], jc, b""), _field(mapping, "sex"), b"X")
    own["code"] = _set(own["code"], mn, b"")
    kana = _field(mapping, "family_name_kana")
    own["gaiji"] = _set(own["gaiji"], fam, b"\xf1\x41" + "田".encode("cp932"))
    own["gaiji"] = _set(own["gaiji"], kana, "ヨシダ".encode("cp932"))
    own["duplicate"] = _set(own["duplicate"], mn, b"")  # same 住民票コード as row 1
    return own


def test_bad_input_is_rejected_row_by_row_and_nothing_else_is_lost(
    db: Database, tmp_path: Path, ctx: Context
) -> None:
    tenant = create_tenant(db, "移行市")
    data, mapping_path = synth_to_files(
        tmp_path, tenant, 300, 21, legacy_format="cp932-fixed", today=ctx.today
    )
    mapping_path = with_batch_size(mapping_path, 60)
    lines = [ln for ln in data.read_bytes().split(b"\r\n") if ln]
    bad = _bad_rows(lines, mapping_path)
    truncated = lines[1][:200]
    body = b"".join(ln + b"\r\n" for ln in [*lines, *bad.values()]) + truncated
    data.write_bytes(body)
    mapping = load_mapping(mapping_path)

    outcome = import_file(db, tenant, data, mapping, ctx=ctx)

    total = len(lines) + len(bad) + 1
    assert outcome.total == total
    assert outcome.imported + outcome.rejected + outcome.worklist + outcome.present == total
    assert outcome.worklist == 1 and outcome.present == 0  # the 外字 row waits for 同定
    with db.unit_of_work(tenant) as uow:
        rejects = {r.row_no: r for r in uow.session.scalars(select(ImportRejectRow))}
        imported = uow.session.scalar(select(func.count()).select_from(CurrentRow))
        history = uow.session.scalar(
            select(func.count()).where(HistoryRow.history_no == 1).select_from(HistoryRow)
        )
        batches = list(
            uow.session.scalars(select(ImportBatchRow).order_by(ImportBatchRow.batch_no))
        )
        file_row = uow.session.scalars(select(ImportFileRow)).one()
        audits = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.action == "batch.update")
        ).all()
        uow.commit()  # keep the loaded rows readable after the unit of work
    row_of = {kind: len(lines) + i + 1 for i, kind in enumerate(bad)}
    expected_rules = {
        "encoding": "encoding",
        "date": None,  # the calendar's own code for 2月31日
        "juminhyo": None,
        "mynumber": None,
        "code": "code.unknown",
        "gaiji": "gaiji.unmapped",
        "duplicate": "person.duplicate",
    }
    for kind, rule in expected_rules.items():
        rej = rejects[row_of[kind]]
        if rule:
            assert rej.rule == rule, (kind, rej.rule, rej.reason)
        assert any("\u3040" <= ch <= "\u9fff" for ch in rej.reason), rej.reason
    assert "生年月日" in rejects[row_of["date"]].reason
    assert "住民票コード" in rejects[row_of["juminhyo"]].reason
    assert "個人番号" in rejects[row_of["mynumber"]].reason
    assert rejects[total].rule == "truncated"
    assert "途中で切れて" in rejects[total].reason
    assert len(rejects) == len(bad) + 1  # every good synthetic row was imported
    assert imported == history == len(lines) == outcome.imported
    assert file_row.status == "done"
    assert file_row.imported + file_row.rejected + file_row.worklist == total
    assert sum(b.imported + b.rejected + b.worklist for b in batches) == total
    assert rejects[row_of["gaiji"]].outcome == "worklist"
    assert [b.batch_no for b in batches] == list(range(1, len(batches) + 1))
    assert all(b.first_row == a.last_row + 1 for a, b in itertools.pairwise(batches))
    # one audit record per batch that entered anyone, carrying the count (not one per person)
    loaded_batches = [b for b in batches if b.imported]
    assert len(batches) >= 5 and len(audits) == len(loaded_batches)
    assert sorted(a.detail["count"] for a in audits) == sorted(b.imported for b in loaded_batches)
    # My Numbers never reach the reject list in clear
    for r in rejects.values():
        for ln in lines:
            mn = load_mapping(mapping_path).fields["my_number"]
            number = ln[mn.start : mn.start + mn.length].decode().strip()
            if number:
                assert number not in r.raw

    html, xlsx, report = write_reports(db, tenant, [outcome.sha256], tmp_path / "rep", actor=ACTOR)
    text = html.read_text("utf-8")
    assert "外字同定の作業リスト" in text and "U+E0BD" in text
    work = [g for g in report.gaiji if g.sjis == "F141"]
    assert work and work[0].occurrences == 1
    candidates = [c for c, _n in work[0].candidates]
    assert "吉" in candidates or "𠮷" in candidates  # ヨシダ on the register suggests 吉/𠮷
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["ファイル", "規則ごとの件数", "外字作業リスト", "不採用の行"]
    assert wb["不採用の行"].max_row == len(rejects) + 1
    rules = {row[1]: row[3] for row in wb["規則ごとの件数"].iter_rows(min_row=2, values_only=True)}
    assert rules["gaiji.unmapped"] == 1 and rules["gaiji.mapped"] >= 1


def test_rerun_of_a_finished_file_imports_nothing_twice(
    db: Database, tmp_path: Path, ctx: Context
) -> None:
    tenant = create_tenant(db, "再実行市")
    data, mapping_path = synth_to_files(
        tmp_path, tenant, 120, 2, legacy_format="utf8-csv", today=ctx.today
    )
    mapping = load_mapping(with_batch_size(mapping_path, 50))
    first = import_file(db, tenant, data, mapping, ctx=ctx)
    again = import_file(db, tenant, data, mapping, ctx=ctx)
    assert first.imported == 120 and first.rejected == 0
    assert again.resumed and again.batches == 0 and again.skipped_batches == first.batches
    with db.unit_of_work(tenant) as uow:
        assert uow.session.scalar(select(func.count()).select_from(CurrentRow)) == 120
    # the same persons in an edited file (another hash) are recognised as already present
    copy = tmp_path / "copy.csv"
    copy.write_bytes(data.read_bytes() + b"\r\n")
    dup = import_file(db, tenant, copy, mapping, ctx=ctx)
    assert dup.imported == 0 and dup.present == 120 and dup.rejected == 0


def test_utf8_csv_with_truncated_last_line(db: Database, tmp_path: Path, ctx: Context) -> None:
    tenant = create_tenant(db, "CSV市")
    data, mapping_path = synth_to_files(
        tmp_path, tenant, 80, 5, legacy_format="utf8-csv", today=ctx.today
    )
    raw = data.read_bytes()
    data.write_bytes(raw[: len(raw) - 2 - 60])  # cut the last record short, no line break
    outcome = import_file(db, tenant, data, load_mapping(mapping_path), ctx=ctx)
    assert outcome.total == 80 and outcome.imported == 79 and outcome.rejected == 1
    with db.unit_of_work(tenant) as uow:
        rej = uow.session.scalars(select(ImportRejectRow)).one()
        uow.commit()
    assert rej.row_no == 80 and rej.rule == "truncated" and "途中で切れて" in rej.reason
