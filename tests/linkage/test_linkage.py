"""庁内データ連携 over HTTP: client registration, client_secret_jwt tokens and the 差分 feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.linkage import service
from kikan.linkage.domain import filter_payload
from kikan.linkage.store import LinkageTokenRow
from kikan.platform.db import utcnow
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.linkage.conftest import Town, assertion, make_town, token_request
from tests.residents.conftest import ADDRESS, PRIOR, TODAY, days_ago, family_move_in, person


def single_move_in(town: Town) -> list[str]:
    body = {
        "movers": [
            {"person": person("佐藤", "健", "サトウ", "ケン", "1", "昭和60年5月5日", "世帯主")}
        ],
        "address": {**ADDRESS, "town_code": "0010002", "town": "松町二丁目"},
        "prior_address": PRIOR,
        "move_date": days_ago(2),
        "notified_date": days_ago(1),
    }
    return town.clerk.ok("/residents/move-in", body, status=201)["atena_numbers"]  # type: ignore[no-any-return]


def problem(r: Any, status: int = 401) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert any("\u3040" <= ch <= "\u9fff" for ch in body["detail"]), body  # Japanese
    return body


def test_register_token_and_pull_two_move_ins(town: Town, db: Database) -> None:
    family = family_move_in(town.clerk)["atena_numbers"]
    single = single_move_in(town)
    reg = town.register(["residents.changed"])
    assert len(reg["client_id"]) == 32 and reg["client_id"].startswith(town.tenant)
    listed = town.client.get("/api/v1/linkage/clients", headers=town.admin).json()
    assert [c["client_id"] for c in listed] == [reg["client_id"]]
    assert "client_secret" not in listed[0]

    h = town.token(reg)
    page = town.pull(h)
    assert [c["payload"]["atena_numbers"] for c in page["changes"]] == [family, single]
    assert [c["seq"] for c in page["changes"]] == [1, 2]
    assert page["next_cursor"] == 2 and page["has_more"] is False
    assert page["changes"][0]["payload"]["reason"]

    # nothing new: the cursor stays
    again = town.pull(h, after=page["next_cursor"])
    assert again["changes"] == [] and again["next_cursor"] == 2

    with db.unit_of_work(town.tenant) as uow:
        rows = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.actor == reg["client_id"])
        ).all()
        pulls = [r for r in rows if r.action == "inquiry"]
        assert len(pulls) == 2 and all(r.actor_kind == "client" for r in pulls)
        assert set(pulls[0].subjects) == set(family + single)


def test_token_endpoint_accepts_json(town: Town) -> None:
    reg = town.register(["residents.changed"])
    r = token_request(town.client, assertion(reg["client_id"], reg["client_secret"]), as_json=True)
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 600 and r.json()["token_type"] == "Bearer"


def test_resume_from_cursor_after_a_crash_has_no_gaps_or_duplicates(town: Town) -> None:
    for _ in range(2):
        family_move_in(town.clerk)
        single_move_in(town)
    reg = town.register(["residents.changed"])
    h = town.token(reg)
    seen: list[int] = []
    cursor = 0
    first = town.pull(h, after=cursor, limit=3)
    # the consumer crashes after reading but before storing first["next_cursor"]: it resumes
    # from the cursor it had stored (0) and gets the same events again, then carries on
    replay = town.pull(h, after=cursor, limit=3)
    assert replay["changes"] == first["changes"]
    while True:
        page = town.pull(h, after=cursor, limit=3)
        seen += [c["seq"] for c in page["changes"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "expired"),
        ("too_far", "exp_too_far"),
        ("audience", "bad_audience"),
        ("signature", "bad_signature"),
        ("issuer", "bad_issuer"),
        ("replay", "replayed_jti"),
        ("unknown", "unknown_client"),
    ],
)
def test_bad_assertions_are_refused_in_japanese(town: Town, kind: str, reason: str) -> None:
    reg = town.register(["residents.changed"])
    cid, secret = reg["client_id"], reg["client_secret"]
    signed = {
        "expired": lambda: assertion(cid, secret, exp_in=-5),
        "too_far": lambda: assertion(cid, secret, exp_in=3600),
        "audience": lambda: assertion(cid, secret, aud="https://other.example/token"),
        "signature": lambda: assertion(cid, "not-the-secret"),
        "issuer": lambda: assertion(cid, secret, sub="someone-else"),
        "replay": lambda: assertion(cid, secret, jti="once"),
        "unknown": lambda: assertion(town.tenant + "0" * 26, secret),
    }[kind]()
    if kind == "replay":
        assert token_request(town.client, signed).status_code == 200
    body = problem(token_request(town.client, signed))
    assert body["type"] == "urn:kikan:problem:invalid-client"
    assert body["reason"] == reason


def test_bad_access_tokens_and_cursors(town: Town) -> None:
    r = town.client.get("/api/v1/linkage/changes")
    problem(r)
    problem(town.client.get("/api/v1/linkage/changes", headers={"Authorization": "Bearer x.y"}))
    # a staff session token is not a linkage token
    problem(town.client.get("/api/v1/linkage/changes", headers=town.clerk.h))
    h = town.token(town.register(["residents.changed"]))
    problem(town.client.get("/api/v1/linkage/changes", params={"after": "abc"}, headers=h), 422)
    problem(town.client.get("/api/v1/linkage/changes", params={"after": -1}, headers=h), 422)


def test_registration_needs_sysadmin_and_known_scopes(town: Town) -> None:
    r = town.client.post(
        "/api/v1/linkage/clients",
        json={"name": "x", "scopes": ["residents.changed"]},
        headers=town.clerk.h,
    )
    problem(r, 403)
    r = town.client.post(
        "/api/v1/linkage/clients", json={"name": "x", "scopes": ["everything"]}, headers=town.admin
    )
    problem(r, 422)


def town_get(town: Any, headers: dict[str, str], **params: Any) -> Any:
    return town.client.get("/api/v1/linkage/changes", params=params, headers=headers)


def test_another_tenants_client_never_sees_this_tenants_events(
    client: TestClient, db: Database
) -> None:
    a = make_town(client, db, "甲市")
    b = make_town(client, db, "乙市")
    family_move_in(a.clerk)
    family_move_in(a.clerk)
    hb = b.token(b.register(["residents.changed"]))
    # b's cursor 0 gives b's own (empty) stream; a cursor "of a" (2) is no position of b's
    # feed: refused (410) with the advice to load 全件 again, never data of a
    assert b.pull(hb)["changes"] == []
    foreign = town_get(b, hb, after=2)
    assert foreign.status_code == 410
    assert foreign.json()["type"] == "urn:kikan:problem:cursor-out-of-range"
    assert "全件から取り直してください" in foreign.json()["detail"]
    single_move_in(b)
    page = b.pull(hb, after=0)
    assert [c["seq"] for c in page["changes"]] == [1]
    ha = a.token(a.register(["residents.changed"]))
    assert [c["seq"] for c in a.pull(ha)["changes"]] == [1, 2]


def test_protected_persons_reach_only_entitled_clients(town: Town) -> None:
    _head, wife, _child = family_move_in(town.clerk)["atena_numbers"]
    end = TODAY + timedelta(days=200)
    town.clerk.ok(
        f"/residents/{wife}/support-measures",
        {
            "start_date": (end - timedelta(days=364)).isoformat(),
            "end_date": end.isoformat(),
            "provisional": False,
            "perpetrators": [{"氏名": "加害 太郎", "生年月日": "昭和60年1月1日", "続柄": "元夫"}],
        },
        status=201,
    )
    plain = town.token(town.register(["residents.changed"]))
    entitled = town.token(town.register(["residents.changed", "support_measure"], name="福祉"))
    seen_plain = town.pull(plain)["changes"]
    seen_entitled = town.pull(entitled)["changes"]
    assert [c["seq"] for c in seen_plain] == [c["seq"] for c in seen_entitled] == [1, 2]
    assert seen_entitled[1]["payload"]["support_measure"] == [wife]
    assert seen_plain[1]["payload"] is None  # only about the protected person: withheld
    # the 転入 before the measure named her, as it was then; nothing after it does
    assert wife not in str(seen_plain[1:])


def test_filter_drops_protected_numbers_from_mixed_events() -> None:
    payload = {"atena_numbers": ["1", "2", "3"], "support_measure": ["2"], "household_numbers": []}
    assert filter_payload("residents.changed", payload, frozenset({"residents.changed"})) == {
        "atena_numbers": ["1", "3"],
        "support_measure": [],
        "household_numbers": [],
    }
    both = frozenset({"residents.changed", "support_measure"})
    assert filter_payload("residents.changed", payload, both) == payload


def test_absolute_token_url_is_an_accepted_audience(town: Town) -> None:
    reg = town.register(["residents.changed"])
    url = "https://testserver/api/v1/linkage/token"
    ok = token_request(town.client, assertion(reg["client_id"], reg["client_secret"], aud=[url]))
    assert ok.status_code == 200, ok.text
    staff_url = "https://testserver/api/v1/auth/token"
    bad = assertion(reg["client_id"], reg["client_secret"], aud=staff_url)
    assert problem(token_request(town.client, bad))["reason"] == "bad_audience"


def test_denials_are_audited_and_expired_tokens_refused(town: Town, db: Database) -> None:
    reg = town.register(["residents.changed"])
    token_request(town.client, assertion(reg["client_id"], "wrong"))
    h = town.token(reg)
    with db.unit_of_work(town.tenant) as uow:
        denials = uow.session.scalars(
            select(AuditRecordRow).where(
                AuditRecordRow.actor == reg["client_id"], AuditRecordRow.outcome == "denied"
            )
        ).all()
        assert [d.detail["reason"] for d in denials] == ["bad_signature"]
        for row in uow.session.scalars(select(LinkageTokenRow)):
            row.expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    body = problem(town.client.get("/api/v1/linkage/changes", headers=h))
    assert body["type"] == "urn:kikan:problem:invalid-token"


def test_full_providers_are_registered_by_name() -> None:
    with pytest.raises(ValueError, match="unknown data group"):
        service.register_full_provider(
            "nothing", lambda uow, *, after, limit: [], records=lambda uow, keys: [], resource="x"
        )
    from kikan.modules import register_linkage_providers

    register_linkage_providers()
    group = service.full_provider("residents.changed")
    assert group is not None and service.group_for_resource("residents") is group
    assert service.group_for_resource("nothing") is None


def test_client_ids_never_look_like_a_my_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client id the audit log would mask (団体コード + 6 digits = a valid 12-digit My Number)
    is drawn again, so every audit record keeps naming its client."""
    from kikan.linkage import service
    from kikan.platform.crypto import redact_my_numbers
    from kikan.platform.ids import my_number_check_digit

    tenant = "992011"
    body = tenant + "12345"
    clash = body + str(my_number_check_digit(body))  # 12 digits, valid check digit
    draws = iter([clash[6:] + "abcdef0123456789abcd", "abcdef0123456789abcdef0123"])
    monkeypatch.setattr(service.secrets, "token_hex", lambda _n: next(draws))
    assert (
        redact_my_numbers(tenant + clash[6:] + "abcdef0123456789abcd")
        != tenant + clash[6:] + "abcdef0123456789abcd"
    )
    client_id = service.new_client_id(tenant)
    assert client_id == tenant + "abcdef0123456789abcdef0123"
    assert redact_my_numbers(client_id) == client_id


