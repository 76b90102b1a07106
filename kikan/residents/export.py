"""Export of the whole register in the standard data layout (データ要件: "export all data in the
standard layout at any time").

One CSV per data group of the 住民記録 layout (kikan/standard/data/layouts/residents.toml),
UTF-8 with the layout's Japanese item names as header, plus `manifest.json` (row counts, sha256).
Everything is read in one unit of work opened as a snapshot, so the files agree with each other
even while the counters keep working; rows are streamed (`yield_per`), so memory stays bounded
whatever the size of the city. The export is audited as データ抽出.

Decisions: 不詳-capable dates are written in the RegisterDate storage form (they stay 不詳 in
linkage), real dates as ISO dates; 個人番号 is left empty unless the caller passes a key ring
and `include_my_number=True` (an export file is a copy outside the database's protections).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from kikan.platform import audit
from kikan.platform.crypto import KeyRing
from kikan.platform.types import TRUSTED
from kikan.platform.uow import Database
from kikan.residents.domain import Address, OtherAddress, Snapshot, Status
from kikan.residents.module import FUNCTIONS
from kikan.residents.store import CurrentRow, HistoryRow, HouseholdRow, SupportMeasureRow
from kikan.standard.codes import CodeError, code_table
from kikan.standard.layouts import Group, layout
from kikan.standard.zokugara import parse_zokugara

JST = ZoneInfo("Asia/Tokyo")
LAYOUT = "住民記録"
STATUS_CODES = {
    Status.RESIDENT: "10",
    Status.MOVING_OUT: "11",
    Status.MOVED_OUT: "20",
    Status.DEAD: "21",
    Status.REMOVED: "22",
}


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


def _reason_code(label: str) -> str:
    if not label:
        return ""
    table = code_table("idou_jiyu")
    try:
        return table.by_label(label)
    except CodeError:
        return table.by_label("異動の取消し（減）") if label.startswith("異動の取消し") else ""


def _postal(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def _address_row(
    atena: str, kind: str, a: Address | None, other: OtherAddress | None
) -> dict[str, str]:
    base = a or (other.address if other else None)
    row = {"atena_number": atena, "address_kind": kind}
    if base is not None:
        row.update(
            city_code=base.city_code,
            town_code=base.town_code,
            prefecture=base.prefecture,
            city=base.city,
            town=base.town,
            banchi=base.banchi,
            katagaki=base.katagaki,
            katagaki_kana=base.katagaki_kana,
            postal_code=_postal(base.postal_code),
        )
    if other is not None:
        row.update(
            country_code=other.country_code,
            foreign_address=other.foreign_address,
            unreported="1" if other.unreported else "0",
        )
    return row


def _person_row(s: Snapshot, my_number: str) -> dict[str, str]:
    honseki = s.honseki if s.honseki is not None and s.honseki.kind == "記載" else None
    f = s.foreign
    move_out = s.move_out
    return {
        "atena_number": s.atena_number,
        "household_number": s.household_number,
        "juminhyo_code": s.juminhyo_code,
        "my_number": my_number,
        "resident_kind": s.resident_kind,
        "status": STATUS_CODES[s.status],
        "family_name": s.family_name,
        "given_name": s.given_name,
        "family_name_kana": s.family_name_kana,
        "given_name_kana": s.given_name_kana,
        "name_furigana": s.name_furigana,
        "kyuuji": s.kyuuji,
        "kyuuji_kana": s.kyuuji_kana,
        "tsuushou": s.tsuushou,
        "tsuushou_kana": s.tsuushou_kana,
        "roman_name": s.roman_name,
        "foreign_kanji_name": s.foreign_kanji_name,
        "sex": s.sex,
        "birth_date": s.birth_date,
        "zokugara": s.zokugara,
        "zokugara_code": parse_zokugara(s.zokugara).code,
        "became_resident_date": s.became_resident_date,
        "address_set_date": s.address_set_date,
        "move_out_planned_date": move_out.planned_date if move_out else "",
        "move_out_notified_date": move_out.notified_date if move_out else "",
        "honseki_prefecture": honseki.prefecture if honseki else "",
        "honseki_city": honseki.city if honseki else "",
        "honseki_town": honseki.town if honseki else "",
        "honseki_chiban": honseki.chiban if honseki else "",
        "honseki_head_family_name": honseki.head_family_name if honseki else "",
        "honseki_head_given_name": honseki.head_given_name if honseki else "",
        "nationality": f.nationality if f else "",
        "article_30_45": f.article_30_45 if f else "",
        "status_of_residence": f.status_of_residence if f else "",
        "period_of_stay": f.period_of_stay if f else "",
        "expiry_date": f.expiry_date if f else "",
        "card_number": f.card_number if f else "",
        "became_foreign_resident": f.became_foreign_resident if f else "",
        "removal_reason": _reason_code(s.removal_reason),
        "removal_date": s.removal_date,
        "district_code": s.district_code,
        "basic_pension_number": s.memberships.basic_pension_number,
    }


#: ASCII → full width, for items the layout types Ｎ (全角文字): foreign residents' names and
#: フリガナ are often entered in ASCII letters and spaces. Lossless and reversible (NFKC).
_ZENKAKU = {c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {0x20: 0x3000}


@cache
def _item_plan(layout_name: str, group_code: str) -> tuple[tuple[str, bool], ...]:
    """(item code, is Ｎ) per item of a group, computed once: rows are written by the million."""
    return tuple((i.code, i.type == "Ｎ") for i in layout(layout_name).group(group_code).items)


def standard_values(group: Group, row: Mapping[str, str]) -> list[str]:
    """The values of `row` in the order of `group`'s items, as the export writes them (Ｎ items
    in full width). Shared by the CSV export and the linkage feed, so both say the same thing."""
    return [
        row.get(code, "").translate(_ZENKAKU) if zenkaku else row.get(code, "")
        for code, zenkaku in _item_plan(LAYOUT, group.code)
    ]


def person_record(snapshot: Snapshot, my_number: str = "") -> dict[str, str]:
    """One person as the linkage feed sends them: the `person` group's row exactly as the
    export's person.csv (item code → value), plus the items of their current 住所 (the
    `address` group's row of 住所区分 1, without its key columns; no code collides)."""
    row = _person_row(snapshot, my_number)
    record = {
        code: row.get(code, "").translate(_ZENKAKU) if zenkaku else row.get(code, "")
        for code, zenkaku in _item_plan(LAYOUT, "person")
    }
    current = _address_row(snapshot.atena_number, "1", snapshot.address, None)
    for code, zenkaku in _item_plan(LAYOUT, "address"):
        if code not in ADDRESS_KEYS:
            value = current.get(code, "")
            record[code] = value.translate(_ZENKAKU) if zenkaku else value
    return record


