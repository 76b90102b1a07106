"""世帯分離・世帯合併・世帯変更 told through the HTTP API, on SQLite and PostgreSQL.

Every refused request is checked for a Japanese problem naming the item, and for leaving the
register exactly as it was (no history row, no event): the use case runs in one transaction.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents.store import HistoryRow, HouseholdRow
from tests.residents.conftest import (
    ADDRESS,
    ADDRESS2,
    PRIOR,
    TODAY,
    Clerk,
    days_ago,
    family_move_in,
    person,
)


def _written(db: Database, tenant: str) -> tuple[int, int]:
    """(history rows, outbox events) of the tenant: both must stay put when a change is refused."""
    with db.unit_of_work(tenant) as uow:
        history = uow.session.scalar(select(func.count()).select_from(HistoryRow)) or 0
        events = uow.session.scalar(select(func.count()).select_from(OutboxEventRow)) or 0
        return history, events


def _refused(clerk: Clerk, path: str, body: dict[str, Any], status: int = 422) -> dict[str, Any]:
    r = clerk.post(path, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()  # type: ignore[no-any-return]


def _members(clerk: Clerk, household: str) -> dict[str, str]:
    """宛名番号 → 続柄 of the household's current residents (read through the API)."""
    found = clerk.search(address="松町", page_size=200)["results"]
    return {r["atena_number"]: r["zokugara"] for r in found if r["household_number"] == household}


def _single(clerk: Clerk, name: tuple[str, str, str, str], sex: str, birth: str) -> dict[str, Any]:
    """One person moving in alone to ADDRESS as the head of a new household."""
    return clerk.ok(
        "/residents/move-in",
        {
            "movers": [{"person": person(*name, sex, birth, "世帯主")}],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(20),
        },
        status=201,
    )


# ---------------------------------------------------------------- 世帯分離


def test_son_and_mother_split_off_into_a_new_household(clerk: Clerk, db: Database) -> None:
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "青木", "太郎", "アオキ", "タロウ", "1", "昭和45年1月7日", "世帯主"
                    )
                },
                {"person": person("青木", "花子", "アオキ", "ハナコ", "2", "昭和47年3月3日", "妻")},
                {
                    "person": person(
                        "青木", "一郎", "アオキ", "イチロウ", "1", "平成10年4月1日", "子"
                    )
                },
                {
                    "person": person(
                        "青木", "ウメ", "アオキ", "ウメ", "2", "昭和20年5月5日", "父の母"
                    )
                },
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(60),
        },
        status=201,
    )
    head, wife, son, grandma = r["atena_numbers"]
    old = r["household_numbers"][0]
    split = clerk.ok(
        "/households/split",
        {
            "household_number": old,
            "zokugara": {son: "世帯主", grandma: "父の母"},
            "change_date": days_ago(2),
            "notified_date": days_ago(1),
        },
    )
    assert split["reason"] == "世帯分離"
    assert split["atena_numbers"] == [son, grandma]
    assert split["warnings"] == []
    new = next(h for h in split["household_numbers"] if h != old)
    assert _members(clerk, new) == {son: "世帯主", grandma: "父の母"}
    assert _members(clerk, old) == {head: "世帯主", wife: "妻"}
    moved = clerk.resident(son)["snapshot"]
    assert moved["address"] == clerk.resident(head)["snapshot"]["address"]  # same address
    assert moved["household_number"] == new
    entry = clerk.history(son)[-1]
    assert (entry["history_no"], entry["reason"]) == (2, "世帯分離")
    assert (entry["valid_from"], entry["notified_date"]) == (days_ago(2), days_ago(1))
    assert [h["reason"] for h in clerk.history(head)] == ["国内転入"]  # untouched
    with db.unit_of_work(clerk.tenant) as uow:
        rows = {h.household_number: h for h in uow.session.scalars(select(HouseholdRow)).all()}
        assert rows[new].head_atena == son and rows[new].active
        assert rows[old].head_atena == head and rows[old].active
        event = uow.session.scalars(
            select(OutboxEventRow).order_by(OutboxEventRow.seq.desc())
        ).first()
        assert event is not None and event.payload["reason"] == "世帯分離"
        assert sorted(event.payload["household_numbers"]) == sorted([old, new])
        functions = uow.session.scalars(select(AuditRecordRow.function)).all()
        assert "住民記録：世帯分離" in functions


