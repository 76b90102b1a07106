"""異動・発行・照会抑止 (spec 3.1, 3.2) through the HTTP API, on SQLite and PostgreSQL.

A 抑止 at level エラー refuses with 403 `suppressed`, writes nothing of the refused work and keeps
the denial in the access log; level アラート lets the work through with a warning. It does not end
at its end date, only when ended; a temporary release (一時解除) expires by itself and is never
published to other systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, select, update

from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents import service
from kikan.residents.store import HistoryRow, SuppressionRow
from tests.conftest import bearer, create_staff
from tests.residents.conftest import ADDRESS2, TODAY, Clerk, days_ago, family_move_in

SUPPRESSION_TOPIC = "residents.suppression"


def _suppress(clerk: Clerk, atena: str, status: int = 201, **body: Any) -> dict[str, Any]:
    payload = {
        "kinds": ["change"],
        "level": "error",
        "start_date": days_ago(1),
        "reason": "本人確認のため（試験）",
        **body,
    }
    return clerk.ok(f"/residents/{atena}/suppressions", payload, status=status)


def _written(db: Database, tenant: str) -> tuple[int, int]:
    """(history rows, outbox events): a refused change must leave both as they were."""
    with db.unit_of_work(tenant) as uow:
        history = uow.session.scalar(select(func.count()).select_from(HistoryRow)) or 0
        events = uow.session.scalar(select(func.count()).select_from(OutboxEventRow)) or 0
        return history, events


def _events(db: Database, tenant: str, topic: str) -> list[dict[str, Any]]:
    with db.unit_of_work(tenant) as uow:
        rows = uow.session.scalars(
            select(OutboxEventRow).where(OutboxEventRow.topic == topic).order_by(OutboxEventRow.seq)
        ).all()
        return [r.payload for r in rows]


@dataclass(frozen=True)
class Denial:
    function: str
    subjects: list[str]
    detail: dict[str, Any]


def _denials(db: Database, tenant: str) -> list[Denial]:
    with db.unit_of_work(tenant) as uow:
        rows = uow.session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.action == "denial", AuditRecordRow.outcome == "denied")
            .order_by(AuditRecordRow.seq)
        )
        return [Denial(r.function, list(r.subjects), dict(r.detail)) for r in rows]


def _refused(r: Any) -> dict[str, Any]:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    assert problem["type"] == "urn:kikan:problem:suppressed"
    assert "抑止" in problem["detail"]
    return problem


def _kyuuji(clerk: Clerk, atena: str, name: str = "佐藤") -> Any:
    return clerk.post(f"/residents/{atena}/kyuuji", {"kyuuji": name, "requested_date": days_ago(0)})


def _move_within(clerk: Clerk, household: str) -> Any:
    return clerk.post(
        "/residents/move-within",
        {"household_number": household, "address": ADDRESS2, "move_date": days_ago(0)},
    )


def test_error_change_suppression_refuses_and_writes_nothing_but_the_denial(
    clerk: Clerk, db: Database
) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, _child = r["atena_numbers"]
    household = r["household_numbers"][0]
    s = _suppress(clerk, wife)
    assert s["target_kind"] == "person" and s["target_number"] == wife
    assert s["kinds"] == ["change"] and s["level"] == "error" and s["in_force"] is True
    before = _written(db, clerk.tenant)

    problem = _refused(_kyuuji(clerk, wife))
    assert "異動抑止" in problem["detail"] and wife in problem["detail"]
    assert problem["process"] == "change" and problem["suppressions"] == [s["id"]]
    # the household's 転居 touches her too; her death as well
    _refused(_move_within(clerk, household))
    _refused(clerk.post("/residents/death", {"atena_number": wife, "death_date": days_ago(0)}))
    assert _written(db, clerk.tenant) == before

    denials = _denials(db, clerk.tenant)
    assert [d.function for d in denials] == ["旧氏の記載", "転居", "死亡"]
    assert all(d.detail["reason"] == "suppressed" for d in denials)
    assert denials[0].detail["suppressions"] == [s["id"]] and wife in denials[0].subjects

    # persons without a 抑止 are unaffected
    assert _kyuuji(clerk, head).status_code == 200
    assert clerk.resident(wife)["snapshot"]["kyuuji"] == ""


def test_alert_change_suppression_proceeds_with_a_warning(clerk: Clerk) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    wife = r["atena_numbers"][1]
    s = _suppress(clerk, wife, level="alert")
    ok = _kyuuji(clerk, wife)
    assert ok.status_code == 200, ok.text
    warnings = ok.json()["warnings"]
    assert any("異動抑止（アラート" in w and str(s["id"]) in w for w in warnings)
    assert clerk.resident(wife)["snapshot"]["kyuuji"] == "佐藤"


def test_household_suppression_blocks_a_members_move_within(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = r["atena_numbers"]
    household = r["household_numbers"][0]
    s = _suppress(clerk, child, target="household")
    assert s["target_kind"] == "household" and s["target_number"] == household
    before = _written(db, clerk.tenant)
    _refused(_move_within(clerk, household))
    _refused(_kyuuji(clerk, head))  # any member's change touches the household
    assert _written(db, clerk.tenant) == before
    # the household's 抑止 is listed from every member
    assert [x["id"] for x in clerk.get(f"/residents/{wife}/suppressions").json()] == [s["id"]]

    ended = clerk.ok(f"/residents/{head}/suppressions/{s['id']}/end", {"note": "確認済み"})
    assert ended["ended_on"] == TODAY.isoformat() and ended["in_force"] is False
    moved = _move_within(clerk, household)
    assert moved.status_code == 200, moved.text
    assert clerk.resident(child)["snapshot"]["address"]["town"] == ADDRESS2["town"]


def test_error_inquiry_suppression_refuses_reads_and_audits_the_denials(
    clerk: Clerk, db: Database
) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    wife = r["atena_numbers"][1]
    _suppress(clerk, wife, kinds=["inquiry"])
    for path, params in (
        (f"/residents/{wife}", {}),
        (f"/residents/{wife}/history", {}),
        (f"/residents/{wife}/as-of", {"date": days_ago(1)}),
    ):
        problem = _refused(clerk.get(path, params=params))
        assert "照会抑止" in problem["detail"] and problem["process"] == "inquiry"
    denials = _denials(db, clerk.tenant)
    assert [d.function for d in denials] == ["住民照会", "異動履歴照会", "異動履歴照会"]
    assert all(wife in d.subjects and d.detail["process"] == "inquiry" for d in denials)
    with db.unit_of_work(clerk.tenant) as uow:
        reads = uow.session.scalars(
            select(AuditRecordRow.function).where(
                AuditRecordRow.action == "inquiry", AuditRecordRow.outcome == "ok"
            )
        ).all()
        assert "住民照会" not in reads and "異動履歴照会" not in reads
    # an inquiry suppression does not stop 異動 (only the processes it names)
    assert _kyuuji(clerk, wife).status_code == 200


def test_alert_inquiry_suppression_shows_the_warning_with_the_data(clerk: Clerk) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    wife = r["atena_numbers"][1]
    _suppress(clerk, wife, kinds=["inquiry"], level="alert", target="household")
    shown = clerk.resident(wife)
    assert shown["snapshot"]["given_name"] == "花子"
    assert any("照会抑止（アラート" in w for w in shown["warnings"])
    h = clerk.get(f"/residents/{wife}/history")
    assert h.status_code == 200 and len(h.json()) == 1
    header = [unquote(v) for v in h.headers.get_list("Kikan-Warning")]
    assert len(header) == 1 and "照会抑止（アラート" in header[0]
    a = clerk.get(f"/residents/{wife}/as-of", params={"date": days_ago(0)})
    assert a.status_code == 200 and a.json()["history_no"] == 1
    assert "Kikan-Warning" in a.headers


def test_search_flags_suppressed_persons_with_their_kinds(clerk: Clerk) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = r["atena_numbers"]
    _suppress(clerk, wife, kinds=["inquiry", "issue"])
    _suppress(clerk, head, kinds=["change"], level="alert", target="household")
    _suppress(clerk, child, kinds=["issue"], start_date=days_ago(-5))  # starts later
    results = {x["atena_number"]: x for x in clerk.search(kana="アオキ")["results"]}
    assert results[wife]["suppressed"] is True
    assert results[wife]["suppression_kinds"] == ["change", "issue", "inquiry"]
    assert results[head]["suppression_kinds"] == ["change"]
    assert results[child]["suppression_kinds"] == ["change"]  # the household's only
    only = clerk.search(kana="アオキ", fields=["atena_number", "suppressed"])
    assert set(only["results"][0]) == {"atena_number", "suppressed"}


def test_temporary_release_lets_work_through_then_expires_and_is_not_published(
    clerk: Clerk, db: Database
) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    wife = r["atena_numbers"][1]
    s = _suppress(clerk, wife)
    assert len(_events(db, clerk.tenant, SUPPRESSION_TOPIC)) == 1
    released = clerk.ok(f"/residents/{wife}/suppressions/{s['id']}/release", {"note": "窓口対応"})
    until = datetime.fromisoformat(released["released_until"])
    expected = datetime.now(UTC) + timedelta(minutes=30)
    assert abs((until - expected).total_seconds()) < 60
    assert released["in_force"] is False and released["ended_on"] is None
    assert _kyuuji(clerk, wife).status_code == 200
    # 一時解除 is never published (spec 3.1), but it is audited
    assert len(_events(db, clerk.tenant, SUPPRESSION_TOPIC)) == 1
    with db.unit_of_work(clerk.tenant) as uow:
        rec = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.function == "抑止の一時解除")
        ).one()
        assert rec.detail["minutes"] == 30 and wife in rec.subjects

    # time passes: the release has run out, and the 抑止 is back without anyone acting
    with db.unit_of_work(clerk.tenant) as uow:
        uow.session.execute(
            update(SuppressionRow)
            .where(SuppressionRow.id == s["id"])
            .values(released_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        uow.commit()
    _refused(clerk.post(f"/residents/{wife}/kyuuji/delete", {"requested_date": days_ago(0)}))
    listed = clerk.get(f"/residents/{wife}/suppressions").json()
    assert listed[0]["in_force"] is True


def test_release_duration_is_a_parameter(clerk: Clerk) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    s = _suppress(clerk, wife)
    released = clerk.ok(f"/residents/{wife}/suppressions/{s['id']}/release", {"minutes": 5})
    until = datetime.fromisoformat(released["released_until"])
    assert abs((until - datetime.now(UTC) - timedelta(minutes=5)).total_seconds()) < 60
    r = clerk.post(f"/residents/{wife}/suppressions/{s['id']}/release", {"minutes": 0})
    assert r.status_code == 422


def test_release_expiry_with_an_injected_clock(clerk: Clerk, db: Database) -> None:
    """The service decides with `Context.now`: released until T0+30min, in force again at
    exactly that moment. `issue_blockers` is what the certificate issue will ask."""
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    s = _suppress(clerk, wife, kinds=["issue"], level="alert")
    t0 = datetime.now(UTC)
    actor = audit.Actor(kind="staff", id="shinsa")
    with db.unit_of_work(clerk.tenant) as uow:
        assert [h.id for h in service.issue_blockers(uow, wife, t0)] == [s["id"]]
        service.release_temporarily(
            uow,
            Context(actor=actor, now=t0),
            service.ReleaseTemporarily(atena_number=wife, suppression_id=s["id"]),
        )
        uow.commit()
    with db.unit_of_work(clerk.tenant) as uow:
        assert service.issue_blockers(uow, wife, t0 + timedelta(minutes=29, seconds=59)) == []
        back = service.issue_blockers(uow, wife, t0 + timedelta(minutes=30))
        assert [(h.id, h.level, h.kinds) for h in back] == [(s["id"], "alert", ("issue",))]
        assert service.issue_blockers(uow, wife, t0 + timedelta(hours=1))[0].id == s["id"]


def test_suppression_does_not_end_at_its_end_date(clerk: Clerk) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    s = _suppress(clerk, wife, start_date=days_ago(20), end_date=days_ago(1))
    assert s["past_end_date"] is True and s["in_force"] is True
    _refused(_kyuuji(clerk, wife))
    clerk.ok(f"/residents/{wife}/suppressions/{s['id']}/end", {})
    assert _kyuuji(clerk, wife).status_code == 200


def test_suppression_before_its_start_date_does_not_apply(clerk: Clerk) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    s = _suppress(clerk, wife, start_date=days_ago(-1))
    assert s["in_force"] is False
    assert _kyuuji(clerk, wife).status_code == 200


def test_several_suppressions_per_person_each_with_its_own_processes_and_level(
    clerk: Clerk,
) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    alert = _suppress(clerk, wife, level="alert", kinds=["change", "inquiry"])
    error = _suppress(clerk, wife, kinds=["issue"])
    listed = clerk.get(f"/residents/{wife}/suppressions").json()
    assert [x["id"] for x in listed] == [alert["id"], error["id"]]
    ok = _kyuuji(clerk, wife)  # the error one is about issue only
    assert ok.status_code == 200 and len(ok.json()["warnings"]) == 1


def test_add_and_end_are_published_for_other_systems(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    wife = r["atena_numbers"][1]
    household = r["household_numbers"][0]
    p = _suppress(clerk, wife, kinds=["issue", "change"], reason="DV の疑い（内部メモ）")
    h = _suppress(clerk, wife, target="household", level="alert")
    clerk.ok(f"/residents/{wife}/suppressions/{p['id']}/end", {"note": "解除"})
    events = _events(db, clerk.tenant, SUPPRESSION_TOPIC)
    assert [(e["action"], e["suppression_id"]) for e in events] == [
        ("added", p["id"]),
        ("added", h["id"]),
        ("ended", p["id"]),
    ]
    assert events[0]["atena_numbers"] == [wife] and events[0]["kinds"] == ["change", "issue"]
    assert events[1]["household_numbers"] == [household] and events[1]["level"] == "alert"
    assert events[2]["ended_on"] == TODAY.isoformat()
    assert all("DV" not in str(e) for e in events)  # the reason stays inside the register
    with db.unit_of_work(clerk.tenant) as uow:
        functions = uow.session.scalars(
            select(AuditRecordRow.function).where(AuditRecordRow.action != "inquiry")
        ).all()
        assert functions.count("抑止の設定") == 2 and functions.count("抑止の終了") == 1


def test_refusals_of_the_management_use_cases(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, _ = r["atena_numbers"]
    s = _suppress(clerk, wife)
    bad = [
        ({"reason": " "}, "抑止の理由"),
        ({"start_date": days_ago(1), "end_date": days_ago(2)}, "抑止終了日"),
    ]
    for body, item in bad:
        problem = _suppress(clerk, wife, status=422, **body)
        assert problem["item"] == item, problem
    # another person's 抑止 is not reachable through this person
    missing = clerk.post(f"/residents/{head}/suppressions/{s['id']}/end", {})
    assert missing.status_code == 404 and "抑止番号" in missing.json()["detail"]
    clerk.ok(f"/residents/{wife}/suppressions/{s['id']}/end", {})
    again = clerk.post(f"/residents/{wife}/suppressions/{s['id']}/end", {})
    assert again.status_code == 422 and "既に終了" in again.json()["detail"]
    release = clerk.post(f"/residents/{wife}/suppressions/{s['id']}/release", {})
    assert release.status_code == 422
    assert [x["id"] for x in clerk.get(f"/residents/{wife}/suppressions").json()] == []
    ended = clerk.get(f"/residents/{wife}/suppressions", params={"include_ended": True}).json()
    assert [x["id"] for x in ended] == [s["id"]]


def test_only_approvers_manage_suppressions(clerk: Clerk, client: Any, db: Database) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    s = _suppress(clerk, wife)
    create_staff(db, clerk.tenant, "madoguchi", ["counter"])
    counter = Clerk(client, clerk.tenant, bearer(client, clerk.tenant, "madoguchi"))
    body = {"kinds": ["change"], "level": "error", "start_date": days_ago(0), "reason": "x"}
    for path, payload in (
        (f"/residents/{wife}/suppressions", body),
        (f"/residents/{wife}/suppressions/{s['id']}/end", {}),
        (f"/residents/{wife}/suppressions/{s['id']}/release", {}),
    ):
        r = counter.post(path, payload)
        assert r.status_code == 403 and r.json()["type"] == "urn:kikan:problem:forbidden"
    # a counter clerk sees the 抑止 (and is refused by it) but cannot lift it
    assert counter.get(f"/residents/{wife}/suppressions").status_code == 200
    _refused(_kyuuji(counter, wife))
