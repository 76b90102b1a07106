"""Platform tables: tenants, staff accounts, host operators, sessions and the audit chain.

Tables only; rules live in the services (`tenancy`, `auth`, `audit`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class TenantRow(Base):
    """A municipality (地方公共団体) served by this deployment. Host-level, not tenant-owned."""

    __tablename__ = "tenants"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefecture: Mapped[str] = mapped_column(String(20), default="")
    mayor_title: Mapped[str] = mapped_column(String(20), default="市長")
    mayor_name: Mapped[str] = mapped_column(String(100), default="")
    seal_png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffAccountRow(TenantOwned, Base):
    """A municipality's staff member (職員). Roles are a comma-separated list of role codes."""

    __tablename__ = "staff_accounts"
    __table_args__ = (UniqueConstraint("tenant_code", "login_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_code: Mapped[str] = mapped_column(String(8), ForeignKey("tenants.code"), index=True)
    login_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(100), default="")
    roles: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HostOperatorRow(Base):
    """An operator of the hosting environment. Sees tenants, never residents."""

    __tablename__ = "host_operators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthSessionRow(TenantOwned, Base):
    """A UI session (cookie) or API bearer token. Only the SHA-256 of the secret is stored.

    `tenant_code` is the scope: a tenant code, or "host" for operator sessions.
    """

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "cookie" | "bearer"
    principal_kind: Mapped[str] = mapped_column(String(10))  # "staff" | "operator"
    principal_id: Mapped[int] = mapped_column(Integer)
    csrf_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    terminal: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuthThrottleRow(TenantOwned, Base):
    """Failures (or calls) counted against one throttle key, and until when it is refused.

    Keys are stored as a SHA-256 only: a key may hold whatever an attacker typed as a login id.
    `tenant_code` is the tenant of an account key, or "host" for client-address keys. See
    `kikan.platform.throttle` and ADR 0009.
    """

    __tablename__ = "auth_throttle"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refused: Mapped[int] = mapped_column(Integer, default=0)


class AuditRecordRow(TenantOwned, Base):
    """One access-log record (spec 10.2). Append-only and hash-chained per tenant.

    `tenant_code` names the chain: a tenant code, or "host" for host-level events.
    """

    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("tenant_code", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    category: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(100))
    actor_kind: Mapped[str] = mapped_column(String(10))
    terminal: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(100))
    function: Mapped[str] = mapped_column(String(100))
    screen: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(200))
    subjects: Mapped[list[str]] = mapped_column(JSON)
    mynumber_accessed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(TenantOwned, Base):
    """The last sequence number and hash of each chain.

    Appenders lock this row, which serialises appends per tenant (gap-free `seq`) and lets
    `audit verify` notice records deleted from the end of a chain.
    """

    __tablename__ = "audit_heads"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class SequenceRow(TenantOwned, Base):
    """Last value taken of one gap-free per-tenant sequence (see `sequences`)."""

    __tablename__ = "platform_sequences"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class OutboxEventRow(TenantOwned, Base):
    """One event of a tenant's change stream (see `outbox`)."""

    __tablename__ = "platform_outbox"
    __table_args__ = (UniqueConstraint("tenant_code", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CertificateIssuanceRow(TenantOwned, Base):
    """One issued certificate (交付履歴): who got which form about whom, and the PDF's digest.

    Shared by every module that issues certificates (住民票, 印鑑登録証明書 …, see `issuance`).
    `subject_refs` are the module's references to the persons certified (宛名番号, 登録番号);
    the PDF itself is not kept, only its SHA-256, which is what a presented copy is checked against.
    """

    __tablename__ = "certificate_issuances"
    __table_args__ = (UniqueConstraint("tenant_code", "issue_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_number: Mapped[str] = mapped_column(String(24))
    form_id: Mapped[str] = mapped_column(String(16))
    form_name: Mapped[str] = mapped_column(String(100), default="")
    module: Mapped[str] = mapped_column(String(20))
    subject_refs: Mapped[list[str]] = mapped_column(JSON)
    requester_kind: Mapped[str] = mapped_column(String(20))
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(400), default="")
    items: Mapped[list[str]] = mapped_column(JSON)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(100))
    terminal: Mapped[str] = mapped_column(String(200), default="")  # 端末名
    place: Mapped[str] = mapped_column(String(100), default="")  # 交付場所
    status: Mapped[str] = mapped_column(String(10), default="issued")  # issued | voided
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    void_reason: Mapped[str] = mapped_column(String(200), default="")
    #: SHA-256 of the 照合番号 printed on the certificate (None for certificates issued before
    #: check codes existed: those verify by the PDF's SHA-256 only)
    check_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CertificateVerificationCountRow(TenantOwned, Base):
    """Anonymous certificate verifications counted per tenant, JST day and answer.

    A counter, not the hash-chained access log: an anonymous caller must not be able to grow a
    tenant's audit chain by one record per call. `tenant_code` is "host" for numbers whose
    団体コード names no tenant (and for malformed numbers).
    """

    __tablename__ = "certificate_verification_counts"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