def test_head_splits_off_and_the_one_left_becomes_head_ex_officio(clerk: Clerk) -> None:
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("佐藤", "健", "サトウ", "ケン", "1", "昭和50年5月5日", "世帯主")},
                {"person": person("佐藤", "葵", "サトウ", "アオイ", "2", "昭和52年7月7日", "妻")},
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(40),
        },
        status=201,
    )
    head, wife = r["atena_numbers"]
    old = r["household_numbers"][0]
    split = clerk.ok(
        "/households/split",
        {"household_number": old, "zokugara": {head: "世帯主"}, "change_date": days_ago(1)},
    )
    assert any("職権で世帯主" in w for w in split["warnings"])
    assert set(split["versions"]) == {head, wife}  # the promotion is part of the change
    assert _members(clerk, old) == {wife: "世帯主"}
    assert [h["reason"] for h in clerk.history(wife)] == ["国内転入", "世帯主変更"]


def test_head_splits_off_leaving_two_members_without_a_head(clerk: Clerk) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = r["atena_numbers"]
    old = r["household_numbers"][0]
    split = clerk.ok(
        "/households/split",
        {"household_number": old, "zokugara": {head: "世帯主"}, "change_date": TODAY.isoformat()},
    )
    warnings = [w for w in split["warnings"] if "世帯主不在" in w]
    assert len(warnings) == 1 and "世帯主変更" in warnings[0]  # said once, not twice
    assert _members(clerk, old) == {wife: "妻", child: "子"}
    clerk.ok(
        "/households/head-change",
        {
            "household_number": old,
            "zokugara": {wife: "世帯主", child: "子"},
            "change_date": TODAY.isoformat(),
        },
    )
    assert _members(clerk, old) == {wife: "世帯主", child: "子"}


