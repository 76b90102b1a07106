"""Authentication throttling and certificate verification codes (hardening).

Reserved revision (filled by the work that needs it; empty revisions are valid).

Revision ID: 0014_auth_throttle
Revises: 0013_integrity
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0014_auth_throttle"
down_revision = "0013_integrity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
