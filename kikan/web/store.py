"""Tables of the staff UI shell.

- `web_counter_timings`: one row per counter transaction (窓口の一件): opened when the clerk
  opens an entry screen, completed in the same transaction as the 異動 it records. The
  duration feeds BPR (業務改革): how long each kind of 届出 takes at the counter, and how many
  screens are opened and abandoned.
- `web_search_history`: the last searches of each staff member (spec 2.1.1: 検索履歴を一定件数
  保存し、選択して再検索できること). Criteria may hold names, so the table is tenant-owned and
  protected by row-level security like every other personal-data table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class CounterTimingRow(TenantOwned, Base):
    __tablename__ = "web_counter_timings"
    __table_args__ = (Index("ix_web_counter_timings_kind", "tenant_code", "kind", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    staff: Mapped[str] = mapped_column(String(100))
    terminal: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SearchHistoryRow(TenantOwned, Base):
    __tablename__ = "web_search_history"
    __table_args__ = (Index("ix_web_search_history_staff", "tenant_code", "staff", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
