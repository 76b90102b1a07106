"""選挙人名簿管理: the 在外選挙人名簿 and its history, kept apart from the roll (forced RLS).

Revision ID: electoral_roll_0002_overseas
Revises: electoral_roll_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "electoral_roll_0002_overseas"
down_revision = "electoral_roll_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "electoral_roll_overseas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kana", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.String(length=40), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("route", sa.String(length=10), nullable=False),
        sa.Column("last_address", sa.String(length=400), nullable=False),
        sa.Column("honseki", sa.String(length=400), nullable=False),
        sa.Column("consular_district", sa.String(length=100), nullable=False),
        sa.Column("resident_since", sa.Date(), nullable=True),
        sa.Column("on_city_roll", sa.Boolean(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("struck_on", sa.Date(), nullable=True),
        sa.Column("strike_reason", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_overseas")),
    )
    op.create_index(
        op.f("ix_electoral_roll_overseas_tenant_code"),
        "electoral_roll_overseas",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "electoral_roll_overseas_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=10), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["electoral_roll_overseas.id"],
            name=op.f("fk_electoral_roll_overseas_history_entry_id_electoral_roll_overseas"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_overseas_history")),
    )
    op.create_index(
        "ix_electoral_roll_overseas_history_entry",
        "electoral_roll_overseas_history",
        ["tenant_code", "entry_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_electoral_roll_overseas_history_tenant_code"),
        "electoral_roll_overseas_history",
        ["tenant_code"],
        unique=False,
    )
    enable_rls(op.get_bind(), "electoral_roll_overseas")
    enable_rls(op.get_bind(), "electoral_roll_overseas_history")


def downgrade() -> None:
    op.drop_table("electoral_roll_overseas_history")
    op.drop_table("electoral_roll_overseas")
