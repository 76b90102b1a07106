"""支援措置の延長・終了・仮支援措置の確定 and the period alerts (spec 3.4, 1.1.16, 2.2.4).

The extension window and the "ends within one month" alert share one definition
(`domain.final_month_start`): they open on the first day of the period's last month, counted like
the one-year period itself — for an end date of 3月31日 that is 3月1日 (30 days before), while
2月28日 (31 days before) is too early. The HTTP tests find today's exact boundary with date
arithmetic, so they test the edge whatever day they run on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents import service
from kikan.residents.domain import RegisterError, add_months, final_month_start
from tests.conftest import bearer, create_staff
from tests.residents.conftest import TODAY, Clerk, days_ago, family_move_in

JST = ZoneInfo("Asia/Tokyo")
SOON = "支援措置の期間が1か月以内に終了します"
OVER = "支援措置の期間が終了しています"
PERPETRATORS = [{"氏名": "加害 太郎", "生年月日": "昭和60年1月1日", "続柄": "元夫"}]


def _measure(clerk: Clerk, atena: str, *, end: date, provisional: bool = False) -> dict[str, Any]:
    return clerk.ok(
        f"/residents/{atena}/support-measures",
        {
            "start_date": (end - timedelta(days=364)).isoformat(),
            "end_date": end.isoformat(),
            "provisional": provisional,
            "perpetrators": PERPETRATORS,
        },
        status=201,
    )


def _boundary() -> tuple[date, date]:
    """(the latest end date whose extension window is already open today, the next day).
    `final_month_start` never decreases with the end date, so the two are adjacent."""
    open_ends = [
        TODAY + timedelta(days=n)
        for n in range(45)
        if final_month_start(TODAY + timedelta(days=n)) <= TODAY
    ]
    last_open = max(open_ends)
    assert final_month_start(last_open + timedelta(days=1)) > TODAY
    return last_open, last_open + timedelta(days=1)


def _warnings(clerk: Clerk, atena: str) -> list[str]:
    return clerk.resident(atena)["warnings"]  # type: ignore[no-any-return]


def _last_event(db: Database, tenant: str) -> dict[str, Any]:
    with db.unit_of_work(tenant) as uow:
        row = uow.session.scalars(
            select(OutboxEventRow).order_by(OutboxEventRow.seq.desc())
        ).first()
        assert row is not None
        return dict(row.payload)


def _functions(db: Database, tenant: str) -> list[str]:
    with db.unit_of_work(tenant) as uow:
        return list(
            uow.session.scalars(select(AuditRecordRow.function).order_by(AuditRecordRow.seq))
        )


# ---------------------------------------------------------------- the one-month rule


@pytest.mark.parametrize(
    ("end", "opens"),
    [
        (
            date(2021, 3, 31),
            date(2021, 3, 1),
        ),  # the spec's example period 令和2年4月1日〜令和3年3月31日
        (date(2021, 4, 30), date(2021, 4, 1)),
        (date(2021, 2, 28), date(2021, 2, 1)),
        (date(2021, 3, 15), date(2021, 2, 16)),
        (date(2021, 3, 30), date(2021, 2, 28)),  # 2月31日 does not exist: the month's last day
        (date(2024, 2, 28), date(2024, 1, 29)),  # leap year: 2月29日 − 1 month
        (date(2021, 1, 10), date(2020, 12, 11)),  # across the year
    ],
)
def test_final_month_start(end: date, opens: date) -> None:
    assert final_month_start(end) == opens


def test_add_months_clamps_to_the_months_last_day() -> None:
    assert add_months(date(2021, 1, 31), 1) == date(2021, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2021, 12, 15), 1) == date(2022, 1, 15)
    assert add_months(date(2021, 1, 15), -13) == date(2019, 12, 15)


def test_extension_window_with_an_injected_clock(clerk: Clerk, db: Database) -> None:
    """The spec's example period ends 令和3年3月31日: on 2月28日 (31 days before) the extension is
    refused with a Japanese message naming the first allowed day; on 3月1日 (30 days before) it
    is accepted and the new period runs 令和3年4月1日〜令和4年3月31日."""
    atena = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    actor = audit.Actor(kind="staff", id="shinsa")

    def ctx(day: date) -> Context:
        return Context(actor=actor, now=datetime(day.year, day.month, day.day, tzinfo=JST))

    with db.unit_of_work(clerk.tenant) as uow:
        row = service.start_support_measure(
            uow,
            ctx(date(2020, 4, 1)),
            service.StartSupportMeasure(
                atena_number=atena, start_date=date(2020, 4, 1), perpetrators=PERPETRATORS
            ),
        )
        measure_id = row.id
        assert row.end_date == date(2021, 3, 31)
        uow.commit()
    with db.unit_of_work(clerk.tenant) as uow:
        with pytest.raises(RegisterError) as refused:
            service.extend_support_measure(
                uow,
                ctx(date(2021, 2, 28)),
                service.ExtendSupportMeasure(atena_number=atena, measure_id=measure_id),
            )
        assert refused.value.code == "support.extension_too_early"
        assert "令和3年3月1日" in refused.value.message and "1か月前" in refused.value.message
    with db.unit_of_work(clerk.tenant) as uow:
        extended = service.extend_support_measure(
            uow,
            ctx(date(2021, 3, 1)),
            service.ExtendSupportMeasure(atena_number=atena, measure_id=measure_id),
        )
        assert (extended.period_start, extended.end_date) == (date(2021, 4, 1), date(2022, 3, 31))
        assert extended.start_date == date(2020, 4, 1) and extended.extensions == 1
        uow.commit()


# ---------------------------------------------------------------- through the API


def test_extension_boundary_and_alerts_today(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife, child = r["atena_numbers"]
    last_open, first_closed = _boundary()
    early = _measure(clerk, head, end=first_closed)
    due = _measure(clerk, wife, end=last_open)
    assert due["extendable_from"] <= TODAY.isoformat() < early["extendable_from"]
    assert due["ends_within_a_month"] is True and early["ends_within_a_month"] is False

    # the alert appears exactly when the extension becomes possible
    assert not any(SOON in w for w in _warnings(clerk, head))
    assert any(SOON in w for w in _warnings(clerk, wife))

    refused = clerk.post(f"/residents/{head}/support-measures/{early['id']}/extend", {})
    assert refused.status_code == 422, refused.text
    assert "1か月前" in refused.json()["detail"] and refused.json()["item"] == "支援措置終了年月日"

    extended = clerk.ok(f"/residents/{wife}/support-measures/{due['id']}/extend", {})
    new_start = last_open + timedelta(days=1)
    assert extended["period_start"] == new_start.isoformat()
    assert extended["end_date"] == service.one_year_after(new_start).isoformat()
    assert extended["start_date"] == due["start_date"] and extended["extensions"] == 1
    assert not any(SOON in w for w in _warnings(clerk, wife))
    event = _last_event(db, clerk.tenant)
    assert event["reason"] == "支援措置の延長" and event["support_measure"] == [wife]
    assert "支援措置の延長" in _functions(db, clerk.tenant)

    # an expired, not extended measure alerts and can still be extended without a gap
    lapsed = _measure(clerk, child, end=TODAY - timedelta(days=10))
    assert lapsed["expired"] is True
    warnings = _warnings(clerk, child)
    assert any(OVER in w for w in warnings) and not any(SOON in w for w in warnings)
    late = clerk.ok(f"/residents/{child}/support-measures/{lapsed['id']}/extend", {})
    assert late["period_start"] == (TODAY - timedelta(days=9)).isoformat()
    assert late["expired"] is False


def test_alert_on_the_last_day_and_the_day_after(clerk: Clerk) -> None:
    head, wife, _ = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"]
    _measure(clerk, head, end=TODAY)
    _measure(clerk, wife, end=TODAY - timedelta(days=1))
    assert any(SOON in w for w in _warnings(clerk, head))
    assert not any(OVER in w for w in _warnings(clerk, head))
    assert any(OVER in w for w in _warnings(clerk, wife))


def test_end_with_each_reason(clerk: Clerk, db: Database) -> None:
    head, wife, child = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"]
    running = _measure(clerk, head, end=TODAY + timedelta(days=200))
    lapsed = _measure(clerk, wife, end=TODAY - timedelta(days=1))
    other = _measure(clerk, child, end=TODAY + timedelta(days=100))

    too_soon = clerk.post(
        f"/residents/{head}/support-measures/{running['id']}/end", {"reason": "期間経過"}
    )
    assert too_soon.status_code == 422 and too_soon.json()["item"] == "終了事由"
    bad = clerk.post(f"/residents/{head}/support-measures/{running['id']}/end", {"reason": "不明"})
    assert bad.status_code == 422

    ended = clerk.ok(
        f"/residents/{head}/support-measures/{running['id']}/end",
        {"reason": "申出", "note": "本人から終了の申出"},
    )
    assert ended["ended_on"] == TODAY.isoformat() and ended["end_reason"] == "申出"
    assert _last_event(db, clerk.tenant)["support_measure"] == []
    assert clerk.resident(head)["support_measure"] == []
    clerk.ok(f"/residents/{wife}/support-measures/{lapsed['id']}/end", {"reason": "期間経過"})
    clerk.ok(f"/residents/{child}/support-measures/{other['id']}/end", {"reason": "必要性なし"})
    flags = {
        x["atena_number"]: x["support_measure"] for x in clerk.search(kana="アオキ")["results"]
    }
    assert not any(flags.values())

    again = clerk.post(
        f"/residents/{head}/support-measures/{running['id']}/end", {"reason": "申出"}
    )
    assert again.status_code == 422 and "既に終了" in again.json()["detail"]
    history = clerk.get(f"/residents/{head}/support-measures", params={"include_ended": True})
    assert [m["end_reason"] for m in history.json()] == ["申出"]
    assert _functions(db, clerk.tenant).count("支援措置の終了") == 3


def test_provisional_measure_is_confirmed_not_extended(clerk: Clerk, db: Database) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    m = clerk.ok(
        f"/residents/{wife}/support-measures",
        {"start_date": days_ago(10), "provisional": True, "perpetrators": PERPETRATORS},
        status=201,
    )
    assert m["kind"] == "provisional"
    assert clerk.resident(wife)["support_measure"][0]["kind"] == "provisional"
    no = clerk.post(f"/residents/{wife}/support-measures/{m['id']}/extend", {})
    assert no.status_code == 422 and "仮支援措置" in no.json()["detail"]
    early = clerk.post(
        f"/residents/{wife}/support-measures/{m['id']}/confirm", {"start_date": days_ago(11)}
    )
    assert early.status_code == 422

    confirmed = clerk.ok(f"/residents/{wife}/support-measures/{m['id']}/confirm", {})
    assert confirmed["kind"] == "support"
    assert confirmed["provisional_start"] == days_ago(10)
    assert confirmed["start_date"] == TODAY.isoformat()
    assert confirmed["end_date"] == service.one_year_after(TODAY).isoformat()
    event = _last_event(db, clerk.tenant)
    assert event["support_measure"] == [wife] and "仮支援措置" in event["reason"]
    twice = clerk.post(f"/residents/{wife}/support-measures/{m['id']}/confirm", {})
    assert twice.status_code == 422


def test_perpetrators_are_shown_only_to_approvers_and_every_read_is_audited(
    clerk: Clerk, client: TestClient, db: Database
) -> None:
    head, wife, _ = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"]
    m = _measure(clerk, wife, end=TODAY + timedelta(days=300))
    assert "perpetrators" not in clerk.resident(wife)["support_measure"][0]

    shown = clerk.get(f"/residents/{wife}/support-measures")
    assert shown.status_code == 200
    assert shown.json()[0]["perpetrators"] == PERPETRATORS and shown.json()[0]["id"] == m["id"]

    with db.unit_of_work(clerk.tenant) as uow:
        ctx = Context(actor=audit.Actor(kind="system", id="certificate-rules"))
        listed = service.support_measure_perpetrators(
            uow, ctx, service.PersonRef(atena_number=wife)
        )
        assert [p["氏名"] for p in listed] == ["加害 太郎"] and listed[0]["measure"] == m["id"]
        assert (
            service.support_measure_perpetrators(uow, ctx, service.PersonRef(atena_number=head))
            == []
        )
        uow.commit()
    with db.unit_of_work(clerk.tenant) as uow:
        reads = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.function.startswith("支援対象者照会"))
        ).all()
        assert len(reads) == 3
        assert all(r.detail["perpetrators"] is True and r.action == "inquiry" for r in reads)

    create_staff(db, clerk.tenant, "madoguchi", ["counter"])
    counter = Clerk(client, clerk.tenant, bearer(client, clerk.tenant, "madoguchi"))
    denied = counter.get(f"/residents/{wife}/support-measures")
    assert denied.status_code == 403
    for action, body in (("extend", {}), ("end", {"reason": "申出"}), ("confirm", {})):
        r = counter.post(f"/residents/{wife}/support-measures/{m['id']}/{action}", body)
        assert r.status_code == 403, action
    # the counter still sees that the person is protected, without the details
    assert counter.resident(wife)["support_measure"][0]["kind"] == "support"


def test_unknown_measure_and_another_persons_measure(clerk: Clerk) -> None:
    head, wife, _ = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"]
    m = _measure(clerk, wife, end=TODAY + timedelta(days=10))
    for atena, measure in ((head, m["id"]), (wife, m["id"] + 1000)):
        r = clerk.post(f"/residents/{atena}/support-measures/{measure}/extend", {})
        assert r.status_code == 404 and r.json()["item"] == "支援措置"
