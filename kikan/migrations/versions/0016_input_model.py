"""Input model (hardening): column bounds matching the validated input.

Reserved revision (filled by the work that needs it; empty revisions are valid).

Revision ID: 0016_input_model
Revises: 0015_migration_fidelity
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0016_input_model"
down_revision = "0015_migration_fidelity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
