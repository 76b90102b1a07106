"""宛名管理's own Alembic branch ("atena"): revisions here never join the platform chain."""
