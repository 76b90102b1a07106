"""Name and kana search keys: prefix-searchable indexes on PostgreSQL (varchar_pattern_ops).

A plain btree index serves `LIKE 'prefix%'` only under the C collation; municipalities run
ja_JP.UTF-8 or C.UTF-8 databases, where the search would scan every resident.

Revision ID: 0004_residents_prefix_indexes
Revises: 0003_residents
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0004_residents_prefix_indexes"
down_revision = "0003_residents"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_residents_current_name_key": "name_key",
    "ix_residents_current_kana_key": "kana_key",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="residents_current")
        op.create_index(
            name,
            "residents_current",
            ["tenant_code", column],
            postgresql_ops={column: "varchar_pattern_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="residents_current")
        op.create_index(name, "residents_current", ["tenant_code", column])
