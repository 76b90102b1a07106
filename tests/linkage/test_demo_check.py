"""The demo register through the operator's tools: `kikan export standard` then `kikan check`
pass, and 全件 over linkage gives exactly the exported persons other than those under 支援措置."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from kikan.platform.uow import Database
from kikan.residents.demo import seed_residents
from tests.conftest import Backend, bearer, create_staff, create_tenant
from tests.linkage.conftest import Town
from tests.linkage.test_feed import exported_persons, full_all
from tests.platform.test_cli import run
from tests.residents.conftest import Clerk


def test_demo_export_passes_kikan_check_and_matches_full_feed(
    client: TestClient, db: Database, backend: Backend, tmp_path: Path
) -> None:
    tenant = create_tenant(db, "日和市")
    seed_residents(db, tenant, count=150)
    env = {"KIKAN_VAR_DIR": str(tmp_path / "var"), "KIKAN_DATABASE_URL": backend.app_url}
    out = tmp_path / "export"
    exported = run(env, "export", "standard", "--tenant", tenant, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    checked = run(env, "check", "--layout", "住民記録", *sorted(str(p) for p in out.glob("*.csv")))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    create_staff(db, tenant, "shinsa", ["counter"])
    create_staff(db, tenant, "kanri", ["sysadmin"])
    town = Town(
        client,
        tenant,
        Clerk(client, tenant, bearer(client, tenant, "shinsa")),
        bearer(client, tenant, "kanri"),
    )
    plain = town.token(town.register(["residents.changed"]))
    entitled = town.token(town.register(["residents.changed", "support_measure"], name="福祉"))
    everyone = exported_persons(db, tenant, tmp_path / "again")
    protected = {
        line.split(",")[0] for line in (out / "support_measure.csv").read_text().splitlines()[1:]
    }
    assert protected  # the demo has a person under 支援措置
    entitled_rows = full_all(town, entitled, limit=40)[0]
    assert {r["atena_number"] for r in entitled_rows if r.pop("support_measure") == "1"} == (
        protected
    )
    assert entitled_rows == everyone
    assert full_all(town, plain, limit=40)[0] == [
        p for p in everyone if p["atena_number"] not in protected
    ]
