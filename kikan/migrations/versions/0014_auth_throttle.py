"""Authentication throttling and certificate verification codes (hardening).

- `auth_throttle`: failures per throttle key (client address, account) with backoff, replacing
  the hard account lock (ADR 0009).
- `certificate_issuances.check_code_hash`: the 照合番号 printed on each certificate; verification
  needs it (or the PDF's SHA-256), so sequential 発行番号 cannot be enumerated.
- `certificate_verification_counts`: anonymous verifications counted per day instead of one
  hash-chained audit record per call.

Revision ID: 0014_auth_throttle
Revises: 0013_integrity
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kikan.platform.rls import enable_rls

revision = "0014_auth_throttle"
down_revision = "0013_integrity"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_throttle",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", TS, nullable=False),
        sa.Column("last_failure_at", TS, nullable=True),
        sa.Column("blocked_until", TS, nullable=True),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_code", "key_hash", name=op.f("pk_auth_throttle")),
    )
    op.create_table(
        "certificate_verification_counts",
        sa.Column("tenant_code", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_code", "day", "status", name=op.f("pk_certificate_verification_counts")
        ),
    )
    op.add_column(
        "certificate_issuances",
        sa.Column("check_code_hash", sa.String(length=64), nullable=True),
    )
    for table in ("auth_throttle", "certificate_verification_counts"):
        enable_rls(op.get_bind(), table)


def downgrade() -> None:
    with op.batch_alter_table("certificate_issuances") as batch:  # SQLite: table rebuild
        batch.drop_column("check_code_hash")
    op.drop_table("certificate_verification_counts")
    op.drop_table("auth_throttle")
