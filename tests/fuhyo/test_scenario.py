"""The issue's 附票 scenario over real HTTP (uvicorn): a family moves in through the resident
register with its 本籍 in this city; 戸籍の附票, connected to 庁内データ連携 like another vendor's
system, enters them; a 転居 reaches the 附票 after a sync; the person moves out and the new
住所地 sends its 附票記載事項通知 with a client_secret_jwt token; an unmatched notice waits for
staff, an outdated one is refused with nothing written; the 写し leaves 本籍・筆頭者 out unless
asked."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from kikan.fuhyo.linkage import CONSUMER
from kikan.linkage.consumer import sync as kit
from kikan.platform.ids import juminhyo_code_check_digit
from kikan.platform.uow import Database
from tests.linkage.conftest import assertion
from tests.residents.conftest import ADDRESS, ADDRESS2, PRIOR, TODAY, days_ago, person
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    office,
    server,
    settings,
)

#: the family's 本籍: in this city (the tenant is 日和市), on a street nobody lives on
HONSEKI = {
    "kind": "記載",
    "prefecture": "架空県",
    "city": "日和市",
    "town": "桜町",
    "chiban": "5番地",
    "head_family_name": "日向",
    "head_given_name": "太郎",
}
NOTICES = "/api/v1/fuhyo/notices"


def _code(body10: str) -> str:
    """A 住民票コード with its check digit (the 転入届 carries the person's code)."""
    return body10 + str(juminhyo_code_check_digit(body10))


def _connect_fuhyo(o: Office) -> None:
    """戸籍の附票 as a linkage client of the register, stored through its own link endpoint."""
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "戸籍の附票システム", "scopes": list(CONSUMER.scopes)},
        headers=o.admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    put = o.http.put(
        "/api/v1/fuhyo/linkage",
        json={
            "base_url": str(o.http.base_url).rstrip("/"),
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
        headers=o.admin,
    )
    assert put.status_code == 200, put.text


def _osaka_token(o: Office) -> dict[str, str]:
    """大阪市's 住民記録 system: a linkage client with the scope `fuhyo.notice` only."""
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "大阪市 住民記録システム", "scopes": ["fuhyo.notice"]},
        headers=o.admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    token = o.http.post(
        "/api/v1/linkage/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(created["client_id"], created["client_secret"]),
        },
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _record(o: Office) -> dict[str, Any]:
    found = o.http.get("/api/v1/fuhyo/records", params={"honseki": "桜町"}, headers=o.clerk)
    assert found.status_code == 200, found.text
    (record,) = found.json()
    got = o.http.get(f"/api/v1/fuhyo/records/{record['id']}", headers=o.clerk)
    assert got.status_code == 200, got.text
    return got.json()  # type: ignore[no-any-return]


def _notice(juminhyo_code: str, set_date: str, **honseki: str) -> dict[str, Any]:
    return {
        "sender_code": "271004",
        "sender_name": "大阪市",
        "notice_date": TODAY.isoformat(),
        "reason": "転入",
        "honseki": {k: v for k, v in {**HONSEKI, **honseki}.items() if k != "kind"},
        "person": {
            "family_name": "日向",
            "given_name": "花子",
            "birth_date": "1982-12-30",
            "sex": "2",
            "juminhyo_code": juminhyo_code,
            "address": {
                "prefecture": "大阪府",
                "city": "大阪市北区",
                "town": "梅田一丁目",
                "banchi": "1番1号",
            },
            "address_set_date": set_date,
        },
    }


def _pdf_text(o: Office, record_id: int, **options: Any) -> str:
    r = o.http.post(
        f"/api/v1/fuhyo/records/{record_id}/copy",
        json={"requester_kind": "self", **options},
        headers=o.clerk,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.headers["x-issue-number"]
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)


