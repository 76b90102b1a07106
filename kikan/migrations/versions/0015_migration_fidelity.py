"""Migration fidelity: legacy numbers and cross-references (issue 15).

- `migration_persons`: the legacy 宛名番号 / 世帯番号 of every migrated person beside the Kikan
  ones (新旧番号対照表), the input row and the texts as read when a cleansing rule changed them.
- `migration_files` / `migration_batches`: counts of rows already present and sent to a worklist.
- `migration_rejects.outcome`: rejected | worklist | present.

Revision ID: 0015_migration_fidelity
Revises: 0014_auth_throttle
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0015_migration_fidelity"
down_revision = "0014_auth_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("migration_files", "migration_batches"):
        for column in ("present", "worklist"):
            op.add_column(
                table, sa.Column(column, sa.Integer(), nullable=False, server_default="0")
            )
    op.add_column(
        "migration_rejects",
        sa.Column("outcome", sa.String(length=12), nullable=False, server_default="rejected"),
    )
    op.create_table(
        "migration_persons",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("household_number", sa.String(length=15), nullable=False),
        sa.Column("legacy_atena", sa.String(length=40), nullable=False),
        sa.Column("legacy_household", sa.String(length=40), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("original", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", "atena_number", name=op.f("pk_migration_persons")),
    )
    op.create_index(
        "ix_migration_persons_legacy", "migration_persons", ["tenant_code", "legacy_atena"]
    )
    op.create_index(
        "ix_migration_persons_legacy_household",
        "migration_persons",
        ["tenant_code", "legacy_household"],
    )
    enable_rls(op.get_bind(), "migration_persons")


def downgrade() -> None:
    op.drop_index("ix_migration_persons_legacy_household", table_name="migration_persons")
    op.drop_index("ix_migration_persons_legacy", table_name="migration_persons")
    op.drop_table("migration_persons")
    with op.batch_alter_table("migration_rejects") as batch:
        batch.drop_column("outcome")
    for table in ("migration_files", "migration_batches"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("worklist")
            batch.drop_column("present")
