"""Records in the feed: 全件 pages (連携区分 1) and current rows with each 差分 (連携区分 2)."""

from __future__ import annotations

import base64
import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.platform import audit
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.residents.export import export_standard
from kikan.standard.layouts import layout
from tests.linkage.conftest import Town, make_town
from tests.linkage.test_linkage import problem, single_move_in
from tests.residents.conftest import ADDRESS2, TODAY, days_ago, family_move_in


def full(town: Town, h: dict[str, str], **params: Any) -> dict[str, Any]:
    r = town.client.get("/api/v1/linkage/full/residents", params=params, headers=h)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def full_all(town: Town, h: dict[str, str], limit: int) -> tuple[list[dict[str, str]], int]:
    """Every page of a 全件 run; also checks every page reports the first page's as_of_seq."""
    page = full(town, h, limit=limit)
    records, as_of = list(page["records"]), page["as_of_seq"]
    while page["next_cursor"]:
        assert len(page["records"]) == limit
        page = full(town, h, limit=limit, cursor=page["next_cursor"])
        assert page["as_of_seq"] == as_of
        records += page["records"]
    return records, as_of


def exported_persons(db: Database, tenant: str, out: Path) -> list[dict[str, str]]:
    """person.csv joined with the 住所 rows (住所区分 1) of address.csv, by item code."""
    export_standard(db, tenant, out, actor=audit.Actor(kind="operator", id="pytest"))
    lay = layout("住民記録")

    def read(group: str) -> list[dict[str, str]]:
        names = {i.name: i.code for i in lay.group(group).items}
        with (out / f"{group}.csv").open(encoding="utf-8", newline="") as f:
            return [{names[k]: v for k, v in row.items()} for row in csv.DictReader(f)]

    addresses = {a["atena_number"]: a for a in read("address") if a["address_kind"] == "1"}
    joined = []
    for p in read("person"):
        extra = dict(addresses[p["atena_number"]])
        del extra["address_kind"]
        joined.append({**p, **extra})
    return joined


def protect(town: Town, atena: str) -> int:
    """Start a 支援措置 for `atena`; returns the measure's id."""
    end = TODAY + timedelta(days=200)
    created = town.clerk.ok(
        f"/residents/{atena}/support-measures",
        {
            "start_date": (end - timedelta(days=364)).isoformat(),
            "end_date": end.isoformat(),
            "provisional": False,
            "perpetrators": [{"氏名": "加害 太郎", "生年月日": "昭和60年1月1日", "続柄": "元夫"}],
        },
        status=201,
    )
    return int(created["id"])


def test_full_pages_are_the_exported_person_rows(town: Town, db: Database, tmp_path: Path) -> None:
    family_move_in(town.clerk)
    single_move_in(town)
    family_move_in(town.clerk)
    h = town.token(town.register(["residents.changed"]))
    records, as_of = full_all(town, h, limit=3)
    assert as_of == 3
    assert records == exported_persons(db, town.tenant, tmp_path)
    assert len(records) == 7
    assert [r["atena_number"] for r in records] == sorted(r["atena_number"] for r in records)
    assert all(r["my_number"] == "" for r in records)
    assert {r["family_name"] for r in records} == {"青木", "佐藤"}
    # a page that ends exactly at the last record says so
    assert full(town, h, limit=7)["next_cursor"] is None


def test_full_then_changes_converges_while_the_register_moves(town: Town) -> None:
    family = family_move_in(town.clerk)
    h = town.token(town.register(["residents.changed"]))
    first = full(town, h, limit=2)
    as_of = first["as_of_seq"]
    # while the consumer pages: a new family moves in and the first family moves house
    newcomer = single_move_in(town)
    town.clerk.ok(
        "/residents/move-within",
        {
            "household_number": family["household_numbers"][0],
            "address": ADDRESS2,
            "move_date": days_ago(0),
        },
    )
    replica = {r["atena_number"]: r for r in first["records"]}
    page = first
    while page["next_cursor"]:
        page = full(town, h, limit=2, cursor=page["next_cursor"])
        replica.update({r["atena_number"]: r for r in page["records"]})
    diff = town.pull(h, after=as_of)
    assert [c["seq"] for c in diff["changes"]] == [2, 3]
    for change in diff["changes"]:
        assert [r["atena_number"] for r in change["records"]] == change["payload"]["atena_numbers"]
        replica.update({r["atena_number"]: r for r in change["records"]})
    # the replica now equals a fresh 全件
    fresh, _ = full_all(town, h, limit=100)
    assert replica == {r["atena_number"]: r for r in fresh}
    assert set(newcomer) <= set(replica)
    assert all(replica[a]["town"] == "松町二丁目" for a in family["atena_numbers"])


def test_changes_carry_current_records(town: Town) -> None:
    family = family_move_in(town.clerk)["atena_numbers"]
    h = town.token(town.register(["residents.changed"]))
    change = town.pull(h)["changes"][0]
    assert [r["atena_number"] for r in change["records"]] == family
    assert change["records"][0]["family_name"] == "青木"
    assert all(r["my_number"] == "" and r["status"] == "10" for r in change["records"])


