"""戸籍の附票's own Alembic branch ("fuhyo"): revisions here never join the platform chain."""