def test_bad_splits_are_refused_in_japanese_and_write_nothing(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = r["atena_numbers"]
    old = r["household_numbers"][0]
    before = _written(db, clerk.tenant)
    base = {"household_number": old, "change_date": days_ago(1)}

    two = _refused(
        clerk, "/households/split", {**base, "zokugara": {wife: "世帯主", child: "世帯主"}}
    )
    assert two["item"] == "続柄" and "世帯主を二人以上" in two["detail"]
    none = _refused(clerk, "/households/split", {**base, "zokugara": {wife: "妻", child: "子"}})
    assert none["item"] == "続柄" and "世帯主を設定" in none["detail"]
    everyone = _refused(
        clerk,
        "/households/split",
        {**base, "zokugara": {head: "世帯主", wife: "妻", child: "子"}},
    )
    assert everyone["item"] == "異動者" and "全員" in everyone["detail"]
    stranger = _refused(
        clerk, "/households/split", {**base, "zokugara": {"999999999999999": "世帯主"}}
    )
    assert stranger["item"] == "宛名番号" and "世帯員ではありません" in stranger["detail"]
    term = _refused(clerk, "/households/split", {**base, "zokugara": {child: "孫"}})
    assert term["item"] == "続柄"
    future = _refused(
        clerk,
        "/households/split",
        {**base, "zokugara": {child: "世帯主"}, "change_date": "2999-01-01"},
    )
    assert future["item"] == "異動日"
    stale = _refused(
        clerk,
        "/households/split",
        {**base, "zokugara": {child: "世帯主"}, "expected_household_version": 99},
        status=409,
    )
    assert stale["type"] == "urn:kikan:problem:stale-version" and "世帯番号" in stale["detail"]
    assert _written(db, clerk.tenant) == before
    assert _members(clerk, old) == {head: "世帯主", wife: "妻", child: "子"}


# ---------------------------------------------------------------- 世帯合併


def test_mother_household_merges_into_the_sons_household(clerk: Clerk, db: Database) -> None:
    family = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = family["atena_numbers"]
    a = family["household_numbers"][0]
    mother_r = _single(clerk, ("青木", "トメ", "アオキ", "トメ"), "2", "昭和22年2月2日")
    mother = mother_r["atena_numbers"][0]
    b = mother_r["household_numbers"][0]
    with db.unit_of_work(clerk.tenant) as uow:
        versions = {
            h.household_number: h.version for h in uow.session.scalars(select(HouseholdRow))
        }
    merged = clerk.ok(
        "/households/merge",
        {
            "household_number": a,
            "merging_household_number": b,
            "zokugara": {mother: "母"},
            "change_date": days_ago(1),
            "expected_household_versions": {a: versions[a], b: versions[b]},
        },
    )
    assert merged["reason"] == "世帯合併" and merged["atena_numbers"] == [mother]
    assert sorted(merged["household_numbers"]) == sorted([a, b])
    assert _members(clerk, a) == {head: "世帯主", wife: "妻", child: "子", mother: "母"}
    assert _members(clerk, b) == {}
    assert [h["reason"] for h in clerk.history(mother)] == ["国内転入", "世帯合併"]
    with db.unit_of_work(clerk.tenant) as uow:
        row_b = uow.session.scalars(
            select(HouseholdRow).where(HouseholdRow.household_number == b)
        ).one()
        assert row_b.active is False and row_b.head_atena is None
    # the merged household is gone: nobody can be born into it any more
    gone = clerk.post(
        "/residents/birth",
        {
            "household_number": b,
            "person": person("青木", "新", "アオキ", "アラタ", "1", days_ago(1), "子"),
        },
    )
    assert gone.status_code == 404 and "世帯番号" in gone.json()["detail"]


def test_bad_merges_are_refused_in_japanese_and_write_nothing(clerk: Clerk, db: Database) -> None:
    family = family_move_in(clerk, move_date=days_ago(30))
    a = family["household_numbers"][0]
    mother_r = _single(clerk, ("青木", "トメ", "アオキ", "トメ"), "2", "昭和22年2月2日")
    mother, b = mother_r["atena_numbers"][0], mother_r["household_numbers"][0]
    elsewhere = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("木村", "拓", "キムラ", "タク", "1", "昭和60年6月6日", "世帯主")},
                {"person": person("木村", "静", "キムラ", "シズカ", "2", "昭和61年6月6日", "妻")},
            ],
            "address": ADDRESS2,
            "prior_address": PRIOR,
            "move_date": days_ago(20),
        },
        status=201,
    )
    c = elsewhere["household_numbers"][0]
    other_room = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("森", "光", "モリ", "ヒカル", "1", "平成2年2月2日", "世帯主")}
            ],
            "address": {**ADDRESS, "katagaki": "日和荘201号"},
            "prior_address": PRIOR,
            "move_date": days_ago(20),
        },
        status=201,
    )
    room, d = other_room["atena_numbers"][0], other_room["household_numbers"][0]
    before = _written(db, clerk.tenant)
    base = {"household_number": a, "change_date": days_ago(1)}

    apart = _refused(
        clerk,
        "/households/merge",
        {
            **base,
            "merging_household_number": c,
            "zokugara": dict.fromkeys(elsewhere["atena_numbers"], "同居人"),
        },
    )
    assert apart["item"] == "住所" and "同一住所" in apart["detail"]
    katagaki = _refused(
        clerk,
        "/households/merge",
        {**base, "merging_household_number": d, "zokugara": {room: "同居人"}},
    )
    assert katagaki["item"] == "方書" and "方書の修正" in katagaki["detail"]
    two_heads = _refused(
        clerk,
        "/households/merge",
        {**base, "merging_household_number": b, "zokugara": {mother: "世帯主"}},
    )
    assert two_heads["item"] == "続柄" and "世帯主を二人以上" in two_heads["detail"]
    partial = _refused(
        clerk,
        "/households/merge",
        {
            **base,
            "household_number": b,
            "merging_household_number": a,
            "zokugara": {family["atena_numbers"][1]: "子の妻"},
        },
    )
    assert partial["item"] == "続柄" and "全員" in partial["detail"]
    itself = _refused(
        clerk,
        "/households/merge",
        {**base, "merging_household_number": a, "zokugara": {mother: "母"}},
    )
    assert itself["item"] == "世帯番号"
    stale = _refused(
        clerk,
        "/households/merge",
        {
            **base,
            "merging_household_number": b,
            "zokugara": {mother: "母"},
            "expected_household_versions": {b: 99},
        },
        status=409,
    )
    assert stale["type"] == "urn:kikan:problem:stale-version" and b in stale["detail"]
    assert _written(db, clerk.tenant) == before
    assert _members(clerk, b) == {mother: "世帯主"}


