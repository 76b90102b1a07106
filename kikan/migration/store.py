"""Tables of 移行 (legacy import). Only `kikan.migration` reads or writes them.

- `migration_files`: one row per (tenant, input file sha256): name, batch size, running totals
  and status. The totals are updated in the same transaction as each batch, so they always equal
  the sum over the committed batches.
- `migration_batches`: the batch ledger. A batch is a deterministic row range of one file; its
  ledger row is inserted in the same transaction as the batch's residents and rejects, so after a
  crash (even SIGKILL) a rerun skips exactly the committed batches: no duplicates, no losses.
- `migration_rejects`: one row per rejected input row (rule, Japanese reason, item, the raw row
  with My Numbers redacted) plus, for an unmapped 外字, the character for the worklist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


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
