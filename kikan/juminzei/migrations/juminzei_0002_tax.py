"""個人住民税: the tax's own tables — profile, 賦課期日 population, income records with their
batches and rejects, assessments (versions), 期割 and the notice runs (forced RLS on each).

Revision ID: juminzei_0002
Revises: juminzei_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "juminzei_0002"
down_revision = "juminzei_0001"
branch_labels = None
depends_on = None

TABLES = (
    "juminzei_rejects",
    "juminzei_profile",
    "juminzei_notice_runs",
    "juminzei_notice_items",
    "juminzei_kijitsu_runs",
    "juminzei_kijitsu",
    "juminzei_installments",
    "juminzei_income",
    "juminzei_batches",
    "juminzei_assessments",
)


def upgrade() -> None:
    op.create_table(
        "juminzei_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("notice_no", sa.String(length=20), nullable=False),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("annual_tax", sa.BigInteger(), nullable=False),
        sa.Column("city_total", sa.BigInteger(), nullable=False),
        sa.Column("pref_total", sa.BigInteger(), nullable=False),
        sa.Column("forest_tax", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("employer_key", sa.String(length=20), nullable=False),
        sa.Column("employer_name", sa.String(length=200), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_assessments")),
        sa.UniqueConstraint(
            "tenant_code",
            "fiscal_year",
            "atena_number",
            "version",
            name="uq_juminzei_assessments_version",
        ),
    )
    op.create_index(
        "ix_juminzei_assessments_current",
        "juminzei_assessments",
        ["tenant_code", "fiscal_year", "current"],
        unique=False,
    )
    op.create_index(
        op.f("ix_juminzei_assessments_tenant_code"),
        "juminzei_assessments",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "juminzei_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_batches")),
        sa.UniqueConstraint(
            "tenant_code",
            "fiscal_year",
            "kind",
            "digest",
            name=op.f("uq_juminzei_batches_tenant_code_fiscal_year_kind_digest"),
        ),
    )
    op.create_index(
        op.f("ix_juminzei_batches_tenant_code"), "juminzei_batches", ["tenant_code"], unique=False
    )
    op.create_table(
        "juminzei_income",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("payer_key", sa.String(length=20), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("dup_key", sa.String(length=300), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("match_state", sa.String(length=20), nullable=False),
        sa.Column("match_note", sa.String(length=400), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_income")),
    )
    op.create_index(
        "ix_juminzei_income_dup",
        "juminzei_income",
        ["tenant_code", "fiscal_year", "kind", "dup_key"],
        unique=False,
    )
    op.create_index(
        "ix_juminzei_income_person",
        "juminzei_income",
        ["tenant_code", "fiscal_year", "atena_number"],
        unique=False,
    )
    op.create_index(
        "ix_juminzei_income_state",
        "juminzei_income",
        ["tenant_code", "fiscal_year", "match_state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_juminzei_income_tenant_code"), "juminzei_income", ["tenant_code"], unique=False
    )
    op.create_table(
        "juminzei_installments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("notice_no", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("employer_key", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_installments")),
    )
    op.create_index(
        "ix_juminzei_installments_assessment",
        "juminzei_installments",
        ["tenant_code", "assessment_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_juminzei_installments_tenant_code"),
        "juminzei_installments",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "juminzei_kijitsu",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kana", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.String(length=20), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("household", sa.String(length=20), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("match_key", sa.String(length=240), nullable=False),
        sa.Column("kana_key", sa.String(length=240), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_kijitsu")),
        sa.UniqueConstraint(
            "tenant_code",
            "fiscal_year",
            "atena_number",
            name=op.f("uq_juminzei_kijitsu_tenant_code_fiscal_year_atena_number"),
        ),
    )
    op.create_index(
        "ix_juminzei_kijitsu_kana",
        "juminzei_kijitsu",
        ["tenant_code", "fiscal_year", "kana_key"],
        unique=False,
    )
    op.create_index(
        "ix_juminzei_kijitsu_match",
        "juminzei_kijitsu",
        ["tenant_code", "fiscal_year", "match_key"],
        unique=False,
    )
    op.create_index(
        op.f("ix_juminzei_kijitsu_tenant_code"), "juminzei_kijitsu", ["tenant_code"], unique=False
    )
    op.create_table(
        "juminzei_kijitsu_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kijitsu", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_kijitsu_runs")),
        sa.UniqueConstraint(
            "tenant_code",
            "fiscal_year",
            name=op.f("uq_juminzei_kijitsu_runs_tenant_code_fiscal_year"),
        ),
    )
    op.create_index(
        op.f("ix_juminzei_kijitsu_runs_tenant_code"),
        "juminzei_kijitsu_runs",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "juminzei_notice_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_notice_items")),
        sa.UniqueConstraint(
            "tenant_code",
            "run_id",
            "assessment_id",
            name=op.f("uq_juminzei_notice_items_tenant_code_run_id_assessment_id"),
        ),
    )
    op.create_index(
        op.f("ix_juminzei_notice_items_run_id"), "juminzei_notice_items", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_juminzei_notice_items_tenant_code"),
        "juminzei_notice_items",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "juminzei_notice_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("out_dir", sa.String(length=500), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_notice_runs")),
    )
    op.create_index(
        op.f("ix_juminzei_notice_runs_tenant_code"),
        "juminzei_notice_runs",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "juminzei_profile",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("due_dates", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_profile")),
        sa.UniqueConstraint("tenant_code", name=op.f("uq_juminzei_profile_tenant_code")),
    )
    op.create_index(
        op.f("ix_juminzei_profile_tenant_code"), "juminzei_profile", ["tenant_code"], unique=False
    )
    op.create_table(
        "juminzei_rejects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_juminzei_rejects")),
    )
    op.create_index(
        op.f("ix_juminzei_rejects_batch_id"), "juminzei_rejects", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_juminzei_rejects_tenant_code"), "juminzei_rejects", ["tenant_code"], unique=False
    )

    enable_rls(op.get_bind(), "juminzei_assessments")
    enable_rls(op.get_bind(), "juminzei_batches")
    enable_rls(op.get_bind(), "juminzei_income")
    enable_rls(op.get_bind(), "juminzei_installments")
    enable_rls(op.get_bind(), "juminzei_kijitsu")
    enable_rls(op.get_bind(), "juminzei_kijitsu_runs")
    enable_rls(op.get_bind(), "juminzei_notice_items")
    enable_rls(op.get_bind(), "juminzei_notice_runs")
    enable_rls(op.get_bind(), "juminzei_profile")
    enable_rls(op.get_bind(), "juminzei_rejects")


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
