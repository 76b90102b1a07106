"""Per-tenant gap-free sequences and the transactional outbox (RLS on PostgreSQL).

Revision ID: 0002_sequences_outbox
Revises: 0001_platform
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0002_sequences_outbox"
down_revision = "0001_platform"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "platform_sequences",
        sa.Column("tenant_code", sa.String(8), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("last_value", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", "name", name="pk_platform_sequences"),
    )
    op.create_table(
        "platform_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_code", sa.String(8), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("topic", sa.String(60), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_platform_outbox"),
        sa.UniqueConstraint("tenant_code", "seq", name="uq_platform_outbox_tenant_code_seq"),
    )
    op.create_index("ix_platform_outbox_tenant_code", "platform_outbox", ["tenant_code"])
    for table in ("platform_sequences", "platform_outbox"):
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    op.drop_table("platform_outbox")
    op.drop_table("platform_sequences")
