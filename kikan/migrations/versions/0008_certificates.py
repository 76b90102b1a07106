"""証明書: the certificate issuance register (交付履歴) and 本人通知 registrations (forced RLS).

Revision ID: 0008_certificates
Revises: 0007_linkage
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0008_certificates"
down_revision = "0007_linkage"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "certificate_issuances",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_number", sa.String(length=24), nullable=False),
        sa.Column("form_id", sa.String(length=16), nullable=False),
        sa.Column("form_name", sa.String(length=100), nullable=False),
        sa.Column("module", sa.String(length=20), nullable=False),
        sa.Column("subject_refs", sa.JSON(), nullable=False),
        sa.Column("requester_kind", sa.String(length=20), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=400), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("terminal", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("voided_at", TS, nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_issuances")),
        sa.UniqueConstraint(
            "tenant_code", "issue_number", name="uq_certificate_issuances_tenant_code_issue_number"
        ),
    )
    op.create_index(
        op.f("ix_certificate_issuances_tenant_code"),
        "certificate_issuances",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "residents_honnin_tsuuchi",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("send_to", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_honnin_tsuuchi")),
    )
    op.create_index(
        "ix_residents_honnin_tsuuchi_person",
        "residents_honnin_tsuuchi",
        ["tenant_code", "atena_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_residents_honnin_tsuuchi_tenant_code"),
        "residents_honnin_tsuuchi",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "residents_honnin_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("issue_number", sa.String(length=24), nullable=False),
        sa.Column("form_name", sa.String(length=100), nullable=False),
        sa.Column("requester_kind", sa.String(length=20), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents_honnin_notices")),
    )
    op.create_index(
        "ix_residents_honnin_notices_person",
        "residents_honnin_notices",
        ["tenant_code", "atena_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_residents_honnin_notices_tenant_code"),
        "residents_honnin_notices",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "residents_certifier_settings",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("deputy_title", sa.String(length=40), nullable=False),
        sa.Column("deputy_name", sa.String(length=100), nullable=False),
        sa.Column("deputy_from", sa.Date(), nullable=True),
        sa.Column("deputy_until", sa.Date(), nullable=True),
        sa.Column("deputy_seal_png", sa.LargeBinary(), nullable=True),
        sa.Column("notice", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", name=op.f("pk_residents_certifier_settings")),
    )
    for table in (
        "certificate_issuances",
        "residents_honnin_tsuuchi",
        "residents_honnin_notices",
        "residents_certifier_settings",
    ):
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    op.drop_table("residents_certifier_settings")
    op.drop_index(
        op.f("ix_residents_honnin_notices_tenant_code"), table_name="residents_honnin_notices"
    )
    op.drop_index("ix_residents_honnin_notices_person", table_name="residents_honnin_notices")
    op.drop_table("residents_honnin_notices")
    op.drop_index(
        op.f("ix_residents_honnin_tsuuchi_tenant_code"), table_name="residents_honnin_tsuuchi"
    )
    op.drop_index("ix_residents_honnin_tsuuchi_person", table_name="residents_honnin_tsuuchi")
    op.drop_table("residents_honnin_tsuuchi")
    op.drop_index(op.f("ix_certificate_issuances_tenant_code"), table_name="certificate_issuances")
    op.drop_table("certificate_issuances")
