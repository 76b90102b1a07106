"""住民記録: 抑止 (spec 3.1) and the 支援措置 lifecycle (spec 3.4: 延長, 終了, 仮支援措置の確定).

`residents_suppressions` is a new tenant table with forced RLS. `residents_support_measures` gains
the columns the lifecycle needs; the new NOT NULL columns carry server defaults so existing rows
(a measure never extended or ended by reason) stay valid without a data step.

Revision ID: 0006_residents_suppressions
Revises: 0005_residents_name_keys
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0006_residents_suppressions"
down_revision = "0005_residents_name_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents_suppressions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_number", sa.String(length=15), nullable=False),
        sa.Column("suppress_change", sa.Boolean(), nullable=False),
        sa.Column("suppress_issue", sa.Boolean(), nullable=False),
        sa.Column("suppress_inquiry", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=False),
        sa.Column("end_note", sa.Text(), nullable=False),
        sa.Column("released_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=100), nullable=False),
        sa.Column("release_note", sa.Text(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_suppressions")),
    )
    with op.batch_alter_table("residents_suppressions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_suppressions_tenant_code"), ["tenant_code"], unique=False
        )
        batch_op.create_index(
            "ix_residents_suppressions_target",
            ["tenant_code", "target_kind", "target_number"],
            unique=False,
        )
    enable_rls(op.get_bind(), "residents_suppressions")

    with op.batch_alter_table("residents_support_measures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provisional_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("extensions", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "end_reason", sa.String(length=20), server_default=sa.text("''"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "ended_by", sa.String(length=100), server_default=sa.text("''"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("residents_support_measures", schema=None) as batch_op:
        batch_op.drop_column("ended_by")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("extensions")
        batch_op.drop_column("period_start")
        batch_op.drop_column("provisional_start")
    with op.batch_alter_table("residents_suppressions", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_suppressions_target")
        batch_op.drop_index(batch_op.f("ix_residents_suppressions_tenant_code"))
    op.drop_table("residents_suppressions")
