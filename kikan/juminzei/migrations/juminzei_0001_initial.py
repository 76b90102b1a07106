"""個人住民税: the first revision of the module's own branch (forced RLS on every table).

Revision ID: juminzei_0001
Revises: (the start of branch "juminzei"; depends on the platform revision 0016_input_model)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "juminzei_0001"
down_revision = None
branch_labels = ("juminzei",)
depends_on = "0016_input_model"


def upgrade() -> None:
    # the linkage-consumer kit's tables (kikan.linkage.consumer.replica mixins)
    op.create_table(
        "juminzei_persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_kana", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.String(length=20), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("resident_status", sa.String(length=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_persons")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_juminzei_persons_tenant_code_atena_number")
        ),
    )
    op.create_index(
        op.f("ix_juminzei_persons_tenant_code"), "juminzei_persons", ["tenant_code"], unique=False
    )
    enable_rls(op.get_bind(), "juminzei_persons")
    op.create_table(
        "juminzei_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("client_secret", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("full_done", sa.Boolean(), nullable=False),
        sa.Column("full_cursor", sa.String(length=600), nullable=True),
        sa.Column("full_as_of", sa.Integer(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_link")),
        sa.UniqueConstraint("tenant_code", name=op.f("uq_juminzei_link_tenant_code")),
    )
    op.create_index(
        op.f("ix_juminzei_link_tenant_code"), "juminzei_link", ["tenant_code"], unique=False
    )
    enable_rls(op.get_bind(), "juminzei_link")


def downgrade() -> None:
    for table in ("juminzei_link", "juminzei_persons"):
        op.drop_index(op.f(f"ix_{table}_tenant_code"), table_name=table)
        op.drop_table(table)
