"""移行: import files, the batch ledger and rejects (forced RLS).

Revision ID: 0009_migration
Revises: 0008_certificates
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0009_migration"
down_revision = "0008_certificates"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TABLES = ("migration_files", "migration_batches", "migration_rejects")


def upgrade() -> None:
    op.create_table(
        "migration_files",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("mapping_sha256", sa.String(length=64), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("cleansing", sa.JSON(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("tenant_code", "file_sha256", name=op.f("pk_migration_files")),
    )
    op.create_table(
        "migration_batches",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=False),
        sa.Column("first_row", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("committed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_code", "file_sha256", "batch_no", name=op.f("pk_migration_batches")
        ),
    )
    op.create_table(
        "migration_rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_rejects")),
    )
    op.create_index(
        "ix_migration_rejects_file",
        "migration_rejects",
        ["tenant_code", "file_sha256", "row_no"],
        unique=False,
    )
    op.create_index(
        op.f("ix_migration_rejects_tenant_code"), "migration_rejects", ["tenant_code"], unique=False
    )
    for table in TABLES:
        enable_rls(op.get_bind(), table)
    # the residents bulk API checks every loaded person against the register by 住民票コード
    # and 個人番号 (blind index): without these a batch scans the whole register
    op.create_index(
        "ix_residents_current_juminhyo",
        "residents_current",
        ["tenant_code", "juminhyo_code"],
        unique=False,
    )
    op.create_index(
        "ix_residents_current_mynumber",
        "residents_current",
        ["tenant_code", "mynumber_index"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_residents_current_mynumber", table_name="residents_current")
    op.drop_index("ix_residents_current_juminhyo", table_name="residents_current")
    op.drop_index(op.f("ix_migration_rejects_tenant_code"), table_name="migration_rejects")
    op.drop_index("ix_migration_rejects_file", table_name="migration_rejects")
    op.drop_table("migration_rejects")
    op.drop_table("migration_batches")
    op.drop_table("migration_files")
