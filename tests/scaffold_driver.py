"""The scaffold scenario's second half, run in its own interpreter by tests/test_scaffold.py.

It migrates the throwaway module on its own branch, checks its models against its migration,
serves it over HTTP, and syncs residents into its 宛名 replica through the linkage-consumer kit
against the real application under uvicorn (as another vendor's system would).

Why a separate process: a throwaway module's ORM class would stay in the shared metadata and
mapper registry of the test session (tenant_tables(), the models-match-migrations check) long
after its files are gone. Usage: python -m tests.scaffold_driver PACKAGE ADMIN_URL APP_URL VAR_DIR
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from kikan.app import create_app
from kikan.linkage.consumer import sync as kit
from kikan.modules import MODULES, migration_locations
from kikan.platform.crypto import KeyRing
from kikan.platform.db import Base
from kikan.platform.migrate import current_revisions, schema_is_current, upgrade
from kikan.platform.modules import ModuleDescriptor
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import APP_ROLE, PASSWORD, bearer, create_staff, create_tenant
from tests.residents.conftest import ADDRESS, ADDRESS2, PRIOR, days_ago, person


def _serve(app: FastAPI) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _sync_through_the_kit(
    package: str, name: str, db: Database, app: FastAPI, tenant: str, clerk: str, admin: str
) -> None:
    """Residents made over HTTP reach the module's replica only through 庁内データ連携."""
    consumer = import_module(f"{package}.linkage").CONSUMER
    replica = consumer.replica
    base, server, thread = _serve(app)
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            login: dict[str, dict[str, str]] = {}
            for who in (clerk, admin):
                r = http.post(
                    "/api/v1/auth/token",
                    json={"tenant": tenant, "login_id": who, "password": PASSWORD},
                )
                assert r.status_code == 200, r.text
                login[who] = {"Authorization": f"Bearer {r.json()['access_token']}"}
            created = http.post(
                "/api/v1/linkage/clients",
                json={"name": consumer.client_name, "scopes": list(consumer.scopes)},
                headers=login[admin],
            )
            assert created.status_code == 201, created.text
            link = {
                "base_url": base,
                "client_id": created.json()["client_id"],
                "client_secret": created.json()["client_secret"],
            }
            put = http.put(f"/api/v1/{name}/linkage", json=link, headers=login[admin])
            assert put.status_code == 200 and put.json()["connected"], put.text
            denied = http.get(f"/api/v1/{name}/linkage", headers=login[clerk])
            assert denied.status_code == 403, denied.text

            def post(path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
                r = http.post(f"/api/v1{path}", json=body, headers=login[clerk])
                assert r.status_code == status, r.text
                return r.json()  # type: ignore[no-any-return]

            moved = post(
                "/residents/move-in",
                {
                    "movers": [
                        {
                            "person": person(
                                "見本",
                                "一郎",
                                "ミホン",
                                "イチロウ",
                                "1",
                                "昭和55年1月7日",
                                "世帯主",
                            )
                        },
                        {
                            "person": person(
                                "見本", "花子", "ミホン", "ハナコ", "2", "昭和57年12月30日", "妻"
                            )
                        },
                    ],
                    "address": ADDRESS,
                    "prior_address": PRIOR,
                    "move_date": days_ago(3),
                    "notified_date": days_ago(1),
                },
                201,
            )
            first = kit.sync_tenant(db, consumer, tenant)
            with db.unit_of_work(tenant) as uow:
                rows = {r.atena_number: r.name for r in uow.session.scalars(select(replica))}
            assert set(rows) == set(moved["atena_numbers"]), (first, sorted(rows))
            assert set(rows.values()) == {"見本　一郎", "見本　花子"}
            household = moved["household_numbers"][0]
            post(
                "/residents/move-within",
                {"household_number": household, "address": ADDRESS2, "move_date": days_ago(1)},
                200,
            )
            kit.sync_tenant(db, consumer, tenant)
            with db.unit_of_work(tenant) as uow:
                after = list(uow.session.scalars(select(replica)))
                assert len(after) == 2 and all(r.seq > 0 for r in after), after
                assert all(ADDRESS2["town"] in r.address for r in after), [r.address for r in after]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
        for store in module.stores:
            import_module(store)  # its tables join the metadata the comparison reads
        with db.engine.connect() as conn:
            diffs = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diffs == [], f"the module's models and its migration differ: {diffs}"
        mine, other = create_tenant(db), create_tenant(db)
        for tenant in (mine, other):
            create_staff(db, tenant, "scenario", ["counter"])
        create_staff(db, mine, "it-admin", ["sysadmin"])
        keyfile = Path(var_dir) / "mynumber.keys"
        KeyRing.generate_key_file(keyfile, "k1")
        settings = Settings(var_dir=Path(var_dir), mynumber_key_file=keyfile, cookie_secure=False)
        app = create_app(settings, db, registry=registry)
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
        _sync_through_the_kit(package, name, db, app, mine, "scenario", "it-admin")
    finally:
        db.dispose()
    print("scenario ok")


if __name__ == "__main__":
    main(*sys.argv[1:5])
