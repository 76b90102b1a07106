"""Export of every 附票 in the standard data layout (データ要件: "export all data in the standard
layout at any time"), the 附票's side of `kikan export standard`.

One UTF-8 CSV per data group of kikan/standard/data/layouts/fuhyo.toml (附票, 附票の異動, 附票の
記載 with every version, 附票記載事項通知), the layout's Japanese item names as header, plus
`manifest.json` (row counts, sha256). The caller opens the unit of work as a snapshot
(`db.unit_of_work(tenant, snapshot=True)`), so the four files agree with each other while notices
and the sync keep writing; rows are streamed (`yield_per`), so memory stays bounded. The export
is one access-log record (`fuhyo.audit.export`) in the same unit of work.

Decisions: dates the 附票 keeps as RegisterDate (生年月日, 住所を定めた年月日, 不詳 allowed) are
written in its storage form, real days as ISO dates; Ｎ items are written in full width (ASCII
letters, digits and spaces of reasons and names are folded, losslessly by NFKC); codes (区分,
出所, 処理状況) are the layout's, not the table's English words.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kikan.fuhyo import domain
from kikan.fuhyo.service import notices, records
from kikan.fuhyo.store import FuhyoEntryRow, FuhyoNoticeRow, FuhyoRecordEventRow, FuhyoRecordRow
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.standard.layouts import Group, layout

LAYOUT = "fuhyo"
JST = ZoneInfo("Asia/Tokyo")
RECORD_TYPE_CODES = {domain.FUHYO: "1", domain.JO_FUHYO: "2", domain.KAISEI_GEN: "3"}
SOURCE_CODES = {domain.SOURCE_LINKAGE: "1", domain.SOURCE_NOTICE: "2", domain.SOURCE_STAFF: "3"}
STATUS_CODES = {
    notices.APPLIED: "1",
    notices.PENDING: "2",
    notices.ATTACHED: "3",
    notices.REJECTED: "4",
}

#: ASCII → full width for Ｎ items (reasons typed with half-width digits, "x", spaces)
_ZENKAKU = {c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {0x20: 0x3000}


@dataclass(frozen=True)
class ExportStandard:
    """Write every data group of the 附票 layout to `out_dir` (created if needed)."""

    out_dir: Path


@dataclass
class ExportedFile:
    group: str
    path: str
    rows: int
    sha256: str
    bytes: int


@dataclass
class Manifest:
    tenant: str
    layout: str
    layout_version: str
    exported_at: str
    files: list[ExportedFile] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "layout": self.layout,
            "layout_version": self.layout_version,
            "exported_at": self.exported_at,
            "files": [f.__dict__ for f in self.files],
        }


class _Writer:
    """One CSV of one group, hashed when closed; Ｎ items in full width."""

    def __init__(self, directory: Path, group: Group) -> None:
        self.group = group
        self.path = directory / f"{group.code}.csv"
        self.plan = tuple((i.code, i.type == "Ｎ") for i in group.items)
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(group.header)
        self.rows = 0

    def write(self, row: Mapping[str, str]) -> None:
        self._csv.writerow(
            [row.get(c, "").translate(_ZENKAKU) if n else row.get(c, "") for c, n in self.plan]
        )
        self.rows += 1

    def close(self) -> ExportedFile:
        self._file.close()
        data = self.path.read_bytes()
        return ExportedFile(
            self.group.code, self.path.name, self.rows, hashlib.sha256(data).hexdigest(), len(data)
        )

    def __enter__(self) -> _Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._file.closed:
            self._file.close()


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _jst_day(moment: datetime | None) -> str:
    return moment.astimezone(JST).date().isoformat() if moment is not None else ""


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def _records(uow: UnitOfWork) -> Iterator[dict[str, str]]:
    stmt = select(FuhyoRecordRow).order_by(FuhyoRecordRow.id).execution_options(yield_per=1000)
    for r in uow.session.scalars(stmt):
        yield {
            "record_id": str(r.id),
            "record_type": RECORD_TYPE_CODES[r.record_type],
            "honseki_prefecture": r.prefecture,
            "honseki_city": r.city,
            "honseki_town": r.town,
            "honseki_chiban": r.chiban,
            "head_family_name": r.head_family_name,
            "head_given_name": r.head_given_name,
            "closed_on": _day(r.closed_on),
            "replaced_by": _num(r.replaced_by),
            "created_on": _jst_day(r.created_at),
        }


def _events(uow: UnitOfWork) -> Iterator[dict[str, str]]:
    stmt = (
        select(FuhyoRecordEventRow)
        .order_by(FuhyoRecordEventRow.id)
        .execution_options(yield_per=1000)
    )
    for e in uow.session.scalars(stmt):
        yield {
            "record_id": str(e.record_id),
            "event_no": str(e.id),
            "action": e.action,
            "record_type": RECORD_TYPE_CODES[e.record_type],
            "effective_on": _day(e.effective_on),
            "reason": e.reason,
        }


def _entry_row(e: FuhyoEntryRow, latest: bool) -> dict[str, str]:
    return {
        "record_id": str(e.record_id),
        "entry_no": str(e.entry_no),
        "rev": str(e.rev),
        "latest": "1" if latest else "0",
        "atena_number": e.atena_number,
        "family_name": e.family_name,
        "given_name": e.given_name,
        "family_name_kana": e.family_name_kana,
        "given_name_kana": e.given_name_kana,
        "birth_date": e.birth_date,
        "sex": e.sex,
        "juminhyo_code": e.juminhyo_code,
        "prefecture": e.prefecture,
        "city": e.city,
        "town": e.town,
        "banchi": e.banchi,
        "katagaki": e.katagaki,
        "address_set_date": e.address_set_date,
        "zaigai_note": e.zaigai_note,
        "removed": "1" if e.removed else "0",
        "removed_on": _day(e.removed_on),
        "source": SOURCE_CODES[e.source],
        "reason": e.reason,
        "notice_id": _num(e.notice_id),
        "recorded_on": _jst_day(e.recorded_at),
    }


def _entries(uow: UnitOfWork) -> Iterator[dict[str, str]]:
    """Every version in (附票, 記載, 版) order; a version is the latest when the next row is
    another entry (one row of look-ahead, so the stream stays a stream)."""
    stmt = (
        select(FuhyoEntryRow)
        .order_by(FuhyoEntryRow.record_id, FuhyoEntryRow.entry_no, FuhyoEntryRow.rev)
        .execution_options(yield_per=1000)
    )
    held: FuhyoEntryRow | None = None
    for e in uow.session.scalars(stmt):
        if held is not None:
            yield _entry_row(held, (held.record_id, held.entry_no) != (e.record_id, e.entry_no))
        held = e
    if held is not None:
        yield _entry_row(held, True)


def _notices(uow: UnitOfWork) -> Iterator[dict[str, str]]:
    stmt = select(FuhyoNoticeRow).order_by(FuhyoNoticeRow.id).execution_options(yield_per=1000)
    for n in uow.session.scalars(stmt):
        said = n.payload
        h = said.get("honseki", {})
        p = said.get("person", {})
        a = p.get("address", {})
        yield {
            "notice_id": str(n.id),
            "received_on": _jst_day(n.received_at),
            "sender_code": n.sender_code,
            "sender_name": n.sender_name,
            "notice_date": _day(n.notice_date),
            "reason": n.reason,
            "status": STATUS_CODES[n.status],
            "honseki": "".join(h.get(k, "") for k in ("prefecture", "city", "town", "chiban")),
            "hittousha": "　".join(
                v for v in (h.get("head_family_name", ""), h.get("head_given_name", "")) if v
            ),
            "name": "　".join(v for v in (p.get("family_name", ""), p.get("given_name", "")) if v),
            "birth_date": p.get("birth_date", ""),
            "juminhyo_code": p.get("juminhyo_code", ""),
            "address": domain.Address(**a).text if a else "",
            "address_set_date": p.get("address_set_date", ""),
            "record_id": _num(n.record_id),
            "entry_no": _num(n.entry_no),
            "resolution": n.resolution,
        }


def export_standard(uow: UnitOfWork, ctx: Context, command: ExportStandard) -> Manifest:
    """Write the four data groups and the manifest; audited in the caller's unit of work (open
    it as a snapshot so the files agree with each other)."""
    lay = layout(LAYOUT)
    out_dir = command.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(uow.tenant, lay.name, lay.version, datetime.now(UTC).isoformat())
    sources = {
        "record": _records,
        "event": _events,
        "entry": _entries,
        "notice": _notices,
    }
    for group in lay.groups:
        with _Writer(out_dir, group) as writer:
            for row in sources[group.code](uow):
                writer.write(row)
            manifest.files.append(writer.close())
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    records.log(
        uow,
        ctx.actor,
        "fuhyo.audit.export",
        "euc",
        detail={"layout": lay.name, "files": {f.group: f.rows for f in manifest.files}},
    )
    return manifest
