"""宛名管理 (共通機能 住登外者宛名番号管理 031・団体内統合宛名 032): the first revision of the
module's own branch — the 宛名 replica and link (the consumer kit's), the 住登外者 register, the
states every search runs on, 個人番号 (encrypted), 名寄せ, 団体内統合宛名 and 付番 offers.
Forced RLS on every table.

Revision ID: atena_0001
Revises: (the start of branch "atena"; depends on the platform revision 0016_input_model)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "atena_0001"
down_revision = None
branch_labels = ("atena",)
depends_on = "0016_input_model"

TABLES = (
    "atena_residents",
    "atena_link",
    "atena_jutogai",
    "atena_states",
    "atena_my_numbers",
    "atena_identities",
    "atena_candidates",
    "atena_nayose_events",
    "atena_togo",
    "atena_offers",
)


def upgrade() -> None:
    op.create_table(
        "atena_residents",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_residents")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_atena_residents_tenant_code_atena_number")
        ),
    )
    op.create_table(
        "atena_link",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_link")),
        sa.UniqueConstraint("tenant_code", name=op.f("uq_atena_link_tenant_code")),
    )
    op.create_table(
        "atena_jutogai",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("gyomu_id", sa.String(length=3), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_jutogai")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_atena_jutogai_tenant_code_atena_number")
        ),
    )
    op.create_table(
        "atena_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("source", sa.String(length=1), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kana", sa.String(length=200), nullable=False),
        sa.Column("birth", sa.String(length=40), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("kana_key", sa.String(length=200), nullable=False),
        sa.Column("birth_day", sa.String(length=10), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_states")),
    )
    op.create_table(
        "atena_my_numbers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("blind_index", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_my_numbers")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_atena_my_numbers_tenant_code_atena_number")
        ),
    )
    op.create_table(
        "atena_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("source", sa.String(length=1), nullable=False),
        sa.Column("nayose_target", sa.String(length=15), nullable=False),
        sa.Column("representative", sa.Boolean(), nullable=False),
        sa.Column("togo_number", sa.String(length=15), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_identities")),
        sa.UniqueConstraint(
            "tenant_code", "atena_number", name=op.f("uq_atena_identities_tenant_code_atena_number")
        ),
    )
    op.create_table(
        "atena_candidates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_a", sa.String(length=15), nullable=False),
        sa.Column("atena_b", sa.String(length=15), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_candidates")),
        sa.UniqueConstraint(
            "tenant_code",
            "atena_a",
            "atena_b",
            name=op.f("uq_atena_candidates_tenant_code_atena_a_atena_b"),
        ),
    )
    op.create_table(
        "atena_nayose_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("atena_a", sa.String(length=15), nullable=False),
        sa.Column("atena_b", sa.String(length=15), nullable=False),
        sa.Column("representative", sa.String(length=15), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("undoes", sa.Integer(), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_nayose_events")),
    )
    op.create_table(
        "atena_togo",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("togo_number", sa.String(length=15), nullable=False),
        sa.Column("blind_index", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_togo")),
        sa.UniqueConstraint(
            "tenant_code", "blind_index", name=op.f("uq_atena_togo_tenant_code_blind_index")
        ),
        sa.UniqueConstraint(
            "tenant_code", "togo_number", name=op.f("uq_atena_togo_tenant_code_togo_number")
        ),
    )
    op.create_table(
        "atena_offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("search_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("gyomu_id", sa.String(length=3), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atena_offers")),
        sa.UniqueConstraint(
            "tenant_code", "search_id", name=op.f("uq_atena_offers_tenant_code_search_id")
        ),
    )
    op.create_index(
        op.f("ix_atena_residents_tenant_code"), "atena_residents", ["tenant_code"], unique=False
    )
    op.create_index(op.f("ix_atena_link_tenant_code"), "atena_link", ["tenant_code"], unique=False)
    op.create_index(
        op.f("ix_atena_jutogai_tenant_code"), "atena_jutogai", ["tenant_code"], unique=False
    )
    op.create_index(
        "ix_atena_states_name_key",
        "atena_states",
        ["tenant_code", "name_key", "birth_day"],
        unique=False,
    )
    op.create_index(
        op.f("ix_atena_states_tenant_code"), "atena_states", ["tenant_code"], unique=False
    )
    op.create_index(
        "ix_atena_states_person",
        "atena_states",
        ["tenant_code", "atena_number", "valid_from"],
        unique=False,
    )
    op.create_index(
        "ix_atena_states_birth", "atena_states", ["tenant_code", "birth_day"], unique=False
    )
    op.create_index(
        "ix_atena_states_kana_key",
        "atena_states",
        ["tenant_code", "kana_key", "birth_day"],
        unique=False,
    )
    op.create_index(
        op.f("ix_atena_my_numbers_tenant_code"), "atena_my_numbers", ["tenant_code"], unique=False
    )
    op.create_index(
        "ix_atena_my_numbers_index",
        "atena_my_numbers",
        ["tenant_code", "blind_index"],
        unique=False,
    )
    op.create_index(
        op.f("ix_atena_identities_tenant_code"), "atena_identities", ["tenant_code"], unique=False
    )
    op.create_index(
        "ix_atena_identities_togo", "atena_identities", ["tenant_code", "togo_number"], unique=False
    )
    op.create_index(
        "ix_atena_identities_target",
        "atena_identities",
        ["tenant_code", "nayose_target"],
        unique=False,
    )
    op.create_index(
        "ix_atena_candidates_status", "atena_candidates", ["tenant_code", "status"], unique=False
    )
    op.create_index(
        op.f("ix_atena_candidates_tenant_code"), "atena_candidates", ["tenant_code"], unique=False
    )
    op.create_index(
        op.f("ix_atena_nayose_events_tenant_code"),
        "atena_nayose_events",
        ["tenant_code"],
        unique=False,
    )
    op.create_index(op.f("ix_atena_togo_tenant_code"), "atena_togo", ["tenant_code"], unique=False)
    op.create_index(
        op.f("ix_atena_offers_tenant_code"), "atena_offers", ["tenant_code"], unique=False
    )
    for table in TABLES:
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