def test_protected_persons_rows_reach_only_entitled_clients(town: Town, db: Database) -> None:
    family = family_move_in(town.clerk)
    head, wife, child = family["atena_numbers"]
    protect(town, wife)
    # after the measure the family moves: her new address must not reach a plain client
    town.clerk.ok(
        "/residents/move-within",
        {
            "household_number": family["household_numbers"][0],
            "address": ADDRESS2,
            "move_date": days_ago(0),
        },
    )
    plain_reg = town.register(["residents.changed"])
    plain = town.token(plain_reg)
    entitled = town.token(town.register(["residents.changed", "support_measure"], name="福祉"))

    # 全件: limit 1 makes the protected person fall between pages
    plain_rows, _ = full_all(town, plain, limit=1)
    assert [r["atena_number"] for r in plain_rows] == sorted([head, child])
    assert all("support_measure" not in r for r in plain_rows)  # no flag for them at all
    entitled_rows, _ = full_all(town, entitled, limit=1)
    assert {r["atena_number"]: r["support_measure"] for r in entitled_rows} == {
        head: "0",
        wife: "1",
        child: "0",
    }

    # 差分: the 転入 (before the measure) still names her as it was, but no row of hers is sent
    plain_changes = town.pull(plain)["changes"]
    records = [r for c in plain_changes for r in c["records"]]
    assert wife not in {r["atena_number"] for r in records}
    assert "松町二丁目" in {r["town"] for r in records}  # the others' new address did arrive
    assert all(wife not in (c["payload"] or {}).get("atena_numbers", []) for c in plain_changes[1:])
    assert all("support_measure" not in r for r in records)
    entitled_records = [r for c in town.pull(entitled)["changes"] for r in c["records"]]
    assert any(r["atena_number"] == wife and r["town"] == "松町二丁目" for r in entitled_records)
    # every entitled record carries the flag as at pull time, older events' records included
    assert {(r["atena_number"], r["support_measure"]) for r in entitled_records} == {
        (head, "0"),
        (wife, "1"),
        (child, "0"),
    }

    # every pull audited with exactly the subjects delivered
    with db.unit_of_work(town.tenant) as uow:
        pulls = uow.session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.actor == plain_reg["client_id"])
            .where(AuditRecordRow.action == "inquiry")
            .order_by(AuditRecordRow.seq)
        ).all()
        full_pulls = [p for p in pulls if "全件" in p.function]
        assert len(full_pulls) == 2
        assert sorted(s for p in full_pulls for s in p.subjects) == sorted([head, child])
        diff_pulls = [p for p in pulls if "差分" in p.function]
        named = {a for c in plain_changes if c["payload"] for a in c["payload"]["atena_numbers"]}
        assert len(diff_pulls) == 1 and set(diff_pulls[0].subjects) == named


def test_flag_follows_a_measure_that_starts_and_ends_after_the_full_load(
    town: Town, db: Database
) -> None:
    """An entitled replica loaded by 全件 learns of a later measure and of its end from the
    flag on the 差分 records alone (the payload list says it too, but only as at the event)."""
    head, wife, _child = family_move_in(town.clerk)["atena_numbers"]
    registered = town.register(["residents.changed", "support_measure"], name="印鑑登録")
    h = town.token(registered)
    rows, as_of = full_all(town, h, limit=100)
    replica = {r["atena_number"]: r for r in rows}
    assert {r["support_measure"] for r in rows} == {"0"}
    measure = protect(town, wife)
    started = town.pull(h, after=as_of)
    [event] = started["changes"]
    assert [(r["atena_number"], r["support_measure"]) for r in event["records"]] == [(wife, "1")]
    replica.update({r["atena_number"]: r for r in event["records"]})
    ended = town.clerk.ok(f"/residents/{wife}/support-measures/{measure}/end", {"reason": "申出"})
    assert ended["id"] == measure
    [stop] = town.pull(h, after=started["next_cursor"])["changes"]
    assert stop["payload"]["support_measure"] == []
    assert [(r["atena_number"], r["support_measure"]) for r in stop["records"]] == [(wife, "0")]
    replica.update({r["atena_number"]: r for r in stop["records"]})
    assert replica == {r["atena_number"]: r for r in full_all(town, h, limit=100)[0]}
    assert replica[head]["support_measure"] == "0"
    # the audit record of each pull counts the protected rows it delivered
    with db.unit_of_work(town.tenant) as uow:
        pulls = uow.session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.actor == registered["client_id"])
            .where(AuditRecordRow.action == "inquiry")
            .order_by(AuditRecordRow.seq)
        ).all()
        assert [p.detail["protected_records"] for p in pulls] == [0, 1, 0, 0]


def test_cursor_never_names_a_protected_person(town: Town) -> None:
    _head, wife, _child = family_move_in(town.clerk)["atena_numbers"]
    protect(town, wife)
    h = town.token(town.register(["residents.changed"]))
    page = full(town, h, limit=1)
    body = page["next_cursor"].split(".")[0]
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert wife not in decoded


def test_bad_cursors_are_refused_without_data(client: TestClient, db: Database) -> None:
    a = make_town(client, db, "甲市")
    b = make_town(client, db, "乙市")
    for town in (a, b):
        family_move_in(town.clerk)
    ha = a.token(a.register(["residents.changed"]))
    hb = b.token(b.register(["residents.changed"]))
    ha2 = a.token(a.register(["residents.changed"], name="別システム"))
    cursor_a = full(a, ha, limit=1)["next_cursor"]
    body, mac = cursor_a.split(".")
    tampered = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(b'"s":1', b'"s":9')
    )
    for headers, cursor in [
        (hb, cursor_a),  # another tenant's cursor
        (ha2, cursor_a),  # another client's cursor
        (ha, "not-a-cursor"),
        (ha, "e30.AAAA"),  # made up: {} with a wrong MAC
        (ha, tampered.decode().rstrip("=") + "." + mac),
    ]:
        r = a.client.get(
            "/api/v1/linkage/full/residents", params={"cursor": cursor}, headers=headers
        )
        body_json = problem(r, 400)
        assert body_json["type"] == "urn:kikan:problem:invalid-cursor"
        assert "records" not in body_json
    problem(a.client.get("/api/v1/linkage/full/residents", params={"limit": 0}, headers=ha), 422)
    problem(a.client.get("/api/v1/linkage/full/residents"), 401)
