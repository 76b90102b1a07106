"""The second wall: PostgreSQL row-level security on the seal tables, beneath the unit of work."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kikan.platform.uow import Database
from kikan.seal import service
from tests.conftest import create_tenant
from tests.seal.conftest import record

TABLES = ("seal_persons", "seal_registrations", "seal_history", "seal_reviews", "seal_link")


@pytest.mark.postgres
def test_raw_sql_of_another_tenant_sees_no_seal_rows(pg_db: Database) -> None:
    a, b = create_tenant(pg_db, "甲市"), create_tenant(pg_db, "乙市")
    with pg_db.unit_of_work(a) as uow:
        service.apply_full(uow, [record("100000000000001")])
        service.save_link(
            uow, service.SYNC_ACTOR, base_url="http://x", client_id="c" * 32, client_secret="s"
        )
        uow.commit()
    with pg_db.unit_of_work(b) as uow:  # raw SQL: no ORM tenant criterion, only RLS
        for table in TABLES:
            assert uow.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    with pg_db.unit_of_work(a) as uow:
        assert uow.session.execute(text("SELECT count(*) FROM seal_persons")).scalar() == 1
        assert uow.session.execute(text("SELECT count(*) FROM seal_link")).scalar() == 1