# ---------------------------------------------------------------- 世帯変更


def test_grandchild_moves_into_the_grandmothers_household(clerk: Clerk) -> None:
    family = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = family["atena_numbers"]
    a = family["household_numbers"][0]
    grandma_r = _single(clerk, ("青木", "トメ", "アオキ", "トメ"), "2", "昭和22年2月2日")
    grandma, b = grandma_r["atena_numbers"][0], grandma_r["household_numbers"][0]
    changed = clerk.ok(
        "/households/change",
        {
            "household_number": a,
            "target_household_number": b,
            "zokugara": {child: "子の子"},
            "change_date": days_ago(3),
            "notified_date": days_ago(2),
        },
    )
    assert changed["reason"] == "世帯変更" and changed["atena_numbers"] == [child]
    assert changed["warnings"] == []
    assert _members(clerk, a) == {head: "世帯主", wife: "妻"}
    assert _members(clerk, b) == {grandma: "世帯主", child: "子の子"}
    last = clerk.history(child)[-1]
    assert (last["reason"], last["valid_from"], last["notified_date"]) == (
        "世帯変更",
        days_ago(3),
        days_ago(2),
    )
    assert last["snapshot"]["household_number"] == b


@pytest.mark.parametrize("remaining", [1, 2])
def test_head_joins_another_household_and_spec_4_0_4_applies(clerk: Clerk, remaining: int) -> None:
    family = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = family["atena_numbers"]
    a = family["household_numbers"][0]
    if remaining == 1:
        clerk.ok(
            "/households/split",
            {"household_number": a, "zokugara": {child: "世帯主"}, "change_date": days_ago(5)},
        )
    grandma_r = _single(clerk, ("青木", "トメ", "アオキ", "トメ"), "2", "昭和22年2月2日")
    b = grandma_r["household_numbers"][0]
    changed = clerk.ok(
        "/households/change",
        {
            "household_number": a,
            "target_household_number": b,
            "zokugara": {head: "子"},
            "change_date": days_ago(1),
        },
    )
    if remaining == 1:
        assert any("職権で世帯主" in w for w in changed["warnings"])
        assert _members(clerk, a) == {wife: "世帯主"}
    else:
        assert any("世帯主不在" in w for w in changed["warnings"])
        assert _members(clerk, a) == {wife: "妻", child: "子"}


def test_bad_household_changes_are_refused_and_write_nothing(clerk: Clerk, db: Database) -> None:
    family = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = family["atena_numbers"]
    a = family["household_numbers"][0]
    grandma_r = _single(clerk, ("青木", "トメ", "アオキ", "トメ"), "2", "昭和22年2月2日")
    b = grandma_r["household_numbers"][0]
    far = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("木村", "拓", "キムラ", "タク", "1", "昭和60年6月6日", "世帯主")}
            ],
            "address": ADDRESS2,
            "prior_address": PRIOR,
            "move_date": days_ago(20),
        },
        status=201,
    )
    c = far["household_numbers"][0]
    before = _written(db, clerk.tenant)
    base = {"household_number": a, "target_household_number": b, "change_date": days_ago(1)}

    everyone = _refused(
        clerk,
        "/households/change",
        {**base, "zokugara": {head: "子", wife: "子の妻", child: "子の子"}},
    )
    assert everyone["item"] == "異動者" and "世帯合併" in everyone["detail"]
    apart = _refused(
        clerk,
        "/households/change",
        {**base, "target_household_number": c, "zokugara": {child: "同居人"}},
    )
    assert apart["item"] == "住所"
    two_heads = _refused(clerk, "/households/change", {**base, "zokugara": {child: "世帯主"}})
    assert two_heads["item"] == "続柄" and "世帯主を二人以上" in two_heads["detail"]
    stale = _refused(
        clerk,
        "/households/change",
        {**base, "zokugara": {child: "子の子"}, "expected_household_versions": {a: 99}},
        status=409,
    )
    assert stale["type"] == "urn:kikan:problem:stale-version" and a in stale["detail"]
    assert _written(db, clerk.tenant) == before
