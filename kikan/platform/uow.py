"""The unit of work: one transaction per use case, scoped to one tenant (or the host).

Services receive a `UnitOfWork` and never commit or flush on their own; the caller (an API
endpoint, a CLI command, a batch step) commits once, or nothing is written. Inside the unit of
work every ORM query on a tenant-owned table is filtered to the scope's tenant, new tenant-owned
rows are stamped with it (and rows of another tenant are refused), and on PostgreSQL the
transaction-local setting `kikan.tenant` drives row-level security as the second wall.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from kikan.platform.db import HOST_SCOPE, TenantOwned, make_engine


class TenantScopeViolation(RuntimeError):
    """A row of another tenant was about to be written: a programming error, never user input."""


@dataclass(frozen=True)
class Scope:
    """Whose data a unit of work may touch: one tenant code, or the host."""

    tenant: str

    @property
    def is_host(self) -> bool:
        return self.tenant == HOST_SCOPE

    @classmethod
    def host(cls) -> Scope:
        return cls(HOST_SCOPE)


class Database:
    """Owns the engine and builds units of work. One per process (or per test)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, **engine_kwargs)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    def unit_of_work(self, scope: Scope | str, *, snapshot: bool = False) -> UnitOfWork:
        """`snapshot=True`: every read of the unit of work sees one consistent state (REPEATABLE
        READ on PostgreSQL; SQLite's write-locked transaction already is one) — for exports."""
        if isinstance(scope, str):
            scope = Scope(scope)
        return UnitOfWork(self, scope, snapshot=snapshot)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """A context manager around one transaction. Call `commit()` to keep the work."""

    def __init__(self, db: Database, scope: Scope, *, snapshot: bool = False) -> None:
        self.db = db
        self.scope = scope
        self.snapshot = snapshot
        self._session: Session | None = None
        self._committed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work not entered")
        return self._session

    @property
    def tenant(self) -> str:
        return self.scope.tenant

    def __enter__(self) -> UnitOfWork:
        session = self.db._sessions()
        session.info["kikan_scope"] = self.scope
        _install_scope_guards(session)
        session.begin()
        if self.snapshot and self.db.is_postgres:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if self.db.is_postgres:
            session.execute(
                text("SELECT set_config('kikan.tenant', :tenant, true)"),
                {"tenant": self.scope.tenant},
            )
        self._session = session
        return self

    def commit(self) -> None:
        self.session.commit()
        self._committed = True
        # row locks end with the transaction: per-transaction caches must not outlive it
        self.session.info.pop("audit_head", None)

    def rollback(self) -> None:
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                session.rollback()
        finally:
            session.close()
            self._session = None


def _install_scope_guards(session: Session) -> None:
    @event.listens_for(session, "do_orm_execute")
    def _scope_queries(state: ORMExecuteState) -> None:
        tenant: str = state.session.info["kikan_scope"].tenant
        if state.is_select or state.is_update or state.is_delete:
            # `tenant` is a plain string closure variable: SQLAlchemy turns it into a bound
            # parameter, so the cached statement never carries another request's tenant.
            state.statement = state.statement.options(
                with_loader_criteria(
                    TenantOwned,
                    lambda cls: cls.tenant_code == tenant,
                    include_aliases=True,
                )
            )

    @event.listens_for(session, "before_flush")
    def _stamp_tenant(sess: Session, _ctx: Any, _instances: Any) -> None:
        scope: Scope = sess.info["kikan_scope"]
        for obj in list(sess.new) + list(sess.dirty):
            if isinstance(obj, TenantOwned):
                current = getattr(obj, "tenant_code", None)
                if current is None:
                    obj.tenant_code = scope.tenant
                elif current != scope.tenant:
                    raise TenantScopeViolation(
                        f"row for tenant {current} written in a unit of work scoped to "
                        f"{scope.tenant}"
                    )


@contextmanager
def unit_of_work(db: Database, scope: Scope | str) -> Iterator[UnitOfWork]:
    """Functional spelling of `db.unit_of_work(scope)` for `with` statements."""
    with db.unit_of_work(scope) as uow:
        yield uow
