"""PostgreSQL row-level security: the second wall of tenant isolation.

Every tenant-owned table gets a policy that only shows and accepts rows whose `tenant_code` equals
the transaction-local setting `kikan.tenant` (set by the unit of work). FORCE makes the policy
apply to the table owner too; only superusers and BYPASSRLS roles escape it, and the application
refuses to run as one of those (see `check_app_role`).
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger("kikan.rls")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
POLICY = "tenant_isolation"


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"unsafe SQL identifier {name!r}")
    return name


def enable_rls(conn: Connection, table: str) -> None:
    """Enable and force RLS on a tenant table (no-op on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    t = _ident(table)
    conn.execute(text(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"))
    conn.execute(text(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY"))
    conn.execute(
        text(
            f"CREATE POLICY {POLICY} ON {t} "
            "USING (tenant_code = current_setting('kikan.tenant', true)) "
            "WITH CHECK (tenant_code = current_setting('kikan.tenant', true))"
        )
    )


def grant_app_role(conn: Connection, role: str) -> bool:
    """Create (if allowed) the application role and grant it what the application needs.

    The role can read and write business tables but only read and append to the access log:
    the application itself cannot rewrite history. Returns False if the role could not be set up
    (e.g. the migration user may not create roles); the DBA then creates it.
    """
    if conn.dialect.name != "postgresql":
        return True
    r = _ident(role)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        try:
            with conn.begin_nested():
                conn.execute(
                    text(f"CREATE ROLE {r} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
                )
        except Exception as exc:  # a concurrent creator or missing CREATEROLE privilege
            log.warning("could not create role %s: %s", role, type(exc).__name__)
            if not conn.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).first():
                return False
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {r}"))
    conn.execute(
        text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}")
    )
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}"))
    conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM {r}"))
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {r}"))
    return True


def check_app_role(conn: Connection) -> tuple[str, bool]:
    """Return (role name, whether it bypasses RLS) for the connection's current user."""
    if conn.dialect.name != "postgresql":
        return ("", False)
    row = conn.execute(
        text("SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    return (str(row[0]), bool(row[1]))
