"""Migration fidelity: legacy numbers and cross-references.

Reserved revision (filled by the work that needs it; empty revisions are valid).

Revision ID: 0015_migration_fidelity
Revises: 0014_auth_throttle
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0015_migration_fidelity"
down_revision = "0014_auth_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
