"""選挙人名簿管理: the first revision of the module's own branch (forced RLS on every table).

Revision ID: electoral_roll_0001
Revises: (the start of branch "electoral_roll"; depends on the platform revision 0016_input_model)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "electoral_roll_0001"
down_revision = None
branch_labels = ("electoral_roll",)
depends_on = "0016_input_model"


def upgrade() -> None:
    # the linkage-consumer kit's tables (kikan.linkage.consumer.replica mixins)
    op.create_table(
        "electoral_roll_persons",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_persons")),
        sa.UniqueConstraint(
            "tenant_code",
            "atena_number",
            name=op.f("uq_electoral_roll_persons_tenant_code_atena_number"),
        ),
    )
    op.create_index(
        op.f("ix_electoral_roll_persons_tenant_code"),
        "electoral_roll_persons",
        ["tenant_code"],
        unique=False,
    )
    enable_rls(op.get_bind(), "electoral_roll_persons")
    op.create_table(
        "electoral_roll_link",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_link")),
        sa.UniqueConstraint("tenant_code", name=op.f("uq_electoral_roll_link_tenant_code")),
    )
    op.create_index(
        op.f("ix_electoral_roll_link_tenant_code"),
        "electoral_roll_link",
        ["tenant_code"],
        unique=False,
    )
    enable_rls(op.get_bind(), "electoral_roll_link")
    # the roll, the living register and the 投票区 table
    op.create_table(
        "electoral_roll_districts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("banchi_from", sa.Integer(), nullable=True),
        sa.Column("banchi_to", sa.Integer(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_districts")),
    )
    op.create_index(
        op.f("ix_electoral_roll_districts_tenant_code"),
        "electoral_roll_districts",
        ["tenant_code"],
        unique=False,
    )
    op.create_index(
        "ix_electoral_roll_districts_version",
        "electoral_roll_districts",
        ["tenant_code", "version"],
        unique=False,
    )
    op.create_table(
        "electoral_roll_elections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_date", sa.Date(), nullable=False),
        sa.Column("election_day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_elections")),
    )
    op.create_index(
        op.f("ix_electoral_roll_elections_tenant_code"),
        "electoral_roll_elections",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "electoral_roll_register_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_register_history")),
    )
    op.create_index(
        "ix_electoral_roll_register_history_person",
        "electoral_roll_register_history",
        ["tenant_code", "atena_number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_electoral_roll_register_history_tenant_code"),
        "electoral_roll_register_history",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "electoral_roll_rolls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("base_date", sa.Date(), nullable=False),
        sa.Column("election_day", sa.Date(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=True),
        sa.Column("rules_version", sa.String(length=20), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("marked", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fixed_by", sa.String(length=64), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["electoral_roll_elections.id"],
            name=op.f("fk_electoral_roll_rolls_election_id_electoral_roll_elections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_rolls")),
    )
    op.create_index(
        op.f("ix_electoral_roll_rolls_tenant_code"),
        "electoral_roll_rolls",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "electoral_roll_register",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=4), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("roll_id", sa.Integer(), nullable=True),
        sa.Column("moved_out", sa.Date(), nullable=True),
        sa.Column("strike_on", sa.Date(), nullable=True),
        sa.Column("struck_on", sa.Date(), nullable=True),
        sa.Column("strike_reason", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kana", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.String(length=40), nullable=False),
        sa.Column("household_number", sa.String(length=15), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("banchi", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["roll_id"],
            ["electoral_roll_rolls.id"],
            name=op.f("fk_electoral_roll_register_roll_id_electoral_roll_rolls"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_register")),
        sa.UniqueConstraint(
            "tenant_code",
            "atena_number",
            name=op.f("uq_electoral_roll_register_tenant_code_atena_number"),
        ),
    )
    op.create_index(
        op.f("ix_electoral_roll_register_tenant_code"),
        "electoral_roll_register",
        ["tenant_code"],
        unique=False,
    )
    op.create_table(
        "electoral_roll_roll_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("roll_id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.String(length=4), nullable=False),
        sa.Column("moved_out", sa.Date(), nullable=True),
        sa.Column("strike_on", sa.Date(), nullable=True),
        sa.Column("atena_number", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kana", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.String(length=40), nullable=False),
        sa.Column("household_number", sa.String(length=15), nullable=False),
        sa.Column("town", sa.String(length=100), nullable=False),
        sa.Column("banchi", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("district", sa.String(length=20), nullable=False),
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["roll_id"],
            ["electoral_roll_rolls.id"],
            name=op.f("fk_electoral_roll_roll_entries_roll_id_electoral_roll_rolls"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electoral_roll_roll_entries")),
        sa.UniqueConstraint(
            "tenant_code", "roll_id", "atena_number", name="uq_electoral_roll_roll_entries_person"
        ),
    )
    op.create_index(
        "ix_electoral_roll_roll_entries_roll",
        "electoral_roll_roll_entries",
        ["tenant_code", "roll_id", "district"],
        unique=False,
    )
    op.create_index(
        op.f("ix_electoral_roll_roll_entries_tenant_code"),
        "electoral_roll_roll_entries",
        ["tenant_code"],
        unique=False,
    )
    enable_rls(op.get_bind(), "electoral_roll_districts")
    enable_rls(op.get_bind(), "electoral_roll_elections")
    enable_rls(op.get_bind(), "electoral_roll_register_history")
    enable_rls(op.get_bind(), "electoral_roll_rolls")
    enable_rls(op.get_bind(), "electoral_roll_register")
    enable_rls(op.get_bind(), "electoral_roll_roll_entries")


def downgrade() -> None:
    for table in (
        "electoral_roll_roll_entries",
        "electoral_roll_register",
        "electoral_roll_rolls",
        "electoral_roll_register_history",
        "electoral_roll_elections",
        "electoral_roll_districts",
        "electoral_roll_link",
        "electoral_roll_persons",
    ):
        op.drop_table(table)
