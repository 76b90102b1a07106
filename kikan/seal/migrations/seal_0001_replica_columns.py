"""印鑑登録: the 宛名 replica takes the linkage-consumer kit's columns (ADR 0012).

The searchable columns (氏名, カナ, 生年月日 as text, 性別, 住所, 住民状態, 異動日) are added
empty and every tenant's sync is set back to 全件, which fills them from the feed on the next run
(`kikan seal sync`, or the background sync): the registrations are untouched, and reactions
during that 全件 are the same as on any 全件 (state against state).

Revision ID: seal_0001
Revises: (the start of branch "seal"; depends on the platform revision 0016_input_model)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "seal_0001"
down_revision = None
branch_labels = ("seal",)
depends_on = "0016_input_model"

COLUMNS = (
    ("name", 200),
    ("name_kana", 200),
    ("birth_date", 20),
    ("sex", 1),
    ("address", 400),
    ("resident_status", 2),
)


def upgrade() -> None:
    for name, length in COLUMNS:
        op.add_column(
            "seal_persons",
            sa.Column(name, sa.String(length=length), nullable=False, server_default=""),
        )
    op.add_column("seal_persons", sa.Column("valid_from", sa.Date(), nullable=True))
    link = sa.table(
        "seal_link",
        sa.column("cursor", sa.Integer()),
        sa.column("full_done", sa.Boolean()),
        sa.column("full_cursor", sa.String()),
        sa.column("full_as_of", sa.Integer()),
    )
    op.execute(link.update().values(cursor=0, full_done=False, full_cursor=None, full_as_of=None))


def downgrade() -> None:
    with op.batch_alter_table("seal_persons") as batch:
        batch.drop_column("valid_from")
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
