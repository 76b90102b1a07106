"""The scaffold scenario's second half, run in its own interpreter by tests/test_scaffold.py.

Why a separate process: a throwaway module's ORM class would stay in the shared metadata and
mapper registry of the test session (tenant_tables(), the models-match-migrations check) long
after its files are gone. Usage: python -m tests.scaffold_driver PACKAGE ADMIN_URL APP_URL VAR_DIR
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from kikan.app import create_app
from kikan.modules import MODULES, migration_locations
from kikan.platform.migrate import current_revisions, schema_is_current, upgrade
from kikan.platform.modules import ModuleDescriptor
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import APP_ROLE, bearer, create_staff, create_tenant


def main(package: str, admin_url: str, app_url: str, var_dir: str) -> None:
    module: ModuleDescriptor = import_module(f"{package}.module").MODULE
    registry = (*MODULES, module)
    name = module.name
    postgres = admin_url.startswith("postgresql")
    upgrade(
        admin_url, app_role=APP_ROLE if postgres else None, locations=migration_locations(registry)
    )
    assert f"{name}_0001" in current_revisions(admin_url), current_revisions(admin_url)

    db = Database(app_url)
    try:
        assert schema_is_current(db.engine, migration_locations(registry))[0]
        assert not schema_is_current(db.engine, migration_locations(MODULES))[0]
        if postgres:
            with db.engine.connect() as conn:
                forced = conn.execute(
                    text(
                        "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class"
                        " WHERE relname = :t"
                    ),
                    {"t": f"{name}_items"},
                ).scalar_one()
            assert forced, "RLS not forced on the example table"
        mine, other = create_tenant(db), create_tenant(db)
        for tenant in (mine, other):
            create_staff(db, tenant, "scenario", ["counter"])
        app = create_app(Settings(var_dir=Path(var_dir)), db, registry=registry)
        with TestClient(app, base_url="https://testserver") as client:
            headers = bearer(client, mine, "scenario")
            made = client.post(f"/api/v1/{name}/items", json={"label": "見本"}, headers=headers)
            assert made.status_code == 201, made.text
            got = client.get(f"/api/v1/{name}/items", headers=headers)
            assert got.json() == [{"id": made.json()["id"], "label": "見本"}], got.text
            theirs = client.get(f"/api/v1/{name}/items", headers=bearer(client, other, "scenario"))
            assert theirs.status_code == 200 and theirs.json() == [], theirs.text
            bad = client.post(f"/api/v1/{name}/items", json={"label": "　"}, headers=headers)
            assert bad.status_code == 422 and bad.json()["item"] == "label", bad.text
            assert "　" not in bad.json()["detail"]
    finally:
        db.dispose()
    print("scenario ok")


if __name__ == "__main__":
    main(*sys.argv[1:5])
