"""戸籍の附票: the first revision of the module's own branch (forced RLS on every table).

Revision ID: fuhyo_0001
Revises: (the start of branch "fuhyo"; depends on the platform revision 0016_input_model)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "fuhyo_0001"
down_revision = None
branch_labels = ("fuhyo",)
depends_on = "0016_input_model"


NEW_TABLES = ("fuhyo_records", "fuhyo_record_events", "fuhyo_entries", "fuhyo_notices")


def upgrade() -> None:
    op.create_table(
        "fuhyo_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_type", sa.String(length=10), nullable=False),
        sa.Column("honseki_key", sa.String(length=600), nullable=False),
        sa.Column("prefecture", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=60), nullable=False),
        sa.Column("town", sa.String(length=120), nullable=False),
        sa.Column("chiban", sa.String(length=120), nullable=False),
        sa.Column("head_family_name", sa.String(length=100), nullable=False),
        sa.Column("head_given_name", sa.String(length=100), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuhyo_records")),
    )
    op.create_index(
        "ix_fuhyo_records_key", "fuhyo_records", ["tenant_code", "honseki_key"], unique=False
    )
    op.create_index(
        op.f("ix_fuhyo_records_tenant_code"), "fuhyo_records", ["tenant_code"], unique=False
    )
    op.create_table(
        "fuhyo_record_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("record_type", sa.String(length=10), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuhyo_record_events")),
    )
    op.create_index(
        op.f("ix_fuhyo_record_events_record_id"), "fuhyo_record_events", ["record_id"], unique=False
    )
    op.create_index(
        op.f("ix_fuhyo_record_events_tenant_code"),
        "fuhyo_record_events",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "fuhyo_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("entry_no", sa.Integer(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name_kana", sa.String(length=100), nullable=False),
        sa.Column("given_name_kana", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.String(length=20), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("juminhyo_code", sa.String(length=11), nullable=False),
        sa.Column("prefecture", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=60), nullable=False),
        sa.Column("town", sa.String(length=120), nullable=False),
        sa.Column("banchi", sa.String(length=120), nullable=False),
        sa.Column("katagaki", sa.String(length=200), nullable=False),
        sa.Column("address_set_date", sa.String(length=20), nullable=False),
        sa.Column("zaigai_note", sa.String(length=200), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuhyo_entries")),
        sa.UniqueConstraint(
            "tenant_code",
            "record_id",
            "entry_no",
            "rev",
            name=op.f("uq_fuhyo_entries_tenant_code_record_id_entry_no_rev"),
        ),
    )
    op.create_index(
        "ix_fuhyo_entries_atena", "fuhyo_entries", ["tenant_code", "atena_number"], unique=False
    )
    op.create_index(
        "ix_fuhyo_entries_code", "fuhyo_entries", ["tenant_code", "juminhyo_code"], unique=False
    )
    op.create_index(
        op.f("ix_fuhyo_entries_record_id"), "fuhyo_entries", ["record_id"], unique=False
    )
    op.create_index(
        op.f("ix_fuhyo_entries_tenant_code"), "fuhyo_entries", ["tenant_code"], unique=False
    )
    op.create_table(
        "fuhyo_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("sender_code", sa.String(length=6), nullable=False),
        sa.Column("sender_name", sa.String(length=100), nullable=False),
        sa.Column("notice_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("entry_no", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuhyo_notices")),
    )
    op.create_index(
        "ix_fuhyo_notices_status", "fuhyo_notices", ["tenant_code", "status"], unique=False
    )
    op.create_index(
        op.f("ix_fuhyo_notices_tenant_code"), "fuhyo_notices", ["tenant_code"], unique=False
    )
    for table in NEW_TABLES:
        enable_rls(op.get_bind(), table)
    # the linkage-consumer kit's tables (kikan.linkage.consumer.replica mixins)
    op.create_table(
        "fuhyo_persons",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuhyo_persons")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_fuhyo_persons_tenant_code_atena_number")
        ),
    )
    op.create_index(
        op.f("ix_fuhyo_persons_tenant_code"), "fuhyo_persons", ["tenant_code"], unique=False
    )
    enable_rls(op.get_bind(), "fuhyo_persons")
    op.create_table(
        "fuhyo_link",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fuhyo_link")),
        sa.UniqueConstraint("tenant_code", name=op.f("uq_fuhyo_link_tenant_code")),
    )
    op.create_index(op.f("ix_fuhyo_link_tenant_code"), "fuhyo_link", ["tenant_code"], unique=False)
    enable_rls(op.get_bind(), "fuhyo_link")


def downgrade() -> None:
    for table in ("fuhyo_link", "fuhyo_persons"):
        op.drop_index(op.f(f"ix_{table}_tenant_code"), table_name=table)
        op.drop_table(table)
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