#: The address group's key items, left out of a linkage record (the person row has the number).
ADDRESS_KEYS = ("atena_number", "address_kind")


class _Writer:
    """One CSV per group, hashed while written."""

    def __init__(self, directory: Path, group: Group) -> None:
        self.group = group
        self.path = directory / f"{group.code}.csv"
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow([i.name for i in group.items])
        self.rows = 0

    def write(self, row: Mapping[str, str]) -> None:
        self._csv.writerow(standard_values(self.group, row))
        self.rows += 1

    def close(self) -> ExportedFile:
        self._file.close()
        data = self.path.read_bytes()
        return ExportedFile(
            self.group.code, self.path.name, self.rows, hashlib.sha256(data).hexdigest(), len(data)
        )


def latest_snapshots(
    uow: Any,
    *,
    after: str | None = None,
    atena_numbers: Sequence[str] | None = None,
    limit: int | None = None,
) -> Iterator[Snapshot]:
    """Every person's latest snapshot in 宛名番号 order; optionally only those after `after`
    (keyset paging), only the given persons, and at most `limit` of them."""
    stmt = (
        select(HistoryRow.snapshot)
        .select_from(CurrentRow)
        .join(
            HistoryRow,
            and_(
                HistoryRow.tenant_code == CurrentRow.tenant_code,
                HistoryRow.atena_number == CurrentRow.atena_number,
                HistoryRow.history_no == CurrentRow.history_no,
            ),
        )
        .order_by(CurrentRow.atena_number)
        .execution_options(yield_per=1000)
    )
    if after is not None:
        stmt = stmt.where(CurrentRow.atena_number > after)
    if atena_numbers is not None:
        stmt = stmt.where(CurrentRow.atena_number.in_(list(atena_numbers)))
    if limit is not None:
        stmt = stmt.limit(limit)
    for snap in uow.session.scalars(stmt):
        yield Snapshot.model_validate(snap, context=TRUSTED)


