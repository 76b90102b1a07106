"""Tables of 個人住民税 (its own; no other module reads them).

`juminzei_persons` is the module's own replica of the 宛名 it needs and `juminzei_link` its linkage
client and sync cursor: both filled only through 庁内データ連携 by the linkage-consumer kit
(ADR 0012), whose mixins give their columns. Every table is tenant-owned (`TenantOwned`) and gets forced row-level security in the module's
migration (`kikan.platform.rls.enable_rls`); tests/platform/test_migrations.py checks that these
models match what the migrations build.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kikan.linkage.consumer.replica import AtenaReplicaMixin, LinkStateMixin
from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class JuminzeiPersonRow(AtenaReplicaMixin, TenantOwned, Base):
    """宛名 replica: the latest record delivered for one 宛名番号 (the kit's columns)."""

    __tablename__ = "juminzei_persons"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)


class JuminzeiLinkRow(LinkStateMixin, TenantOwned, Base):
    """This tenant's linkage client and where the sync stands (the kit's columns)."""

    __tablename__ = "juminzei_link"
    __table_args__ = (UniqueConstraint("tenant_code"),)


class JuminzeiItemRow(TenantOwned, Base):
    """The example table the scaffold creates: replace it with the module's own."""

    __tablename__ = "juminzei_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
