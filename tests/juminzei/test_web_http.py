"""The worklist page over real HTTP (uvicorn), connected to 庁内データ連携: a number that is not on
the 賦課期日 list is looked up in 宛名管理 "as of 1月1日" — a 住登外者 is matched as 住登外課税, a
number 宛名管理 does not know is refused — exactly the path of `POST …/income/{id}/assign`. The
CSV goes through the page's multipart form, under the upload path's body limit.
"""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from kikan.juminzei import domain
from kikan.juminzei.store import IncomeRow
from kikan.platform.uow import Database
from tests.atena.conftest import landowner
from tests.conftest import PASSWORD
from tests.juminzei.test_scenario import API, YEAR, _connect, _csv
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    office,
    server,
    settings,
)
from tests.web.conftest import CSRF_META, LOGIN_CSRF_FIELD

WORKER = "1234567890123,日和工業株式会社,0,1,居所　勤,キョショ ツトム,1970-04-01,日和市寮,3000000,430000,0,0,0"


def _ui_login(base_url: str, tenant: str) -> tuple[httpx.Client, str]:
    ui = httpx.Client(base_url=base_url, timeout=30, follow_redirects=True)
    m = LOGIN_CSRF_FIELD.search(ui.get("/ui/login").text)
    assert m
    r = ui.post("/ui/login", data={"tenant": tenant, "login_id": "shinsa", "password": PASSWORD,
                                   "next": "/ui/", "csrf_token": m.group(1)})  # fmt: skip
    meta = CSRF_META.search(r.text)
    assert r.status_code == 200 and meta, r.text
    return ui, meta.group(1)


def test_the_worklist_matches_a_jutogai_person_through_atena_over_linkage(
    office: Office,  # noqa: F811
    db: Database,
) -> None:
    o = office
    _connect(o)
    r = o.http.post(f"{API}/kijitsu", json={"fiscal_year": YEAR}, headers=o.clerk)
    assert r.status_code == 200, r.text
    # a 住登外者 registered in 宛名管理 before the 賦課期日 (the same person as the report's row)
    person = landowner(family_name="居所", given_name="勤", family_name_kana="キョショ",
                       given_name_kana="ツトム", birth_date="昭和45年4月1日",
                       valid_from="2025-04-01")  # fmt: skip
    r = o.http.post("/api/v1/atena/jutogai", json={"person": person}, headers=o.clerk)
    assert r.status_code == 200, r.text
    number = r.json()["atena_number"]
    ui, csrf = _ui_login(str(o.http.base_url), o.tenant)
    try:
        r = ui.post(
            "/ui/juminzei/intake",
            data={"csrf_token": csrf, "year": str(YEAR), "kind": "kyuyo"},
            files={"file": ("k.csv", _csv(WORKER), "text/csv")},
        )
        assert r.status_code == 200, r.text
        row = re.search(r'<tr id="row-(\d+)"', ui.get(f"/ui/juminzei/worklist?year={YEAR}").text)
        assert row
        income_id = row.group(1)
        # a number 宛名管理 does not know: refused, nothing written
        r = ui.post(
            f"/ui/juminzei/income/{income_id}/assign",
            data={"csrf_token": csrf, "year": str(YEAR), "atena_number": "999999999999999"},
        )
        assert r.status_code == 422 and "宛名管理にもこの宛名番号はありません" in r.text
        # the 住登外者: matched as 住登外課税
        r = ui.post(
            f"/ui/juminzei/income/{income_id}/assign",
            data={"csrf_token": csrf, "year": str(YEAR), "atena_number": number},
        )
        assert r.status_code == 200 and "照合しました" in r.text, r.text
    finally:
        ui.close()
    with db.unit_of_work(o.tenant) as uow:
        state = uow.session.execute(
            select(IncomeRow.match_state, IncomeRow.atena_number, IncomeRow.match_note)
        ).one()
    assert tuple(state) == (domain.JUTOGAI, number, "住登外者（宛名管理で確認）")
