"""新旧番号対照表: the cross-reference legacy → Kikan number of every migrated person.

Other systems (tax, insurance, welfare) key on the legacy 宛名番号; when the tenant renumbers
at migration, this table is how they translate at cut-over. It is searchable both ways and
exported as CSV; both are audited (the table links persons to numbers).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from kikan.migration.module import FUNCTIONS
from kikan.migration.store import ImportFileRow, MigrationPersonRow
from kikan.platform import audit
from kikan.platform.ids import DEFAULT_ATENA_WIDTH
from kikan.platform.uow import Database

COLUMNS = ("旧宛名番号", "宛名番号", "旧世帯番号", "世帯番号", "取込ファイル", "行")


def _variants(number: str) -> list[str]:
    """A legacy number as typed, and zero-padded to the register's width (kept numbers are
    stored padded)."""
    digits = number.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return sorted({digits, digits.zfill(DEFAULT_ATENA_WIDTH)})


def find(
    db: Database,
    tenant: str,
    *,
    legacy: str = "",
    atena: str = "",
    actor: audit.Actor,
) -> list[dict[str, Any]]:
    """Rows of the table for a legacy number and/or a Kikan 宛名番号 (both empty: all)."""
    with db.unit_of_work(tenant) as uow:
        stmt = select(MigrationPersonRow, ImportFileRow.name).join(
            ImportFileRow,
            ImportFileRow.file_sha256 == MigrationPersonRow.file_sha256,
            isouter=True,
        )
        if legacy:
            stmt = stmt.where(
                or_(
                    MigrationPersonRow.legacy_atena.in_(_variants(legacy)),
                    MigrationPersonRow.legacy_household.in_(_variants(legacy)),
                )
            )
        if atena:
            stmt = stmt.where(
                or_(
                    MigrationPersonRow.atena_number == atena.strip(),
                    MigrationPersonRow.household_number == atena.strip(),
                )
            )
        rows = [
            {
                "旧宛名番号": p.legacy_atena,
                "宛名番号": p.atena_number,
                "旧世帯番号": p.legacy_household,
                "世帯番号": p.household_number,
                "取込ファイル": name or "",
                "行": p.row_no,
            }
            for p, name in uow.session.execute(
                stmt.order_by(MigrationPersonRow.legacy_atena, MigrationPersonRow.atena_number)
            )
        ]
        uow.commit()
    audit.append_now(
        db,
        tenant,
        actor,
        audit.AuditEvent(
            category="operation",
            action="euc",
            function=FUNCTIONS.entry("migration.xref_inquiry"),
            detail={"rows": len(rows), "by_legacy": bool(legacy), "by_atena": bool(atena)},
        ),
    )
    return rows


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """UTF-8 with BOM (opens in spreadsheet software as is), CRLF lines."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
