"""Staff UI: counter transaction timings (BPR) and per-staff search history (forced RLS).

Revision ID: 0011_web
Revises: 0010_seal
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0011_web"
down_revision = "0010_seal"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_counter_timings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("staff", sa.String(length=100), nullable=False),
        sa.Column("terminal", sa.String(length=200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_counter_timings")),
    )
    op.create_index(
        "ix_web_counter_timings_kind",
        "web_counter_timings",
        ["tenant_code", "kind", "started_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_web_counter_timings_tenant_code"),
        "web_counter_timings",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "web_search_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff", sa.String(length=100), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_search_history")),
    )
    op.create_index(
        "ix_web_search_history_staff",
        "web_search_history",
        ["tenant_code", "staff", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_web_search_history_tenant_code"),
        "web_search_history",
        ["tenant_code"],
        unique=False,
    )
    for table in ("web_counter_timings", "web_search_history"):
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_search_history_tenant_code"), table_name="web_search_history")
    op.drop_index("ix_web_search_history_staff", table_name="web_search_history")
    op.drop_table("web_search_history")
    op.drop_index(op.f("ix_web_counter_timings_tenant_code"), table_name="web_counter_timings")
    op.drop_index("ix_web_counter_timings_kind", table_name="web_counter_timings")
    op.drop_table("web_counter_timings")
