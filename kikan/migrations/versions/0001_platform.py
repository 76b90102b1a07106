"""Platform tables: tenants, staff, operators, sessions, audit chain (with RLS on PostgreSQL).

Revision ID: 0001_platform
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0001_platform"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TENANT_TABLES = ["staff_accounts", "auth_sessions", "audit_records", "audit_heads"]


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefecture", sa.String(20), nullable=False),
        sa.Column("mayor_title", sa.String(20), nullable=False),
        sa.Column("mayor_name", sa.String(100), nullable=False),
        sa.Column("seal_png", sa.LargeBinary, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_tenants"),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_code",
            sa.String(8),
            sa.ForeignKey("tenants.code", name="fk_staff_accounts_tenant_code_tenants"),
            nullable=False,
        ),
        sa.Column("login_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("valid_from", TS, nullable=True),
        sa.Column("valid_until", TS, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("password_changed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_accounts"),
        sa.UniqueConstraint(
            "tenant_code", "login_id", name="uq_staff_accounts_tenant_code_login_id"
        ),
    )
    op.create_index("ix_staff_accounts_tenant_code", "staff_accounts", ["tenant_code"])
    op.create_table(
        "host_operators",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("login_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_host_operators"),
        sa.UniqueConstraint("login_id", name="uq_host_operators_login_id"),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("tenant_code", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("principal_kind", sa.String(10), nullable=False),
        sa.Column("principal_id", sa.Integer, nullable=False),
        sa.Column("csrf_hash", sa.String(64), nullable=True),
        sa.Column("terminal", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_auth_sessions"),
    )
    op.create_index("ix_auth_sessions_tenant_code", "auth_sessions", ["tenant_code"])
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_code", sa.String(8), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_kind", sa.String(10), nullable=False),
        sa.Column("terminal", sa.String(200), nullable=False),
        sa.Column("place", sa.String(100), nullable=False),
        sa.Column("function", sa.String(100), nullable=False),
        sa.Column("screen", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("subjects", sa.JSON, nullable=False),
        sa.Column("mynumber_accessed", sa.Boolean, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_records"),
        sa.UniqueConstraint("tenant_code", "seq", name="uq_audit_records_tenant_code_seq"),
    )
    op.create_index("ix_audit_records_tenant_code", "audit_records", ["tenant_code"])
    op.create_index("ix_audit_records_recorded_at", "audit_records", ["recorded_at"])
    op.create_table(
        "audit_heads",
        sa.Column("tenant_code", sa.String(8), nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", name="pk_audit_heads"),
    )
    for table in TENANT_TABLES:
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    for table in [
        "audit_heads",
        "audit_records",
        "auth_sessions",
        "host_operators",
        "staff_accounts",
        "tenants",
    ]:
        op.drop_table(table)
