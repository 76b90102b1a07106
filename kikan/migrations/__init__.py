"""Alembic migrations. Run through `kikan db upgrade`; valid on SQLite and PostgreSQL."""
