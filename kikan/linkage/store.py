"""Linkage tables: registered clients, used assertion ids (jti) and access tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow

#: width of `LinkageClientRow.scopes` (the comma-separated list)
SCOPES_WIDTH = 200


class LinkageClientRow(TenantOwned, Base):
    """A system that pulls this tenant's data. `scopes` is a comma-separated list.

    The HS256 secret is kept as issued: HMAC verification needs the secret itself, so it cannot be
    hashed. Only the tenant's row-level security and database access control protect it (a
    database dump exposes it); sealing it with a server key is left for a later slice."""

    __tablename__ = "linkage_clients"
    __table_args__ = (UniqueConstraint("client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(SCOPES_WIDTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkageJtiRow(TenantOwned, Base):
    """A client assertion id already used; kept until the assertion would have expired."""

    __tablename__ = "linkage_jti"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkageTokenRow(TenantOwned, Base):
    """An access token issued to a client. Only the SHA-256 of the token is stored."""

    __tablename__ = "linkage_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkagePushPositionRow(TenantOwned, Base):
    """How far the JetStream relay has published a tenant's outbox (acknowledged by the stream).

    Advanced only after JetStream acknowledged every event up to `published_seq`, so a crash
    republishes (the stream's duplicate window drops the copies) and never skips an event."""

    __tablename__ = "linkage_push_positions"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    published_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
