"""Fixtures for resident-register scenarios driven through the HTTP API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from kikan.platform.crypto import KeyRing
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import bearer, create_staff, create_tenant

TODAY = datetime.now(ZoneInfo("Asia/Tokyo")).date()


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    keyfile = tmp_path / "mynumber.keys"
    KeyRing.generate_key_file(keyfile, "k1")
    return Settings(var_dir=tmp_path, mynumber_key_file=keyfile)


class Clerk:
    """A counter clerk (窓口・審査) talking to the API of one municipality."""

    def __init__(self, client: TestClient, tenant: str, headers: dict[str, str]) -> None:
        self.client = client
        self.tenant = tenant
        self.h = headers

    def post(self, path: str, body: dict[str, Any], **kw: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", json=body, headers={**self.h, **kw.pop("headers", {})}, **kw
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.h, **kw)

    def ok(self, path: str, body: dict[str, Any], status: int = 200, **kw: Any) -> dict[str, Any]:
        r = self.post(path, body, **kw)
        assert r.status_code == status, r.text
        return r.json()  # type: ignore[no-any-return]

    def resident(self, atena: str) -> dict[str, Any]:
        r = self.get(f"/residents/{atena}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def history(self, atena: str, **params: Any) -> list[dict[str, Any]]:
        r = self.get(f"/residents/{atena}/history", params=params)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def search(self, **criteria: Any) -> dict[str, Any]:
        return self.ok("/residents/search", criteria)


@pytest.fixture
def clerk(client: TestClient, db: Database) -> Clerk:
    t = create_tenant(db, "日和市")
    create_staff(db, t, "shinsa", ["counter", "approver"])
    return Clerk(client, t, bearer(client, t, "shinsa"))


ADDRESS = {
    "city_code": "992011",
    "town_code": "0010001",
    "prefecture": "架空県",
    "city": "日和市",
    "town": "松町一丁目",
    "banchi": "1番地",
    "postal_code": "999-0001",
}
ADDRESS2 = {**ADDRESS, "town_code": "0010002", "town": "松町二丁目", "banchi": "8番地"}
PRIOR = {
    "address": {"prefecture": "東京都", "city": "千代田区", "town": "千代田", "banchi": "1番1号"}
}


def person(
    family: str,
    given: str,
    kana_f: str,
    kana_g: str,
    sex: str,
    birth: str,
    zokugara: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "family_name": family,
        "given_name": given,
        "family_name_kana": kana_f,
        "given_name_kana": kana_g,
        "sex": sex,
        "birth_date": birth,
        "zokugara": zokugara,
        "honseki": {
            "kind": "記載",
            "prefecture": "東京都",
            "city": "千代田区",
            "town": "千代田",
            "chiban": "1番",
            "head_family_name": family,
            "head_given_name": given,
        },
        **extra,
    }


def family_move_in(clerk: Clerk, *, move_date: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "movers": [
            {"person": person("青木", "太郎", "アオキ", "タロウ", "1", "平成15年1月7日", "世帯主")},
            {"person": person("青木", "花子", "アオキ", "ハナコ", "2", "平成17年12月30日", "妻")},
            {"person": person("青木", "一郎", "アオキ", "イチロウ", "1", "令和5年4月1日", "子")},
        ],
        "address": ADDRESS,
        "prior_address": PRIOR,
        "move_date": move_date or days_ago(3),
        "notified_date": days_ago(1),
        **extra,
    }
    return clerk.ok("/residents/move-in", body, status=201)


def iso(d: date) -> str:
    return d.isoformat()
