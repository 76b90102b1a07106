"""印鑑登録 over the staff API (SQLite and PostgreSQL): flows, bad input, 支援措置, isolation.

The 宛名 replica is filled here the way the sync fills it (`service.apply_full`/`apply_change`
with standard person rows); the end-to-end path over the real linkage API is in test_linkage_http.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kikan.errors import ConflictError
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.seal import domain, service
from kikan.seal.service import registrations
from kikan.seal.store import SealHistoryRow, SealRegistrationRow, SealReviewRow
from tests.conftest import bearer, create_staff, create_tenant
from tests.seal.conftest import png, record

ADULT = "100000000000001"
CHILD = "100000000000002"
LEFT = "100000000000003"
HIDDEN = "100000000000004"
SECOND = "100000000000005"


def seed(db: Database, tenant: str, *records: dict[str, str]) -> None:
    with db.unit_of_work(tenant) as uow:
        service.apply_full(uow, records)
        uow.commit()


class Counter:
    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.h = client, headers

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(f"/api/v1/seal{path}", json=body or {}, headers=self.h)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1/seal{path}", params=params, headers=self.h)

    def register(self, atena: str = ADULT, **kw: Any) -> Any:
        body = {
            "atena_number": atena,
            "method": "即日登録",
            "identity_document": "運転免許証",
            "seal_text": "青木",
            "image_base64": base64.b64encode(png()).decode(),
            **kw,
        }
        return self.post("/registrations", body)


@pytest.fixture
def town(client: TestClient, db: Database) -> tuple[str, Counter]:
    tenant = create_tenant(db, "日和市")
    create_staff(db, tenant, "madoguchi", ["counter"])
    today = service.today_jst()
    seed(
        db,
        tenant,
        record(ADULT),
        record(CHILD, given="一郎", birth=today - timedelta(days=14 * 365)),
        record(LEFT, status="20"),
        record(HIDDEN, given="花子", support_measure="1"),
        record(SECOND, given="次郎"),
    )
    return tenant, Counter(client, bearer(client, tenant, "madoguchi"))


def count(db: Database, tenant: str, model: Any) -> int:
    with db.unit_of_work(tenant) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def audits(db: Database, tenant: str, function: str) -> list[dict[str, Any]]:
    with db.unit_of_work(tenant) as uow:
        return [
            {"subjects": a.subjects, "outcome": a.outcome, "action": a.action}
            for a in uow.session.scalars(
                select(AuditRecordRow)
                .where(AuditRecordRow.function.contains(function))
                .order_by(AuditRecordRow.seq)
            )
        ]


def test_immediate_registration_issues_a_card(db: Database, town: tuple[str, Counter]) -> None:
    tenant, c = town
    r = c.register()
    assert r.status_code == 201, r.text
    reg = r.json()
    assert reg["status"] == "登録" and reg["method"] == "即日登録"
    assert domain.check_card_number(reg["card_number"]) == reg["card_number"]
    assert reg["name"] == "青木　太郎" and reg["birth_date"] == "昭和55年4月1日"
    assert reg["inquiry_code"] is None
    img = c.get(f"/registrations/{reg['registration_number']}/image")
    assert img.status_code == 200 and img.content == png()
    assert img.headers["content-type"] == "image/png"
    by_card = c.get(f"/cards/{reg['card_number']}")
    assert by_card.status_code == 200 and by_card.json()["atena_number"] == ADULT
    written = audits(db, tenant, "印鑑登録：登録")
    assert [a["subjects"] for a in written] == [[ADULT]]
    assert audits(db, tenant, "印鑑登録：照会（登録証）")[0]["subjects"] == [ADULT]


def test_inquiry_flow_completes_on_the_answer(db: Database, town: tuple[str, Counter]) -> None:
    _tenant, c = town
    r = c.register(method="照会回答", identity_document="")
    assert r.status_code == 201, r.text
    pending = r.json()
    number, code = pending["registration_number"], pending["inquiry_code"]
    assert pending["status"] == "照会中" and pending["card_number"] is None and code
    assert date.fromisoformat(pending["inquiry_deadline"]) > service.today_jst()
    wrong = c.post(f"/registrations/{number}/answer", {"inquiry_code": "WRONG"})
    assert wrong.status_code == 422 and "照会番号" in wrong.json()["detail"]
    assert c.get(f"/registrations/{number}").json()["status"] == "照会中"
    # a second application while the 照会 is open is refused
    assert c.register().status_code == 409
    done = c.post(f"/registrations/{number}/answer", {"inquiry_code": code.lower()})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "登録" and done.json()["card_number"]
    again = c.post(f"/registrations/{number}/answer", {"inquiry_code": code})
    assert again.status_code == 409


def test_answer_after_the_deadline_is_refused(db: Database, town: tuple[str, Counter]) -> None:
    tenant, c = town
    pending = c.register(method="照会回答", identity_document="").json()
    late = Context(actor=service.SYNC_ACTOR, now=utcnow() + timedelta(days=domain.INQUIRY_DAYS + 1))
    with db.unit_of_work(tenant) as uow, pytest.raises(ConflictError) as exc:
        service.answer(
            uow,
            late,
            service.commands.Answer(pending["registration_number"], pending["inquiry_code"]),
        )
    assert "期限" in exc.value.message
    # after the deadline a new application replaces the expired 照会
    with db.unit_of_work(tenant) as uow:
        again = service.register(
            uow,
            late,
            service.commands.Register(
                atena_number=ADULT,
                seal_text="太郎",
                image=png(),
                method=domain.Method.IMMEDIATE,
                identity_document="旅券",
            ),
        )
        uow.commit()
    assert again.row.status == "登録"
    old = c.get(f"/registrations/{pending['registration_number']}").json()
    assert old["status"] == "照会期限切れ"


@pytest.mark.parametrize(
    ("atena", "overrides", "status", "needle"),
    [
        (LEFT, {}, 422, "住民基本台帳に記録されている住民でない"),
        ("199999999999999", {}, 422, "記録されていません"),
        (CHILD, {}, 422, "15歳未満"),
        (ADULT, {"seal_text": "山田"}, 422, "印影の文字"),
        (ADULT, {"identity_document": ""}, 422, "本人確認書類"),
        (ADULT, {"image_base64": "***"}, 422, "Base64"),
        (ADULT, {"image_base64": base64.b64encode(b"GIF89a....").decode()}, 422, "画像"),
    ],
)
def test_bad_applications_write_nothing(
    db: Database,
    town: tuple[str, Counter],
    atena: str,
    overrides: dict[str, str],
    status: int,
    needle: str,
) -> None:
    tenant, c = town
    r = c.register(atena, **overrides)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert needle in r.json()["detail"]
    assert count(db, tenant, SealRegistrationRow) == 0
    assert count(db, tenant, SealHistoryRow) == 0
    assert audits(db, tenant, "印鑑登録：登録") == []


def test_second_registration_is_refused(db: Database, town: tuple[str, Counter]) -> None:
    tenant, c = town
    assert c.register().status_code == 201
    second = c.register(seal_text="太郎")
    assert second.status_code == 409 and "既に印鑑登録" in second.json()["detail"]
    assert count(db, tenant, SealRegistrationRow) == 1


def test_second_registration_titles_say_refusal_or_race(
    db: Database, town: tuple[str, Counter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14, item 15: a business refusal is not 「他の処理と競合しました。」; only a real race
    (the unique index refused a registration that passed the check) says so."""
    tenant, c = town
    assert c.register().status_code == 201
    refused = c.register(seal_text="太郎").json()
    assert refused["title"] == "現在の状態では処理できません。"
    monkeypatch.setattr(registrations, "_active_of", lambda *a, **k: None)  # as if concurrent
    raced = c.register(seal_text="太郎")
    assert raced.status_code == 409 and raced.json()["type"].endswith("seal-already-registered")
    assert raced.json()["title"] == "他の処理と競合しました。"
    assert count(db, tenant, SealRegistrationRow) == 1


def test_lost_card_is_invalid_and_needs_a_new_registration(
    db: Database, town: tuple[str, Counter]
) -> None:
    _tenant, c = town
    reg = c.register().json()
    lost = c.post(f"/registrations/{reg['registration_number']}/lost")
    assert lost.status_code == 200 and lost.json()["status"] == "亡失"
    used = c.get(f"/cards/{reg['card_number']}")
    assert used.status_code == 409 and "亡失" in used.json()["detail"]
    assert c.post(f"/registrations/{reg['registration_number']}/lost").status_code == 409
    new = c.register(seal_text="青木太郎")
    assert new.status_code == 201 and new.json()["card_number"] != reg["card_number"]
    unknown = c.get(f"/cards/{domain.card_number(9_999_999)}")
    assert unknown.status_code == 404 and "登録はありません" in unknown.json()["detail"]
    assert c.get("/cards/12345678").status_code in {404, 422}
    assert c.get("/cards/abc").status_code == 422


def test_abolition_checks_the_returned_card(db: Database, town: tuple[str, Counter]) -> None:
    _tenant, c = town
    reg = c.register().json()
    other = c.register(SECOND, seal_text="次郎").json()
    number = reg["registration_number"]
    wrong = c.post(f"/registrations/{number}/abolish", {"card_number": other["card_number"]})
    assert wrong.status_code == 422
    assert c.get(f"/registrations/{number}").json()["status"] == "登録"
    ok = c.post(f"/registrations/{number}/abolish", {"card_number": reg["card_number"]})
    assert ok.status_code == 200 and ok.json()["status"] == "廃止"
    assert c.get(f"/cards/{reg['card_number']}").status_code == 409


