"""Tables of 移行 (legacy import). Only `kikan.migration` reads or writes them.

- `migration_files`: one row per (tenant, input file sha256): name, batch size, running totals
  and status. The totals are updated in the same transaction as each batch, so they always equal
  the sum over the committed batches.
- `migration_batches`: the batch ledger. A batch is a deterministic row range of one file; its
  ledger row is inserted in the same transaction as the batch's residents and rejects, so after a
  crash (even SIGKILL) a rerun skips exactly the committed batches: no duplicates, no losses.
- `migration_rejects`: one row per input row that was not imported (rule, Japanese reason,
  item, the raw row with My Numbers redacted), with its `outcome`: `rejected` (bad data),
  `worklist` (a person decides: 外字同定, a name to split) or `present` (the person is already
  on the register from an earlier import) — plus, for a 外字, the character and candidates.
- `migration_persons`: one row per person a migration entered: the legacy 宛名番号 and 世帯番号
  beside the Kikan ones (the cross-reference table 新旧番号対照表; identical when the mapping
  keeps the legacy numbers), the input row, and the item texts as the file had them when a
  cleansing rule changed them (フリガナ widened, names split). Reruns and edited files find
  persons already imported here (idempotence by content, not by file hash).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow

#: `mapping_sha256` of the ledger rows of `kikan synth` cities (they share these tables)
SYNTH_MAPPING = "synth"


class ImportFileRow(TenantOwned, Base):
    __tablename__ = "migration_files"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    mapping_sha256: Mapped[str] = mapped_column(String(64))
    batch_size: Mapped[int] = mapped_column(Integer)
    total_rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worklist: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12))  # running | done
    cleansing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # rule → count
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ImportBatchRow(TenantOwned, Base):
    __tablename__ = "migration_batches"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    file_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    present: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worklist: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12))  # committed
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportRejectRow(TenantOwned, Base):
    __tablename__ = "migration_rejects"
    __table_args__ = (Index("ix_migration_rejects_file", "tenant_code", "file_sha256", "row_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    batch_no: Mapped[int] = mapped_column(Integer)
    row_no: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    item: Mapped[str] = mapped_column(String(60), default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: rejected | worklist | present
    outcome: Mapped[str] = mapped_column(String(12), default="rejected", server_default="rejected")


class MigrationPersonRow(TenantOwned, Base):
    __tablename__ = "migration_persons"
    __table_args__ = (
        Index("ix_migration_persons_legacy", "tenant_code", "legacy_atena"),
        Index("ix_migration_persons_legacy_household", "tenant_code", "legacy_household"),
    )

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    atena_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    household_number: Mapped[str] = mapped_column(String(15))
    legacy_atena: Mapped[str] = mapped_column(String(40), default="")
    legacy_household: Mapped[str] = mapped_column(String(40), default="")
    file_sha256: Mapped[str] = mapped_column(String(64))
    row_no: Mapped[int] = mapped_column(Integer)
    original: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # item → text as read
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