def export_standard(
    db: Database,
    tenant: str,
    out_dir: Path,
    *,
    actor: audit.Actor,
    keyring: KeyRing | None = None,
    include_my_number: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> Manifest:
    """Write every 住民記録 data group of `tenant` to `out_dir` (created if needed)."""
    lay = layout(LAYOUT)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(tenant, LAYOUT, lay.version, datetime.now(UTC).isoformat())
    writers = {g.code: _Writer(out_dir, g) for g in lay.groups}
    tick = progress or (lambda _group, _n: None)
    try:
        with db.unit_of_work(tenant, snapshot=True) as uow:
            heads: dict[str, str] = {}
            for snap in latest_snapshots(uow):
                token = snap.my_number_token
                number = ""
                if include_my_number and keyring is not None and token:
                    number = keyring.decrypt_my_number(token, context=tenant).reveal()
                writers["person"].write(_person_row(snap, number))
                if snap.status.is_active and snap.is_head:
                    heads[snap.household_number] = snap.full_name
                w = writers["address"]
                w.write(_address_row(snap.atena_number, "1", snap.address, None))
                if snap.prior_address is not None:
                    w.write(_address_row(snap.atena_number, "2", None, snap.prior_address))
                if snap.previous_address is not None:
                    w.write(_address_row(snap.atena_number, "3", None, snap.previous_address))
                if snap.move_out is not None:
                    kind = "5" if snap.move_out.confirmed else "4"
                    w.write(_address_row(snap.atena_number, kind, None, snap.move_out.destination))
                tick("person", writers["person"].rows)
            for hh in uow.session.scalars(
                select(HouseholdRow).order_by(HouseholdRow.household_number)
            ):
                writers["household"].write(
                    {
                        "household_number": hh.household_number,
                        "head_name": heads.get(hh.household_number, ""),
                    }
                )
            history = (
                select(HistoryRow)
                .order_by(HistoryRow.atena_number, HistoryRow.history_no)
                .execution_options(yield_per=1000)
            )
            for h in uow.session.scalars(history):
                writers["history"].write(
                    {
                        "atena_number": h.atena_number,
                        "history_no": str(h.history_no),
                        "household_number": h.household_number,
                        "reason": _reason_code(h.reason),
                        "valid_from": h.valid_from.isoformat(),
                        "notified_date": h.notified_date.isoformat() if h.notified_date else "",
                        "recorded_at": h.recorded_at.astimezone(JST).date().isoformat(),
                    }
                )
                tick("history", writers["history"].rows)
            for m in uow.session.scalars(
                select(SupportMeasureRow)
                .where(SupportMeasureRow.ended_on.is_(None))
                .order_by(SupportMeasureRow.atena_number)
            ):
                writers["support_measure"].write(
                    {
                        "atena_number": m.atena_number,
                        "support_kind": "2" if m.kind == "provisional" else "1",
                        "start_date": m.start_date.isoformat(),
                        "end_date": m.end_date.isoformat(),
                    }
                )
            manifest.files = [w.close() for w in writers.values()]
            audit.append(
                uow,
                actor,
                audit.AuditEvent(
                    category="operation",
                    action="euc",
                    function=FUNCTIONS.entry("residents.standard_export"),
                    mynumber_accessed=include_my_number,
                    detail={"files": {f.group: f.rows for f in manifest.files}},
                ),
            )
            uow.commit()
    finally:
        for w in writers.values():
            if not w._file.closed:
                w._file.close()
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest
