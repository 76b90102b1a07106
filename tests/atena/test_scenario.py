"""The issue's scenario over real HTTP (uvicorn): a tax system numbers a non-resident landowner
through the 付番 API; later the same person moves in through the resident register; 宛名管理,
connected to 庁内データ連携 like another vendor's system, offers the pair; staff link them; the
tax side then sees one person. Then the person moves out again and keeps the resident's number
as a 住登外者 (住民宛名番号引継ぎ)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kikan.atena.linkage import CONSUMER, use_keyring
from kikan.linkage.consumer import LinkageClient
from kikan.linkage.consumer import sync as kit
from kikan.linkage.consumer.atena import AtenaInputRejected, AtenaQuery
from kikan.platform.crypto import KeyRing
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.atena.conftest import my_number
from tests.linkage.conftest import assertion
from tests.residents.conftest import ADDRESS, PRIOR, days_ago, person
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    office,
    server,
    settings,
)

LANDOWNER = {
    "family_name": "渡邉",
    "given_name": "健",
    "family_name_kana": "ワタナベ",
    "given_name_kana": "ケン",
    "sex": "1",
    "birth_date": "昭和50年5月5日",
    "postal_code": "6008001",
    "prefecture": "京都府",
    "city": "京都市下京区",
    "town": "四条通",
    "banchi": "１番地",
    "gyomu_id": "012",
}


@pytest.fixture
def tax_client(office: Office) -> dict[str, Any]:  # noqa: F811
    """The 固定資産税 system as a linkage client: 付番 for 012 and the query interface."""
    r = office.http.post(
        "/api/v1/linkage/clients",
        json={"name": "固定資産税システム", "scopes": ["atena.fuban.012", "atena.query"]},
        headers=office.admin,
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def tax(office: Office, tax_client: dict[str, Any]) -> dict[str, str]:  # noqa: F811
    return _token(office.http, tax_client)


def _token(http: httpx.Client, created: dict[str, Any]) -> dict[str, str]:
    signed = assertion(created["client_id"], created["client_secret"])
    r = http.post(
        "/api/v1/linkage/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        },
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _connect_atena(o: Office) -> None:
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "宛名管理システム", "scopes": list(CONSUMER.scopes)},
        headers=o.admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    put = o.http.put(
        "/api/v1/atena/linkage",
        json={
            "base_url": str(o.http.base_url).rstrip("/"),
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
        headers=o.admin,
    )
    assert put.status_code == 200, put.text


@pytest.fixture
def keys(settings: Settings) -> Iterator[None]:  # noqa: F811
    """The sync's hook encrypts delivered 個人番号 with the server's key."""
    use_keyring(KeyRing.from_config(None, settings.mynumber_key_file, None))
    yield
    use_keyring(None)


def test_landowner_moves_in_staff_link_tax_sees_one_person(
    office: Office,  # noqa: F811
    tax: dict[str, str],
    tax_client: dict[str, Any],
    db: Database,
    keys: None,
) -> None:
    o = office
    fuban = "/api/v1/atena/jutogaishaatenabangofuban"
    # 1. the tax system numbers the landowner (no one like them is known yet)
    r = o.http.post(fuban, json={"shori_kubun": "0", "person": LANDOWNER}, headers=tax)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "numbered"
    landowner = r.json()["atena_number"]

    # bad input: every fault in the spec's shape, nothing numbered
    bad = o.http.post(
        fuban,
        json={"shori_kubun": "0", "person": {**LANDOWNER, "given_name": "ｹﾝ", "postal_code": "1"}},
        headers=tax,
    )
    assert bad.status_code == 400
    codes = {e["code"] for e in bad.json()["errors"]}
    assert codes == {"E0002", "E0003"}
    assert all(e["message"] for e in bad.json()["errors"])
    # no token: 401; a 業務 the client was not given: 403
    assert o.http.post(fuban, json={"shori_kubun": "0", "person": LANDOWNER}).status_code == 401
    other = {**LANDOWNER, "gyomu_id": "010"}
    assert o.http.post(fuban, json={"shori_kubun": "0", "person": other},
                       headers=tax).status_code == 403  # fmt: skip

    # 2. two years later the same person moves in (a new resident 宛名番号)
    mover = {
        "person": person("渡邉", "健", "ワタナベ", "ケン", "1", "昭和50年5月5日", "世帯主"),
        "my_number": my_number("98320567321"),
    }
    body = {"movers": [mover], "address": ADDRESS, "prior_address": PRIOR,
            "move_date": days_ago(3), "notified_date": days_ago(1)}  # fmt: skip
    (resident,) = o.ok("/residents/move-in", body, 201)["atena_numbers"]
    assert resident != landowner

    # 3. 宛名管理 pulls the 宛名 over 庁内データ連携 and offers the pair
    _connect_atena(o)
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert report.reactions.get("名寄せ候補") == 1, report
    work = o.http.get("/api/v1/atena/nayose/candidates", headers=o.clerk)
    assert work.status_code == 200, work.text
    (pair,) = work.json()
    assert {pair["a"]["atena_number"], pair["b"]["atena_number"]} == {landowner, resident}
    assert {pair["a"]["kind"], pair["b"]["kind"]} == {"1", "2"}
    agreements = {e["attribute"]: e["agreement"] for e in pair["evidence"]}
    assert agreements["name"] == "same" and agreements["birth"] == "same"

    # 4. staff link them, choosing the resident as 代表宛名; a second decision gets 409
    body = {"version": pair["version"], "representative": resident, "note": "同一人と確認"}
    url = f"/api/v1/atena/nayose/candidates/{pair['id']}/link"
    done = o.http.post(url, json=body, headers=o.clerk)
    assert done.status_code == 200, done.text
    again = o.http.post(url, json=body, headers=o.clerk)
    assert again.status_code == 409 and again.headers["content-type"].startswith(
        "application/problem+json"
    )

    # 5. the tax side: its landowner's number now answers for the resident too
    seen = o.http.get(f"/api/v1/atena/client/persons/{landowner}", headers=tax)
    assert seen.status_code == 200, seen.text
    assert seen.json()["nayose_target"] == resident and seen.json()["members"] == [resident]
    via = o.http.get(f"/api/v1/atena/client/persons/{resident}", headers=tax).json()
    assert via["kind"] == "1" and via["representative"] and via["members"] == [landowner]
    assert via["togo_number"]  # the 個人番号 came with the feed: 統合宛名 issued

    # … and through the consumer kit, as another vendor's tax system would call it
    base = str(o.http.base_url).rstrip("/")
    with LinkageClient(base, tax_client["client_id"], tax_client["client_secret"]) as api:
        atena = AtenaQuery(api)
        assert atena.who(landowner).person_key == resident
        found = atena.search({"name": "渡邉　健", "birth_date": "昭和50年5月5日", "sex": "1"})
        assert {c.atena_number for c in found} == {landowner, resident}
        with pytest.raises(AtenaInputRejected) as rejected:
            atena.number({**LANDOWNER, "family_name": "ﾜﾀﾅﾍﾞ"})
        assert "E0002" in {e["code"] for e in rejected.value.errors}
        offered = atena.number(LANDOWNER)  # known now: candidates, no number
        assert offered.result == "candidates" and offered.search_id
        chosen = atena.number({}, shori_kubun="2", atena_number=resident,
                              search_id=offered.search_id)  # fmt: skip
        assert (chosen.result, chosen.atena_number) == ("chosen", resident)

    # 6. the person moves out: the resident's number goes on as a 住登外者
    o.move_out(resident)
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert report.reactions.get("住民宛名番号引継ぎ") == 1, report
    after = o.http.get(f"/api/v1/atena/client/persons/{resident}", headers=tax).json()
    assert after["kind"] == "2" and after["status"] == "active"
    assert after["nayose_target"] == resident  # 名寄せ survives the move
