"""Tables of 選挙人名簿管理 (its own; no other module reads them).

* `electoral_roll_persons` / `electoral_roll_link`: the 宛名 replica and the linkage client with
  its cursor, filled only through 庁内データ連携 by the linkage-consumer kit (ADR 0012).
* `electoral_roll_rolls` + `electoral_roll_roll_entries`: fixed rolls (定時登録, 選挙時登録), each
  a snapshot computed from the register as of its base date. Written once, never updated: a
  later 異動 cannot change a fixed roll. `digest` is the hash of its entries (reproducibility).
* `electoral_roll_register` + `electoral_roll_register_history`: the living 選挙人名簿, one row
  per person ever registered (登録 → 表示 → 抹消), and every step with its day and reason.
* `electoral_roll_elections`: elections with their own base date and election day.
* `electoral_roll_districts`: the 投票区 table (町字, optional 番地 range → district), each load a
  new `version`; the highest version is in force.
* `electoral_roll_overseas` + `electoral_roll_overseas_history`: the 在外選挙人名簿, a separate
  register (公職選挙法 第4章の2) that no roll, extract, count or district table reads.

Every table is tenant-owned and gets forced row-level security in the module's migration;
tests/platform/test_migrations.py checks these models against the migrations.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kikan.linkage.consumer.replica import AtenaReplicaMixin, LinkStateMixin
from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class ElectoralRollPersonRow(AtenaReplicaMixin, TenantOwned, Base):
    """宛名 replica: the latest record delivered for one 宛名番号 (the kit's columns)."""

    __tablename__ = "electoral_roll_persons"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)


class ElectoralRollLinkRow(LinkStateMixin, TenantOwned, Base):
    """This tenant's linkage client and where the sync stands (the kit's columns)."""

    __tablename__ = "electoral_roll_link"
    __table_args__ = (UniqueConstraint("tenant_code"),)


class ElectionRow(TenantOwned, Base):
    """An election: its 選挙時登録 uses `base_date` (residence) and `election_day` (age)."""

    __tablename__ = "electoral_roll_elections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    base_date: Mapped[date] = mapped_column(Date)
    election_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RollRow(TenantOwned, Base):
    """A fixed roll (snapshot): never updated once written."""

    __tablename__ = "electoral_roll_rolls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # 定時登録 | 選挙時登録
    base_date: Mapped[date] = mapped_column(Date)
    election_day: Mapped[date] = mapped_column(Date)
    election_id: Mapped[int | None] = mapped_column(
        ForeignKey("electoral_roll_elections.id"), nullable=True
    )
    rules_version: Mapped[str] = mapped_column(String(20))
    registered: Mapped[int] = mapped_column(Integer)
    marked: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    fixed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fixed_by: Mapped[str] = mapped_column(String(64))


class _PersonColumns:
    """What a roll entry and a register entry show of a person (copied from the feed)."""

    atena_number: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(200))
    kana: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[str] = mapped_column(String(40))
    household_number: Mapped[str] = mapped_column(String(15))
    town: Mapped[str] = mapped_column(String(100))
    banchi: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(400))
    district: Mapped[str] = mapped_column(String(20))


class RollEntryRow(_PersonColumns, TenantOwned, Base):
    """One person on a fixed roll: 登録, or 表示 with the move-out day and the strike day."""

    __tablename__ = "electoral_roll_roll_entries"
    __table_args__ = (
        UniqueConstraint(
            "tenant_code", "roll_id", "atena_number", name="uq_electoral_roll_roll_entries_person"
        ),
        Index("ix_electoral_roll_roll_entries_roll", "tenant_code", "roll_id", "district"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("electoral_roll_rolls.id"))
    mark: Mapped[str] = mapped_column(String(4))
    moved_out: Mapped[date | None] = mapped_column(Date, nullable=True)
    strike_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class RegisterRow(_PersonColumns, TenantOwned, Base):
    """The living 選挙人名簿: one row per person registered here, with the current state."""

    __tablename__ = "electoral_roll_register"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(4))  # 登録 | 表示 | 抹消
    registered_on: Mapped[date] = mapped_column(Date)
    roll_id: Mapped[int | None] = mapped_column(
        ForeignKey("electoral_roll_rolls.id"), nullable=True
    )
    moved_out: Mapped[date | None] = mapped_column(Date, nullable=True)
    strike_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    struck_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    strike_reason: Mapped[str] = mapped_column(String(40), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegisterHistoryRow(TenantOwned, Base):
    """One step of a register entry: 登録, 表示, 表示の取消, 抹消, 投票区の変更 (never updated)."""

    __tablename__ = "electoral_roll_register_history"
    __table_args__ = (
        Index("ix_electoral_roll_register_history_person", "tenant_code", "atena_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(20))
    effective: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))


class DistrictRow(TenantOwned, Base):
    """One row of a version of the 投票区 table."""

    __tablename__ = "electoral_roll_districts"
    __table_args__ = (Index("ix_electoral_roll_districts_version", "tenant_code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer)
    district: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    town: Mapped[str] = mapped_column(String(100))
    banchi_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    banchi_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- 在外選挙人名簿 (kept separately)


class OverseasEntryRow(TenantOwned, Base):
    """One 在外選挙人 (the current state): a register of its own, never read by a roll, an
    extract, a count or the 投票区 table. Every change also writes an `OverseasHistoryRow`
    with the whole entry as it became, so nothing is lost when a field is corrected."""

    __tablename__ = "electoral_roll_overseas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(4))  # 登録 | 抹消
    name: Mapped[str] = mapped_column(String(200))
    kana: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[str] = mapped_column(String(40))  # register storage form, 不詳 allowed
    sex: Mapped[str] = mapped_column(String(1))
    route: Mapped[str] = mapped_column(String(10))  # 出国時申請 | 在外公館申請
    last_address: Mapped[str] = mapped_column(String(400), default="")
    honseki: Mapped[str] = mapped_column(String(400), default="")
    consular_district: Mapped[str] = mapped_column(String(100))
    resident_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    on_city_roll: Mapped[bool] = mapped_column(Boolean, default=False)
    applied_on: Mapped[date] = mapped_column(Date)
    registered_on: Mapped[date] = mapped_column(Date)
    struck_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    strike_reason: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class OverseasHistoryRow(TenantOwned, Base):
    """One step of a 在外選挙人 entry (登録, 修正, 抹消) with the entry as it became (never
    updated)."""

    __tablename__ = "electoral_roll_overseas_history"
    __table_args__ = (Index("ix_electoral_roll_overseas_history_entry", "tenant_code", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("electoral_roll_overseas.id"))
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(10))
    effective: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(64))
