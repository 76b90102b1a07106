"""Engine, declarative base and the tenant-owned mixin.

The same models and migrations serve SQLite (embedded default) and PostgreSQL (production and the
full test suite). Tenant isolation has two walls: the unit of work adds the tenant criterion to
every ORM query (see `uow.py`), and on PostgreSQL row-level security filters every tenant table on
`kikan.tenant`, a transaction-local setting the unit of work sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, String, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The scope value of host-level work (operators, tenant creation, the host audit chain).
HOST_SCOPE = "host"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends.

    SQLite has no time zone type and returns naive values; normalising on the way in and out keeps
    comparisons and the audit hash identical on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantOwned:
    """Mixin for every row that belongs to one tenant.

    Tables using it are listed in `tenant_tables()`; migrations enable row-level security on each,
    and the unit of work scopes every ORM query to the current tenant.
    """

    tenant_code: Mapped[str] = mapped_column(String(8), index=True)


def tenant_tables() -> list[str]:
    """Names of all tables whose mapped class is tenant-owned (RLS is applied to each)."""
    names = []
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, TenantOwned):
            names.append(cast(Table, mapper.local_table).name)
    return sorted(set(names))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the pragmas/settings Kikan relies on for each backend."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy control transactions so BEGIN IMMEDIATE can serialise writers.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock at BEGIN: no deadlock-prone lock upgrades mid-transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)
