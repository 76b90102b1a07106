"""Fixtures for the staff UI: a municipality with staff per role and a few residents entered
through the public API, and a logged-in browser-like TestClient per role."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from kikan.platform.crypto import KeyRing
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import PASSWORD, bearer, create_staff, create_tenant

TODAY = datetime.now(ZoneInfo("Asia/Tokyo")).date()
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')

ADDRESS = {
    "prefecture": "架空県",
    "city": "日和市",
    "town": "松町一丁目",
    "banchi": "1番地",
}
PRIOR = {
    "address": {"prefecture": "東京都", "city": "千代田区", "town": "千代田", "banchi": "1番1号"}
}


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    keyfile = tmp_path / "mynumber.keys"
    KeyRing.generate_key_file(keyfile, "k1")
    return Settings(var_dir=tmp_path, mynumber_key_file=keyfile, cookie_secure=True)


def person(
    family: str, given: str, fkana: str, gkana: str, birth: str, sex: str, zokugara: str
) -> dict[str, Any]:
    return {
        "person": {
            "family_name": family,
            "given_name": given,
            "family_name_kana": fkana,
            "given_name_kana": gkana,
            "birth_date": birth,
            "sex": sex,
            "zokugara": zokugara,
        }
    }


class Town:
    """One municipality: its code, an API header for seeding, and helpers to log in to the UI."""

    def __init__(self, client: TestClient, db: Database, code: str) -> None:
        self.client, self.db, self.code = client, db, code
        self.api = bearer(client, code, "shinsa")

    def move_in(self, *movers: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/residents/move-in",
            headers=self.api,
            json={
                "movers": list(movers),
                "address": ADDRESS,
                "prior_address": PRIOR,
                "move_date": TODAY.isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


LOGIN_CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)"')


def login_form_token(client: TestClient) -> str:
    """Open the login page as a browser does: its form carries the login CSRF token."""
    page = client.get("/ui/login")
    m = LOGIN_CSRF_FIELD.search(page.text)
    assert m, page.text
    return m.group(1)


def login(client: TestClient, tenant: str | None, login_id: str) -> str:
    """Log in through the UI form; returns the CSRF token written into the pages."""
    client.cookies.clear()
    r = client.post(
        "/ui/login",
        data={
            "tenant": tenant or "",
            "login_id": login_id,
            "password": PASSWORD,
            "next": "/ui/",
            "csrf_token": login_form_token(client),
        },
    )
    assert r.status_code == 200, r.text  # followed the 303 to the home page
    m = CSRF_META.search(r.text)
    assert m and m.group(1)
    return m.group(1)


def ui_search(
    client: TestClient, criteria: dict[str, str], headers: dict[str, str] | None = None
) -> Any:
    """The UI's 住民検索 as the browser sends it: a POST form with the CSRF token (criteria
    never go in the URL)."""
    token = client.cookies.get("kikan_csrf") or ""
    return client.post(
        "/ui/residents", data={**criteria, "csrf_token": token}, headers=headers or {}
    )


@pytest.fixture
def town(client: TestClient, db: Database) -> Town:
    code = create_tenant(db, "日和市")
    for login_id, roles in (
        ("madoguchi", ["counter"]),
        ("shinsa", ["counter", "approver"]),
        ("kanri", ["sysadmin"]),
        ("kansa", ["auditor"]),
    ):
        create_staff(db, code, login_id, roles)
    t = Town(client, db, code)
    t.move_in(
        person("山田", "太郎", "ヤマダ", "タロウ", "昭和55年4月1日", "1", "世帯主"),
        person("山田", "花子", "ヤマダ", "ハナコ", "昭和57年5月2日", "2", "妻"),
    )
    t.move_in(person("渡邊", "健", "ワタナベ", "ケン", "平成2年3月4日", "1", "世帯主"))
    return t


LoginFn = Callable[[str], str]
