"""選挙人名簿管理's own Alembic branch ("electoral_roll"): never joins the platform chain."""
