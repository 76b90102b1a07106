"""Integrity: unique numbers among current residents (hardening).

A My Number (by its blind index) and a 住民票コード belong to one current resident of a tenant.
The service layer refuses duplicates with a clear message; these partial unique indexes make the
database refuse them too, against concurrent requests and any writer that skips the service.
Former residents (転出, 死亡, 消除) keep their numbers in the projection, hence the predicate.

A database that already holds duplicates cannot take the index: the upgrade stops with a message
saying how many (never which numbers), to be resolved by 修正 before upgrading again.

Revision ID: 0013_integrity
Revises: 0012_linkage_push
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_integrity"
down_revision = "0012_linkage_push"
branch_labels = None
depends_on = None

CURRENT = "status IN ('resident', 'moving_out')"
INDEXES = {
    "uq_residents_current_mynumber": ("mynumber_index", "個人番号"),
    "uq_residents_current_juminhyo": ("juminhyo_code", "住民票コード"),
}


def upgrade() -> None:
    bind = op.get_bind()
    for name, (column, label) in INDEXES.items():
        predicate = f"{CURRENT} AND {column} <> ''"
        # column and predicate are this module's constants, never input
        query = (
            f"SELECT count(*) FROM (SELECT tenant_code, {column} FROM residents_current"  # noqa: S608
            f" WHERE {predicate} GROUP BY tenant_code, {column} HAVING count(*) > 1) d"
        )
        duplicates = bind.execute(sa.text(query)).scalar_one()
        if duplicates:
            raise RuntimeError(
                f"現在の住民の間で{label}の重複が {duplicates} 件あります。"
                "修正してから再度 kikan db upgrade を実行してください。"
            )
        op.create_index(
            name,
            "residents_current",
            ["tenant_code", column],
            unique=True,
            sqlite_where=sa.text(predicate),
            postgresql_where=sa.text(predicate),
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="residents_current")