def test_protected_person_is_reached_only_with_the_card(
    db: Database, town: tuple[str, Counter]
) -> None:
    tenant, c = town
    reg = c.register(HIDDEN, seal_text="花子").json()
    number = reg["registration_number"]
    for path, params in (
        ("/registrations", {"atena_number": HIDDEN}),
        (f"/registrations/{number}", {}),
        (f"/registrations/{number}/image", {}),
        (f"/registrations/{number}/history", {}),
    ):
        r = c.get(path, **params)
        assert r.status_code == 403, path
        assert r.json()["type"] == "urn:kikan:problem:support-measure"
    denials = audits(db, tenant, "照会（支援措置）")
    assert len(denials) == 4 and all(d["outcome"] == "denied" for d in denials)
    assert c.get(f"/cards/{reg['card_number']}").status_code == 200


def test_changes_from_the_feed_react_once(db: Database, town: tuple[str, Counter]) -> None:
    tenant, c = town
    a = c.register().json()
    b = c.register(SECOND, seal_text="次郎").json()
    married = record(ADULT, family="佐藤")
    renamed = record(SECOND, family="佐藤", given="次郎")
    for _ in range(2):  # the same events twice: the second time nothing happens
        with db.unit_of_work(tenant) as uow:
            service.apply_change(
                uow,
                seq=7,
                topic="residents.changed",
                payload={"atena_numbers": [ADULT, SECOND], "support_measure": []},
                records=[married, renamed],
            )
            uow.commit()
    # the seal shows the old 氏 → a review task, registration unchanged
    reviews = c.get("/reviews").json()
    assert [(r["atena_number"], r["seq"]) for r in reviews] == [(ADULT, 7)]
    assert c.get(f"/registrations/{a['registration_number']}").json()["name"] == "青木　太郎"
    # the seal shows the 名 → 登録事項 follow the register
    assert c.get(f"/registrations/{b['registration_number']}").json()["name"] == "佐藤　次郎"
    # staff cannot 登録事項変更 a seal that no longer matches
    refused = c.post(f"/registrations/{a['registration_number']}/particulars")
    assert refused.status_code == 409
    # 転出 (status 20) strikes the registration, once
    for _ in range(2):
        with db.unit_of_work(tenant) as uow:
            service.apply_change(
                uow,
                seq=8,
                topic="residents.changed",
                payload={"atena_numbers": [SECOND], "support_measure": []},
                records=[record(SECOND, family="佐藤", given="次郎", status="20")],
            )
            uow.commit()
    struck = c.get(f"/registrations/{b['registration_number']}").json()
    assert struck["status"] == "職権抹消" and "転出" in struck["end_reason"]
    events = [
        h["event"] for h in c.get(f"/registrations/{b['registration_number']}/history").json()
    ]
    assert events == ["登録", "登録事項変更（職権）", "職権抹消"]
    assert c.get(f"/cards/{b['card_number']}").status_code == 409
    assert count(db, tenant, SealReviewRow) == 1


def test_tenant_isolation_and_roles(
    client: TestClient, db: Database, town: tuple[str, Counter]
) -> None:
    tenant, c = town
    reg = c.register().json()
    other = create_tenant(db, "隣町")
    create_staff(db, other, "tonari", ["counter"])
    create_staff(db, tenant, "kansa", ["auditor"])
    o = Counter(client, bearer(client, other, "tonari"))
    assert o.get(f"/registrations/{reg['registration_number']}").status_code == 404
    assert o.get(f"/cards/{reg['card_number']}").status_code == 404
    seed(db, other, record(ADULT))
    assert o.register().json()["registration_number"] == 1  # its own numbering
    auditor = Counter(client, bearer(client, tenant, "kansa"))
    assert auditor.register(SECOND, seal_text="次郎").status_code == 403
    assert auditor.get(f"/registrations/{reg['registration_number']}").status_code == 200
