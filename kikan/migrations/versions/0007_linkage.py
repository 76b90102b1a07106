"""庁内データ連携: linkage clients, used assertion ids (jti) and access tokens (forced RLS).

Revision ID: 0007_linkage
Revises: 0006_residents_suppressions
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0007_linkage"
down_revision = "0006_residents_suppressions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "linkage_clients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_linkage_clients_client_id")),
    )
    op.create_index(
        op.f("ix_linkage_clients_tenant_code"), "linkage_clients", ["tenant_code"], unique=False
    )
    op.create_table(
        "linkage_jti",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", "client_id", "jti", name=op.f("pk_linkage_jti")),
    )
    op.create_table(
        "linkage_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_linkage_tokens")),
    )
    op.create_index(
        op.f("ix_linkage_tokens_tenant_code"), "linkage_tokens", ["tenant_code"], unique=False
    )
    for table in ("linkage_clients", "linkage_jti", "linkage_tokens"):
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    op.drop_index(op.f("ix_linkage_tokens_tenant_code"), table_name="linkage_tokens")
    op.drop_table("linkage_tokens")
    op.drop_table("linkage_jti")
    op.drop_index(op.f("ix_linkage_clients_tenant_code"), table_name="linkage_clients")
    op.drop_table("linkage_clients")
