"""個人住民税 (業務コード 010): the example use cases on both backends, tenant isolation, the API.

Created by `kikan module new`; grow it with the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kikan.juminzei import service
from kikan.juminzei.domain import JuminzeiRuleError
from kikan.juminzei.module import MODULE
from kikan.modules import MODULES, migration_locations
from kikan.platform.context import Context
from kikan.platform.migrate import upgrade
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import APP_ROLE, TEST_ACTOR, Backend, bearer, create_staff, create_tenant


@pytest.fixture
def migrated(backend: Backend) -> Backend:
    """The module's branch applied (a no-op once the module is registered in kikan.modules)."""
    location = MODULE.migration_location()
    assert location is not None
    role = APP_ROLE if backend.name == "postgres" else None
    upgrade(backend.admin_url, app_role=role, locations=[*migration_locations(), location])
    return backend


@pytest.fixture
def module_db(migrated: Backend) -> Iterator[Database]:
    database = Database(migrated.app_url)
    yield database
    database.dispose()


CTX = Context(actor=TEST_ACTOR)


def test_items_are_added_listed_and_kept_per_tenant(module_db: Database) -> None:
    mine, other = create_tenant(module_db), create_tenant(module_db)
    with module_db.unit_of_work(mine) as uow:
        added = service.add_item(uow, CTX, service.AddItem(label="  見本  "))
        uow.commit()
    with module_db.unit_of_work(mine) as uow:
        listed = service.list_items(uow, CTX, service.ListItems())
        assert [(i.id, i.label) for i in listed] == [(added.id, "見本")]
    with module_db.unit_of_work(other) as uow:
        assert service.list_items(uow, CTX, service.ListItems()) == []


def test_an_empty_label_is_refused_in_japanese(module_db: Database) -> None:
    tenant = create_tenant(module_db)
    with module_db.unit_of_work(tenant) as uow, pytest.raises(JuminzeiRuleError) as refused:
        service.add_item(uow, CTX, service.AddItem(label="　 "))
    assert refused.value.item == "label" and "名称" in refused.value.message


def test_the_api_adds_and_lists_items(module_db: Database, settings: Settings) -> None:
    from kikan.app import create_app

    tenant = create_tenant(module_db)
    create_staff(module_db, tenant, "juminzei_staff", ["counter"])
    registry = MODULES if MODULE in MODULES else (*MODULES, MODULE)
    app = create_app(settings, module_db, registry=registry)
    with TestClient(app, base_url="https://testserver") as client:
        headers = bearer(client, tenant, "juminzei_staff")
        created = client.post("/api/v1/juminzei/items", json={"label": "見本"}, headers=headers)
        assert created.status_code == 201, created.text
        listed = client.get("/api/v1/juminzei/items", headers=headers)
        assert listed.status_code == 200
        assert listed.json() == [{"id": created.json()["id"], "label": "見本"}]
        refused = client.post("/api/v1/juminzei/items", json={"label": " "}, headers=headers)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
