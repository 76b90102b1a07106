"""The issue's scenario over real HTTP (uvicorn): a person moves in through the resident register
(in the past), 選挙人名簿管理 — connected to 庁内データ連携 like another vendor's system —
registers the 定時登録 of a base date more than 3 months later from the register *as of* that
day and lists them; the person moves out: the sync marks them (表示), and the 抹消処理 strikes
them once 4 months have passed. The fixed roll never changes."""

from __future__ import annotations

from datetime import date, timedelta

from kikan.electoral_roll import domain
from kikan.electoral_roll.linkage import CONSUMER
from kikan.linkage.consumer import sync as kit
from kikan.platform.uow import Database
from tests.residents.conftest import ADDRESS, PRIOR, TODAY, person
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    office,
    server,
    settings,
)

PROBLEM = "application/problem+json"
API = "/api/v1/electoral_roll"


def _latest_base_date(today: date) -> date:
    rules = domain.rule_book().on(today)
    for back in range(0, 200):
        day = today - timedelta(days=back)
        if domain.is_regular_base_date(day, rules):
            return day
    raise AssertionError("no base date")


def _connect(o: Office) -> None:
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "選挙人名簿管理システム", "scopes": list(CONSUMER.scopes)},
        headers=o.admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    put = o.http.put(
        f"{API}/linkage",
        json={
            "base_url": str(o.http.base_url).rstrip("/"),
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
        headers=o.admin,
    )
    assert put.status_code == 200, put.text


def test_move_in_regular_registration_move_out_mark_and_strike(
    office: Office,  # noqa: F811
    db: Database,
) -> None:
    o = office
    base = _latest_base_date(TODAY)
    moved_in = base - timedelta(days=200)
    body = {
        "movers": [{"person": person("選挙", "一郎", "センキョ", "イチロウ", "1", "昭和55年1月7日",
                                     "世帯主")}],
        "address": ADDRESS,
        "prior_address": PRIOR,
        "move_date": moved_in.isoformat(),
        "notified_date": (moved_in + timedelta(days=1)).isoformat(),
    }  # fmt: skip
    (voter,) = o.ok("/residents/move-in", body, 201)["atena_numbers"]
    _connect(o)

    # 定時登録 of the base date: computed from the register as it stood that day
    r = o.http.post(f"{API}/rolls", json={"base_date": base.isoformat()}, headers=o.clerk)
    assert r.status_code == 201, r.text
    roll = r.json()
    assert (roll["kind"], roll["registered"], roll["marked"]) == ("定時登録", 1, 0)
    csv_text = o.http.get(f"{API}/rolls/{roll['id']}/extract.csv", headers=o.clerk)
    assert csv_text.status_code == 200 and voter in csv_text.content.decode("utf-8-sig")
    # a second registration of the same day, a base date before it: Japanese problems
    again = o.http.post(f"{API}/rolls", json={"base_date": base.isoformat()}, headers=o.clerk)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert "既に確定" in again.json()["detail"]
    unknown = o.http.post(f"{API}/rolls", json={"election_id": 99}, headers=o.clerk)
    assert unknown.status_code == 404 and "選挙" in unknown.json()["detail"]
    gap = o.http.put(
        f"{API}/districts",
        json={"rows": [{"district": "01", "town": "本町", "banchi_from": 2, "banchi_to": 9}]},
        headers=o.clerk,
    )
    assert gap.status_code == 422 and "本町 1〜1番地" in gap.json()["detail"]
    assert o.http.get(f"{API}/districts", headers=o.clerk).json() == []

    # the first sync (全件) changes nothing on the register
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert not report.reactions, report
    entry = o.http.get(f"{API}/register/{voter}", headers=o.clerk).json()
    assert entry["state"] == "登録" and [h["event"] for h in entry["history"]] == ["登録"]

    # 転出: the sync marks the entry with the move-out day
    o.move_out(voter)
    report = kit.sync_tenant(db, CONSUMER, o.tenant)
    assert report.reactions.get("表示"), report
    entry = o.http.get(f"{API}/register/{voter}", headers=o.clerk).json()
    assert entry["state"] == "表示" and entry["moved_out"] == TODAY.isoformat()
    strike_day = date.fromisoformat(entry["strike_on"])
    assert strike_day == domain.strike_on(TODAY, domain.rule_book().on(TODAY))

    # 4 months later: the 抹消処理 strikes them (not a day before)
    early = {"as_of": (strike_day - timedelta(days=1)).isoformat()}
    assert o.http.post(f"{API}/register/strike-due", json=early, headers=o.clerk).json() == {
        "struck": []
    }
    due = {"as_of": strike_day.isoformat()}
    done = o.http.post(f"{API}/register/strike-due", json=due, headers=o.clerk)
    assert done.status_code == 200 and done.json() == {"struck": [voter]}
    entry = o.http.get(f"{API}/register/{voter}", headers=o.clerk).json()
    assert entry["state"] == "抹消" and entry["strike_reason"] == "転出後4か月経過"
    assert [h["event"] for h in entry["history"]][-2:] == ["表示", "抹消"]

    # the fixed roll is a snapshot: unchanged by the 異動
    fixed = o.http.get(f"{API}/rolls/{roll['id']}", headers=o.clerk).json()
    assert (fixed["registered"], fixed["marked"], fixed["digest"]) == (1, 0, roll["digest"])
    xlsx = o.http.get(f"{API}/rolls/{roll['id']}/counts", params={"format": "xlsx"},
                      headers=o.clerk)  # fmt: skip
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
