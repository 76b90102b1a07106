"""Name keys: every name a resident can be searched by (氏名, 通称, 旧氏, 外国人氏名).

Existing residents get their 氏名 and フリガナ keys from `residents_current`; 通称/旧氏 keys are
written by the next change of the person (no resident data existed before this revision in any
deployment). Runs as the migration role, which must bypass RLS for data steps (ADR 0001).

Revision ID: 0005_residents_name_keys
Revises: 0004_residents_prefix_indexes
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0005_residents_name_keys"
down_revision = "0004_residents_prefix_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents_name_keys",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "key",
            sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "tenant_code", "atena_number", "kind", name=op.f("pk_residents_name_keys")
        ),
    )
    op.create_index(
        "ix_residents_name_keys_key", "residents_name_keys", ["tenant_code", "key", "atena_number"]
    )
    enable_rls(op.get_bind(), "residents_name_keys")
    op.execute(
        "INSERT INTO residents_name_keys (tenant_code, atena_number, kind, key) "
        "SELECT tenant_code, atena_number, 'name', name_key FROM residents_current "
        "WHERE name_key <> ''"
    )
    op.execute(
        "INSERT INTO residents_name_keys (tenant_code, atena_number, kind, key) "
        "SELECT tenant_code, atena_number, 'kana', kana_key FROM residents_current "
        "WHERE kana_key <> ''"
    )


def downgrade() -> None:
    op.drop_index("ix_residents_name_keys_key", table_name="residents_name_keys")
    op.drop_table("residents_name_keys")
