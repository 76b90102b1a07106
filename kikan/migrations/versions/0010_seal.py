"""印鑑登録: registrations, history, review tasks, the 宛名 replica and the linkage cursor
(forced RLS on every table).

Revision ID: 0010_seal
Revises: 0009_migration
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0010_seal"
down_revision = "0009_migration"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TABLES = ("seal_history", "seal_link", "seal_persons", "seal_registrations", "seal_reviews")


def upgrade() -> None:
    op.create_table(
        "seal_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_history")),
    )
    op.create_index(
        op.f("ix_seal_history_registration_id"), "seal_history", ["registration_id"], unique=False
    )
    op.create_index(
        op.f("ix_seal_history_tenant_code"), "seal_history", ["tenant_code"], unique=False
    )
    op.create_table(
        "seal_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("client_secret", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("full_done", sa.Boolean(), nullable=False),
        sa.Column("full_cursor", sa.String(length=600), nullable=True),
        sa.Column("full_as_of", sa.Integer(), nullable=True),
        sa.Column("last_sync_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_link")),
        sa.UniqueConstraint("tenant_code", name=op.f("uq_seal_link_tenant_code")),
    )
    op.create_index(op.f("ix_seal_link_tenant_code"), "seal_link", ["tenant_code"], unique=False)
    op.create_table(
        "seal_persons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_persons")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_seal_persons_tenant_code_atena_number")
        ),
    )
    op.create_index(
        op.f("ix_seal_persons_tenant_code"), "seal_persons", ["tenant_code"], unique=False
    )
    op.create_table(
        "seal_registrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_number", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("active_atena", sa.String(length=15), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("identity_document", sa.String(length=50), nullable=False),
        sa.Column("card_number", sa.String(length=8), nullable=True),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("seal_text", sa.String(length=40), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("image_type", sa.String(length=20), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("inquiry_digest", sa.String(length=64), nullable=True),
        sa.Column("inquiry_deadline", sa.Date(), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_registrations")),
        sa.UniqueConstraint(
            "tenant_code",
            "active_atena",
            name=op.f("uq_seal_registrations_tenant_code_active_atena"),
        ),
        sa.UniqueConstraint(
            "tenant_code", "card_number", name=op.f("uq_seal_registrations_tenant_code_card_number")
        ),
        sa.UniqueConstraint(
            "tenant_code",
            "registration_number",
            name=op.f("uq_seal_registrations_tenant_code_registration_number"),
        ),
    )
    op.create_index(
        op.f("ix_seal_registrations_atena_number"),
        "seal_registrations",
        ["atena_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_seal_registrations_tenant_code"),
        "seal_registrations",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "seal_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_reviews")),
    )
    op.create_index(
        op.f("ix_seal_reviews_registration_id"), "seal_reviews", ["registration_id"], unique=False
    )
    op.create_index(
        op.f("ix_seal_reviews_tenant_code"), "seal_reviews", ["tenant_code"], unique=False
    )
    for table in TABLES:
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    op.drop_index(op.f("ix_seal_reviews_tenant_code"), table_name="seal_reviews")
    op.drop_index(op.f("ix_seal_reviews_registration_id"), table_name="seal_reviews")
    op.drop_table("seal_reviews")
    op.drop_index(op.f("ix_seal_registrations_tenant_code"), table_name="seal_registrations")
    op.drop_index(op.f("ix_seal_registrations_atena_number"), table_name="seal_registrations")
    op.drop_table("seal_registrations")
    op.drop_index(op.f("ix_seal_persons_tenant_code"), table_name="seal_persons")
    op.drop_table("seal_persons")
    op.drop_index(op.f("ix_seal_link_tenant_code"), table_name="seal_link")
    op.drop_table("seal_link")
    op.drop_index(op.f("ix_seal_history_tenant_code"), table_name="seal_history")
    op.drop_index(op.f("ix_seal_history_registration_id"), table_name="seal_history")
    op.drop_table("seal_history")