def _forged(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: Any) -> str:
    """A JWT built without the library, so any header (alg none, HS512 …) can be tried."""
    import hmac as _hmac
    import json as _json

    from kikan.linkage.domain import b64url

    head = b64url(_json.dumps(header).encode())
    body = b64url(_json.dumps(claims).encode())
    sig = _hmac.new(key, f"{head}.{body}".encode(), digest).digest() if digest else b""
    return f"{head}.{body}.{b64url(sig)}"


def test_only_hs256_and_every_claim_rule_is_enforced(town: Town, db: Database) -> None:
    """Algorithm pinning and claim checks (done by joserfc): `none`, HS512 and RS256 headers are
    refused, a future iat and missing exp/jti/aud too — each audited with its reason."""
    import hashlib
    import time
    import uuid

    reg = town.register(["residents.changed"])
    cid, secret = reg["client_id"], reg["client_secret"]
    now = int(time.time())

    def claims(**over: Any) -> dict[str, Any]:
        base = {
            "iss": cid,
            "sub": cid,
            "aud": "/api/v1/linkage/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        }
        base.update(over)
        return {k: v for k, v in base.items() if v is not None}

    key = secret.encode()
    cases = {
        "none": (_forged({"alg": "none", "typ": "JWT"}, claims(), key, None), "unsupported_alg"),
        "NONE": (_forged({"alg": "None"}, claims(), key, None), "unsupported_alg"),
        "hs512": (_forged({"alg": "HS512"}, claims(), key, hashlib.sha512), "unsupported_alg"),
        "rs256": (_forged({"alg": "RS256"}, claims(), key, hashlib.sha256), "unsupported_alg"),
        "iat_future": (assertion(cid, secret, iat=now + 3600), "bad_iat"),
        "no_exp": (_forged({"alg": "HS256"}, claims(exp=None), key, hashlib.sha256), "no_exp"),
        "bool_exp": (_forged({"alg": "HS256"}, claims(exp=True), key, hashlib.sha256), "no_exp"),
        "no_jti": (_forged({"alg": "HS256"}, claims(jti=None), key, hashlib.sha256), "no_jti"),
        "long_jti": (assertion(cid, secret, jti="j" * 129), "no_jti"),
        "no_aud": (
            _forged({"alg": "HS256"}, claims(aud=None), key, hashlib.sha256),
            "bad_audience",
        ),
        "nbf_future": (assertion(cid, secret, nbf=now + 3600), "not_yet_valid"),
        "garbage": ("a.b", "malformed"),
        "not_json": ("eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2ln", "malformed"),
    }
    for name, (signed, reason) in cases.items():
        body = problem(token_request(town.client, signed))
        assert body["type"] == "urn:kikan:problem:invalid-client", name
        assert body["reason"] == reason, name
    # a correct HS256 assertion made by hand (no library) is still accepted: the contract holds
    good = _forged({"alg": "HS256", "typ": "JWT"}, claims(), key, hashlib.sha256)
    assert token_request(town.client, good).status_code == 200
    with db.unit_of_work(town.tenant) as uow:
        reasons = {
            d.detail["reason"]
            for d in uow.session.scalars(
                select(AuditRecordRow).where(
                    AuditRecordRow.actor == cid, AuditRecordRow.outcome == "denied"
                )
            )
        }
    assert {"bad_iat", "no_exp", "no_jti", "bad_audience", "not_yet_valid"} <= reasons
