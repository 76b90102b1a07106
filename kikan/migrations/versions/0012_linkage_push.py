"""庁内データ連携: JetStream push state (per-tenant published-up-to position, forced RLS).

Revision ID: 0012_linkage_push
Revises: 0011_web
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0012_linkage_push"
down_revision = "0011_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_push_positions",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("published_seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", name=op.f("pk_linkage_push_positions")),
    )
    enable_rls(op.get_bind(), "linkage_push_positions")


def downgrade() -> None:
    op.drop_table("linkage_push_positions")
