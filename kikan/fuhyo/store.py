"""Tables of 戸籍の附票 (its own; no other module reads them).

`fuhyo_persons` is the module's own replica of the 宛名 it needs and `fuhyo_link` its linkage
client and sync cursor: both filled only through 庁内データ連携 by the linkage-consumer kit
(ADR 0012), whose mixins give their columns. `fuhyo_records`, `fuhyo_record_events`,
`fuhyo_entries` and `fuhyo_notices` are the 附票 themselves. Every table is tenant-owned
(`TenantOwned`) and gets forced row-level security in the module's migration
(`kikan.platform.rls.enable_rls`);
tests/platform/test_migrations.py checks that these
models match what the migrations build.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kikan.linkage.consumer.replica import AtenaReplicaMixin, LinkStateMixin
from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class FuhyoPersonRow(AtenaReplicaMixin, TenantOwned, Base):
    """宛名 replica: the latest record delivered for one 宛名番号 (the kit's columns)."""

    __tablename__ = "fuhyo_persons"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)


class FuhyoLinkRow(LinkStateMixin, TenantOwned, Base):
    """This tenant's linkage client and where the sync stands (the kit's columns)."""

    __tablename__ = "fuhyo_link"
    __table_args__ = (UniqueConstraint("tenant_code"),)


class FuhyoRecordRow(TenantOwned, Base):
    """One 附票: the 戸籍 it belongs to (本籍 + 筆頭者) and its type. The identity never changes;
    the type moves 附票 → 除附票 / 改製原附票 only through an event (`FuhyoRecordEventRow`)."""

    __tablename__ = "fuhyo_records"
    __table_args__ = (Index("ix_fuhyo_records_key", "tenant_code", "honseki_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(10))
    honseki_key: Mapped[str] = mapped_column(String(600))
    prefecture: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(60))
    town: Mapped[str] = mapped_column(String(120))
    chiban: Mapped[str] = mapped_column(String(120))
    head_family_name: Mapped[str] = mapped_column(String(100))
    head_given_name: Mapped[str] = mapped_column(String(100))
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    replaced_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class FuhyoRecordEventRow(TenantOwned, Base):
    """What happened to a 附票 as a whole (作成, 除附票になった, 改製): append-only."""

    __tablename__ = "fuhyo_record_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20))
    record_type: Mapped[str] = mapped_column(String(10))
    effective_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(100))


class FuhyoEntryRow(TenantOwned, Base):
    """One person's entry on a 附票, one row per version (`rev` 1, 2, 3 …): every change writes a
    full new row and no row is ever updated, so the history is the table itself. The current
    version of an entry is its highest `rev`."""

    __tablename__ = "fuhyo_entries"
    __table_args__ = (
        UniqueConstraint("tenant_code", "record_id", "entry_no", "rev"),
        Index("ix_fuhyo_entries_atena", "tenant_code", "atena_number"),
        Index("ix_fuhyo_entries_code", "tenant_code", "juminhyo_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    entry_no: Mapped[int] = mapped_column(Integer)
    rev: Mapped[int] = mapped_column(Integer)
    atena_number: Mapped[str] = mapped_column(String(15), default="")
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name_kana: Mapped[str] = mapped_column(String(100), default="")
    given_name_kana: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[str] = mapped_column(String(20), default="")
    sex: Mapped[str] = mapped_column(String(1), default="")
    juminhyo_code: Mapped[str] = mapped_column(String(11), default="")
    prefecture: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(60), default="")
    town: Mapped[str] = mapped_column(String(120), default="")
    banchi: Mapped[str] = mapped_column(String(120), default="")
    katagaki: Mapped[str] = mapped_column(String(200), default="")
    address_set_date: Mapped[str] = mapped_column(String(20), default="")
    zaigai_note: Mapped[str] = mapped_column(String(200), default="")
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    notice_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(100))


class FuhyoNoticeRow(TenantOwned, Base):
    """A 附票記載事項通知 received from another municipality, kept whatever became of it:
    `applied` (an entry changed), `pending` (no entry matched: the staff worklist), `attached`
    (staff applied it to an entry) or `rejected` (staff refused it, with the reason)."""

    __tablename__ = "fuhyo_notices"
    __table_args__ = (Index("ix_fuhyo_notices_status", "tenant_code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_id: Mapped[str] = mapped_column(String(100))
    sender_code: Mapped[str] = mapped_column(String(6))
    sender_name: Mapped[str] = mapped_column(String(100))
    notice_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entry_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution: Mapped[str] = mapped_column(String(200), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(100), default="")
