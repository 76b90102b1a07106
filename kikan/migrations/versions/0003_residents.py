"""住民記録: history (full snapshot per change), current projection, households, 支援措置.

Revision ID: 0003_residents
Revises: 0002_sequences_outbox
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0003_residents"
down_revision = "0002_sequences_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents_current",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("history_no", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("household_number", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("resident_kind", sa.String(length=1), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("full_kana", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("kana_key", sa.String(length=400), nullable=False),
        sa.Column("address_key", sa.String(length=400), nullable=False),
        sa.Column("address_text", sa.String(length=400), nullable=False),
        sa.Column("birth_sort", sa.Date(), nullable=False),
        sa.Column("birth_display", sa.String(length=40), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("zokugara", sa.String(length=40), nullable=False),
        sa.Column("juminhyo_code", sa.String(length=11), nullable=False),
        sa.Column("mynumber_index", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", "atena_number", name=op.f("pk_residents_current")),
    )
    with op.batch_alter_table("residents_current", schema=None) as batch_op:
        batch_op.create_index(
            "ix_residents_current_birth", ["tenant_code", "birth_sort"], unique=False
        )
        batch_op.create_index(
            "ix_residents_current_household", ["tenant_code", "household_number"], unique=False
        )
        batch_op.create_index(
            "ix_residents_current_kana_key", ["tenant_code", "kana_key"], unique=False
        )
        batch_op.create_index(
            "ix_residents_current_name_key", ["tenant_code", "name_key"], unique=False
        )

    op.create_table(
        "residents_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("history_no", sa.Integer(), nullable=False),
        sa.Column("household_number", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_date", sa.Date(), nullable=True),
        sa.Column("operator", sa.String(length=100), nullable=False),
        sa.Column("terminal", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cancels_history_no", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_history")),
        sa.UniqueConstraint(
            "tenant_code",
            "atena_number",
            "history_no",
            name=op.f("uq_residents_history_tenant_code_atena_number_history_no"),
        ),
    )
    with op.batch_alter_table("residents_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_history_tenant_code"), ["tenant_code"], unique=False
        )
        batch_op.create_index(
            "ix_residents_history_valid",
            ["tenant_code", "atena_number", "valid_from"],
            unique=False,
        )

    op.create_table(
        "residents_households",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("household_number", sa.String(length=15), nullable=False),
        sa.Column("head_atena", sa.String(length=15), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_code", "household_number", name=op.f("pk_residents_households")
        ),
    )
    op.create_table(
        "residents_support_measures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("perpetrators", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_support_measures")),
    )
    with op.batch_alter_table("residents_support_measures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_support_measures_atena_number"), ["atena_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_residents_support_measures_tenant_code"), ["tenant_code"], unique=False
        )
    for table in (
        "residents_current",
        "residents_history",
        "residents_households",
        "residents_support_measures",
    ):
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    with op.batch_alter_table("residents_support_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_support_measures_tenant_code"))
        batch_op.drop_index(batch_op.f("ix_residents_support_measures_atena_number"))

    op.drop_table("residents_support_measures")
    op.drop_table("residents_households")
    with op.batch_alter_table("residents_history", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_history_valid")
        batch_op.drop_index(batch_op.f("ix_residents_history_tenant_code"))

    op.drop_table("residents_history")
    with op.batch_alter_table("residents_current", schema=None) as batch_op:
        batch_op.drop_index("ix_residents_current_name_key")
        batch_op.drop_index("ix_residents_current_kana_key")
        batch_op.drop_index("ix_residents_current_household")
        batch_op.drop_index("ix_residents_current_birth")

    op.drop_table("residents_current")
