"""Tenant isolation: the unit of work scopes every ORM query, and RLS is the second wall."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from kikan.platform import tenancy
from kikan.platform.db import tenant_tables
from kikan.platform.errors import Conflict, InvalidInput
from kikan.platform.store import AuditRecordRow, StaffAccountRow, TenantRow
from kikan.platform.uow import Database, Scope, TenantScopeViolation
from tests.conftest import TEST_ACTOR, create_staff, create_tenant


def test_tenant_create_validates_code_and_rejects_duplicates(db: Database) -> None:
    with db.unit_of_work(Scope.host()) as uow:
        with pytest.raises(InvalidInput) as bad:
            tenancy.create_tenant(uow, TEST_ACTOR, code="131017", name="誤り区")
        assert bad.value.item == "団体コード"
        assert "検査数字" in bad.value.detail
        with pytest.raises(InvalidInput):
            tenancy.create_tenant(uow, TEST_ACTOR, code="13101", name="短い")
    code = create_tenant(db)
    with db.unit_of_work(Scope.host()) as uow, pytest.raises(Conflict):
        tenancy.create_tenant(uow, TEST_ACTOR, code=code, name="二重")
    with db.unit_of_work(Scope.host()) as uow:
        assert uow.session.get(TenantRow, "131017") is None


def test_unit_of_work_commits_all_or_nothing(db: Database) -> None:
    code = create_tenant(db)
    with pytest.raises(RuntimeError), db.unit_of_work(code) as uow:
        from kikan.platform import auth

        auth.create_staff(
            uow,
            TEST_ACTOR,
            login_id="halfway",
            display_name="途中",
            roles=["counter"],
            password="Half-Written-2026",
        )
        raise RuntimeError("use case fails after writing")
    with db.unit_of_work(code) as uow:
        assert (
            uow.session.scalars(
                select(StaffAccountRow).where(StaffAccountRow.login_id == "halfway")
            ).first()
            is None
        )
        # the audit record written in the failed transaction is gone too
        actions = uow.session.scalars(select(AuditRecordRow.function)).all()
        assert "職員登録" not in actions


def test_orm_queries_only_see_own_tenant(db: Database) -> None:
    a, b = create_tenant(db), create_tenant(db)
    create_staff(db, a, "alice", ["counter"])
    create_staff(db, b, "bob", ["counter"])
    with db.unit_of_work(a) as uow:
        logins = uow.session.scalars(select(StaffAccountRow.login_id)).all()
        assert logins == ["alice"]
        # even an explicit filter for the other tenant returns nothing
        assert (
            uow.session.scalars(
                select(StaffAccountRow).where(StaffAccountRow.tenant_code == b)
            ).all()
            == []
        )
        # bulk ORM updates are scoped as well
        uow.session.execute(update(StaffAccountRow).values(department="改変"))
        uow.commit()
    with db.unit_of_work(b) as uow:
        bob = uow.session.scalars(select(StaffAccountRow)).one()
        assert bob.department == ""


def test_writing_another_tenants_row_is_refused(db: Database) -> None:
    a, b = create_tenant(db), create_tenant(db)
    with db.unit_of_work(a) as uow:
        uow.session.add(
            StaffAccountRow(
                tenant_code=b,
                login_id="intruder",
                display_name="x",
                roles="counter",
                password_hash="x",
            )
        )
        with pytest.raises(TenantScopeViolation):
            uow.session.flush()


@pytest.mark.postgres
def test_rls_hides_other_tenants_rows_when_the_filter_is_forgotten(pg_db: Database) -> None:
    db = pg_db
    a, b = create_tenant(db), create_tenant(db)
    create_staff(db, a, "alice", ["counter"])
    create_staff(db, b, "bob", ["counter"])
    with db.unit_of_work(a) as uow:
        # raw SQL bypasses the ORM's tenant criterion: only RLS stands in the way
        rows = uow.session.execute(text("SELECT login_id, tenant_code FROM staff_accounts")).all()
        assert {r.tenant_code for r in rows} == {a}
        assert "bob" not in {r.login_id for r in rows}
        audit_tenants = (
            uow.session.execute(text("SELECT DISTINCT tenant_code FROM audit_records"))
            .scalars()
            .all()
        )
        assert audit_tenants == [a]
        # and it cannot write into the other tenant either
        with pytest.raises(DBAPIError):
            uow.session.execute(
                text(
                    "INSERT INTO staff_accounts (tenant_code, login_id, display_name, department, roles,"
                    " password_hash, failed_attempts, active, created_at, password_changed_at)"
                    " VALUES (:t, 'x', 'x', '', 'counter', 'x', 0, true, now(), now())"
                ),
                {"t": b},
            )
    # a connection with no tenant set sees no tenant rows at all
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff_accounts")).scalar() == 0


@pytest.mark.postgres
def test_every_tenant_table_has_forced_rls_and_the_app_role_cannot_bypass(pg_db: Database) -> None:
    db = pg_db
    with db.engine.connect() as conn:
        flags = dict(
            conn.execute(
                text(
                    "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
                    "WHERE relname = ANY(:names)"
                ),
                {"names": tenant_tables()},
            ).all()
        )
        role = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert set(flags) == set(tenant_tables())
    assert all(flags.values()), flags
    assert tuple(role) == (False, False)


def test_tenant_tables_include_the_platform_tables() -> None:
    assert {"staff_accounts", "auth_sessions", "audit_records", "audit_heads"} <= set(
        tenant_tables()
    )