def test_move_in_move_within_notice_worklist_and_copy_over_http(
    office: Office,  # noqa: F811
    db: Database,
) -> None:
    o = office
    # 1. a family moves in; their 本籍 is in this city
    body = {
        "movers": [
            {
                "person": person(
                    "日向", "太郎", "ヒナタ", "タロウ", "1", "昭和55年1月7日", "世帯主",
                    honseki=HONSEKI, juminhyo_code=_code("4000000001"),
                )
            },
            {
                "person": person(
                    "日向", "花子", "ヒナタ", "ハナコ", "2", "昭和57年12月30日", "妻",
                    honseki=HONSEKI, juminhyo_code=_code("4000000002"),
                )
            },
        ],
        "address": ADDRESS,
        "prior_address": PRIOR,
        "move_date": days_ago(3),
        "notified_date": days_ago(1),
    }  # fmt: skip
    moved = o.ok("/residents/move-in", body, 201)
    taro, hanako = moved["atena_numbers"]
    household = moved["household_numbers"][0]

    # 2. 戸籍の附票 pulls the 宛名 over 庁内データ連携: one 附票, both entered
    _connect_fuhyo(o)
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert report.reactions.get("附票の作成") == 1, report
    assert report.reactions.get("附票への記載") == 2, report
    record = _record(o)
    assert record["record_type"] == "附票" and record["hittousha"] == "日向　太郎"
    assert record["honseki"] == "架空県日和市桜町5番地"
    entries = {e["atena_number"]: e for e in record["entries"]}
    assert set(entries) == {taro, hanako}
    assert entries[hanako]["address"] == "架空県日和市松町一丁目1番地"
    assert entries[hanako]["source"] == "linkage"
    code = entries[hanako]["juminhyo_code"]
    assert code == _code("4000000002")

    # 3. a 転居 in the resident register reaches the 附票 after a sync: a new version
    o.ok(
        "/residents/move-within",
        {"household_number": household, "address": ADDRESS2, "move_date": days_ago(1)},
    )
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert report.reactions.get("附票の記載の変更") == 2, report
    record = _record(o)
    now = {e["atena_number"]: e for e in record["entries"]}[hanako]
    assert now["rev"] == 2 and now["address"] == "架空県日和市松町二丁目8番地"
    assert "転居" in now["reason"]
    assert [h["rev"] for h in record["history"] if h["entry_no"] == now["entry_no"]] == [1, 2]

    # 4. 花子 moves to 大阪市: the 転出 changes nothing here; 大阪市's notice does
    o.move_out(hanako)
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert "附票の記載の変更" not in report.reactions, report
    osaka = _osaka_token(o)
    assert o.http.post(NOTICES, json=_notice(code, TODAY.isoformat())).status_code == 401
    assert (
        o.http.post(NOTICES, json=_notice(code, TODAY.isoformat()), headers=o.clerk).status_code
        == 401
    )  # a staff token is not a linkage client's
    done = o.http.post(NOTICES, json=_notice(code, TODAY.isoformat()), headers=osaka)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "applied" and done.json()["record_id"] == record["id"]
    record = _record(o)
    now = {e["entry_no"]: e for e in record["entries"]}[now["entry_no"]]
    assert now["rev"] == 3 and now["source"] == "notice"
    assert now["address"] == "大阪府大阪市北区梅田一丁目1番1号"
    assert now["notice_id"] == done.json()["notice_id"]

    # 5. a notice that matches no entry waits for staff; nothing is lost
    stray = _notice("", TODAY.isoformat(), town="北町", chiban="9番地", head_family_name="佐藤")
    pending = o.http.post(NOTICES, json=stray, headers=osaka)
    assert pending.status_code == 201 and pending.json()["status"] == "pending", pending.text
    work = o.http.get(NOTICES, headers=o.clerk)
    assert work.status_code == 200, work.text
    assert [n["id"] for n in work.json()] == [pending.json()["notice_id"]]

    # 6. a notice dated before the entry is refused and writes nothing
    old = o.http.post(NOTICES, json=_notice(code, days_ago(30)), headers=osaka)
    assert old.status_code == 409, old.text
    assert old.headers["content-type"].startswith("application/problem+json")
    assert "前" in old.json()["detail"]
    after = _record(o)
    assert after["history"] == record["history"]
    assert [n["id"] for n in o.http.get(NOTICES, headers=o.clerk).json()] == [
        pending.json()["notice_id"]
    ]
    applied = o.http.get(NOTICES, params={"status": "applied"}, headers=o.clerk).json()
    assert [n["id"] for n in applied] == [done.json()["notice_id"]]

    # 7. the 写し: 本籍・筆頭者 only when requested
    plain = _pdf_text(o, record["id"])
    assert "日向" in plain and "梅田一丁目" in plain
    assert "桜町" not in plain and "筆頭者" not in plain
    full = _pdf_text(o, record["id"], include_honseki=True)
    assert "桜町" in full and "筆頭者" in full
