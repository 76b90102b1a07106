"""Standard-layout export: every data group, a manifest that matches the files, and Kikan's own
export passes the open conformance checker (on both backends)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from sqlalchemy import func, select

from kikan.conformance import check_files
from kikan.platform import audit
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.residents.demo import seed_residents
from kikan.residents.export import export_standard
from kikan.residents.store import CurrentRow, HistoryRow
from tests.conftest import create_tenant

ACTOR = audit.Actor(kind="operator", id="pytest-export")


def test_export_is_complete_consistent_and_conforming(db: Database, tmp_path: Path) -> None:
    tenant = create_tenant(db, "出力市")
    seed_residents(db, tenant, count=80)
    manifest = export_standard(db, tenant, tmp_path, actor=ACTOR)
    rows = {f.group: f.rows for f in manifest.files}
    with db.unit_of_work(tenant) as uow:
        persons = uow.session.scalar(select(func.count()).select_from(CurrentRow))
        history = uow.session.scalar(select(func.count()).select_from(HistoryRow))
        exports = [
            r.detail
            for r in uow.session.scalars(
                select(AuditRecordRow).where(AuditRecordRow.action == "euc")
            )
        ]
    assert rows["person"] == persons and rows["history"] == history
    assert rows["support_measure"] == 1 and rows["household"] > 0
    assert len(exports) == 1 and exports[0]["files"]["person"] == persons
    written = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    for f in written["files"]:
        data = (tmp_path / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert data.count(b"\n") == f["rows"] + 1  # header + rows
    report = check_files("住民記録", sorted(tmp_path.glob("*.csv")))
    assert report.ok, [(x.file, x.line, x.item, x.message) for x in report.findings[:5]]
    # My Numbers stay out of the files unless asked for
    with (tmp_path / "person.csv").open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    column = table[0].index("個人番号")
    assert all(row[column] == "" for row in table[1:])
