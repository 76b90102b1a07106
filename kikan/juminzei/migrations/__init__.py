"""個人住民税's own Alembic branch ("juminzei"): revisions here never join the platform chain."""
