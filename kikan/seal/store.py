"""Tables of 印鑑登録 (its own; no other module reads them).

`seal_persons` is the module's OWN replica of the 宛名 it needs, filled only from the 庁内データ連携
API by the linkage-consumer kit; `seal_link` holds this tenant's linkage credentials and the sync
cursor, which advances in the same transaction as the reactions it caused (so a crash never loses
or repeats a change). Both take their columns from the kit's mixins (ADR 0012).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kikan.linkage.consumer.replica import AtenaReplicaMixin, LinkStateMixin
from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class SealPersonRow(AtenaReplicaMixin, TenantOwned, Base):
    """宛名 replica: the latest standard person row delivered for one 宛名番号 (the kit's
    columns, `kikan.linkage.consumer.replica`)."""

    __tablename__ = "seal_persons"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)


class SealRegistrationRow(TenantOwned, Base):
    """One 印鑑登録 (原票). `active_atena` is set while 照会中/登録 so that a second active
    registration of the same person fails on the unique constraint even under a race."""

    __tablename__ = "seal_registrations"
    __table_args__ = (
        UniqueConstraint("tenant_code", "registration_number"),
        UniqueConstraint("tenant_code", "active_atena"),
        UniqueConstraint("tenant_code", "card_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_number: Mapped[int] = mapped_column(Integer)
    atena_number: Mapped[str] = mapped_column(String(15), index=True)
    active_atena: Mapped[str | None] = mapped_column(String(15), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    identity_document: Mapped[str] = mapped_column(String(50), default="")
    card_number: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # 登録事項 as recorded (the person row at registration / last 登録事項変更)
    person: Mapped[dict[str, str]] = mapped_column(JSON)
    seal_text: Mapped[str] = mapped_column(String(40))
    image: Mapped[bytes] = mapped_column(LargeBinary)
    image_type: Mapped[str] = mapped_column(String(20))
    image_sha256: Mapped[str] = mapped_column(String(64))
    inquiry_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    inquiry_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    applied_on: Mapped[date] = mapped_column(Date)
    registered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SealHistoryRow(TenantOwned, Base):
    """What happened to a registration, in order (登録, 変更, 亡失, 廃止, 職権抹消 …)."""

    __tablename__ = "seal_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[int] = mapped_column(Integer, index=True)
    event: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # linkage event, if any
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SealReviewRow(TenantOwned, Base):
    """A task for staff the sync could not decide (the seal no longer matches the name)."""

    __tablename__ = "seal_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[int] = mapped_column(Integer, index=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    reason: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str] = mapped_column(String(100), default="")


class SealLinkRow(LinkStateMixin, TenantOwned, Base):
    """This tenant's linkage client (registered through the linkage API) and the sync state
    (the kit's columns: credentials, 全件 progress, 差分 cursor)."""

    __tablename__ = "seal_link"
    __table_args__ = (UniqueConstraint("tenant_code"),)
