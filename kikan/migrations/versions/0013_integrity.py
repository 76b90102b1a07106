"""Integrity: unique numbers among current residents (hardening).

Reserved revision (filled by the work that needs it; empty revisions are valid).

Revision ID: 0013_integrity
Revises: 0012_linkage_push
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0013_integrity"
down_revision = "0012_linkage_push"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
