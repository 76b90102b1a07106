"""Staff and operator authentication through the HTTP API, as a client program would use it."""

from __future__ import annotations

import math
import random
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from kikan.platform.db import utcnow
from kikan.platform.settings import Settings
from kikan.platform.store import AuditRecordRow, AuthSessionRow
from kikan.platform.uow import Database, Scope
from tests.conftest import PASSWORD, bearer, create_staff, create_tenant

PROBLEM = "application/problem+json"


def _denials(db: Database, scope: str) -> list[dict[str, object]]:
    with db.unit_of_work(scope) as uow:
        rows = uow.session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.outcome == "denied")
            .order_by(AuditRecordRow.seq)
        ).all()
        return [{"actor": r.actor, "function": r.function, **r.detail} for r in rows]


def test_token_login_and_me(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    headers = bearer(client, t, "madoguchi")
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {
        "kind": "staff",
        "login_id": "madoguchi",
        "display_name": "madoguchi 職員",
        "tenant": t,
        "roles": ["counter"],
        "role_labels": ["窓口"],
    }
    with db.unit_of_work(t) as uow:
        logins = uow.session.scalars(
            select(AuditRecordRow.action).where(AuditRecordRow.action == "login")
        ).all()
    assert logins == ["login"]


def test_wrong_password_is_a_japanese_problem_and_audited(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    r = client.post(
        "/api/v1/auth/token",
        json={"tenant": t, "login_id": "madoguchi", "password": "wrong-password"},
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"] == "urn:kikan:problem:login-failed"
    assert body["detail"] == "ログインIDまたはパスワードが正しくありません。"
    assert "wrong-password" not in r.text
    assert _denials(db, t)[-1]["reason"] == "wrong_password"
    # an unknown login id gets the same answer (no account enumeration) and is audited too
    r2 = client.post(
        "/api/v1/auth/token", json={"tenant": t, "login_id": "nobody", "password": "x"}
    )
    assert r2.status_code == 401 and r2.json()["detail"] == body["detail"]
    assert _denials(db, t)[-1] == {
        "actor": "nobody",
        "function": "ログイン",
        "reason": "unknown_or_inactive_account",
    }


def _token(client: TestClient, tenant: str, login_id: str, password: str) -> Response:
    return client.post(
        "/api/v1/auth/token", json={"tenant": tenant, "login_id": login_id, "password": password}
    )


def test_repeated_failures_throttle_unknown_and_existing_ids_alike(
    client: TestClient, db: Database
) -> None:
    """No 423 that tells existing ids from unknown ones: both get 401 ×5, then the same 429."""
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    create_staff(db, t, "kanri", ["sysadmin"])
    admin = bearer(client, t, "kanri")
    blocked_at: list[float] = []
    for login_id in ("madoguchi", "nobody"):
        statuses = [_token(client, t, login_id, "bad").status_code for _ in range(5)]
        blocked_at.append(time.monotonic())
        assert statuses == [401] * 5
    known = _token(client, t, "madoguchi", PASSWORD)  # even the right password must wait
    unknown = _token(client, t, "nobody", PASSWORD)
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert known.json()["type"] == "urn:kikan:problem:login-throttled"
    assert known.headers["content-type"] == PROBLEM
    assert 1 <= int(known.headers["Retry-After"]) <= 30
    # each block runs from its own 5th failure: the two differ by the time between those (five
    # password checks; seconds on a loaded machine), never by whether the id exists
    apart = math.ceil(blocked_at[1] - blocked_at[0])
    assert abs(int(known.headers["Retry-After"]) - int(unknown.headers["Retry-After"])) <= 1 + apart
    # the backoff is audited once per block, not once per refused call
    throttled = [d for d in _denials(db, t) if d["reason"] == "throttled"]
    assert [d["actor"] for d in throttled] == ["madoguchi", "nobody"]
    for _ in range(3):
        assert _token(client, t, "nobody", "bad").status_code == 429
    assert len([d for d in _denials(db, t) if d["reason"] == "throttled"]) == 2
    staff = {s["login_id"]: s for s in client.get("/api/v1/staff", headers=admin).json()}
    assert staff["madoguchi"]["locked"] is True and staff["kanri"]["locked"] is False
    # ロック解除 still works: it forgets the account's failures
    assert client.post("/api/v1/staff/madoguchi/unlock", headers=admin).status_code == 204
    assert bearer(client, t, "madoguchi")


def test_throttling_does_not_end_live_sessions(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    live = bearer(client, t, "madoguchi")
    for _ in range(6):
        _token(client, t, "madoguchi", "bad")
    assert _token(client, t, "madoguchi", PASSWORD).status_code == 429
    assert client.get("/api/v1/auth/me", headers=live).status_code == 200


def test_backoff_doubles_and_waited_out_block_gives_no_fresh_allowance(
    client: TestClient, db: Database
) -> None:
    from kikan.platform.store import AuthThrottleRow

    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])

    def wait_out() -> None:
        with db.unit_of_work(t) as uow:
            uow.session.execute(
                update(AuthThrottleRow).values(blocked_until=utcnow() - timedelta(seconds=1))
            )
            uow.commit()

    for _ in range(5):
        _token(client, t, "madoguchi", "bad")
    waits = []
    for _ in range(3):
        wait_out()
        assert _token(client, t, "madoguchi", "bad").status_code == 401
        waits.append(int(_token(client, t, "madoguchi", "bad").headers["Retry-After"]))
    assert waits[0] > 30 and waits == sorted(waits) and waits[2] >= 3 * waits[0]
    assert waits[2] <= 15 * 60  # KIKAN_LOCKOUT_MINUTES caps the wait


def test_failures_per_client_address_are_throttled(db: Database, settings: Settings) -> None:
    """Password spraying (one guess per account) is held back by the address's count."""
    from kikan.app import create_app

    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    app = create_app(settings.model_copy(update={"login_address_threshold": 3}), db)
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.7"
    with TestClient(app, base_url="https://testserver", client=(address, 4000)) as c:
        assert [_token(c, t, f"guess{i}", "bad").status_code for i in range(3)] == [401] * 3
        r = _token(c, t, "madoguchi", PASSWORD)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    with TestClient(app, base_url="https://testserver", client=("10.255.0.1", 4000)) as other:
        assert _token(other, t, "madoguchi", PASSWORD).status_code == 200
    reasons = [d for d in _denials(db, t) if d["reason"] == "throttled"]
    assert reasons and reasons[-1]["key"] == "login-address"


def test_expired_token_is_refused_and_audited(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    headers = bearer(client, t, "madoguchi")
    with db.unit_of_work(t) as uow:
        uow.session.execute(
            update(AuthSessionRow).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        uow.commit()
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["type"] == "urn:kikan:problem:session-expired"
    assert r.json()["detail"] == "セッションの有効期限が切れました。もう一度ログインしてください。"
    assert _denials(db, t)[-1]["reason"] == "expired_session"


def test_forged_or_foreign_tokens_are_refused(client: TestClient, db: Database) -> None:
    a, b = create_tenant(db), create_tenant(db)
    create_staff(db, a, "alice", ["counter"])
    token = bearer(client, a, "alice")["Authorization"].split(" ")[1]
    secret = token.split(".", 1)[1]
    # the same secret presented for another tenant is looked up in that tenant only: not found
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {b}.{secret}"})
    assert r.status_code == 401
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": "Bearer garbage"}).status_code
        == 401
    )
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/auth/me").json()["detail"] == "ログインしてください。"


def test_cookie_session_requires_csrf_for_changes(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "kanri", ["sysadmin"])
    r = client.post(
        "/api/v1/auth/login", json={"tenant": t, "login_id": "kanri", "password": PASSWORD}
    )
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert (
        "HttpOnly" in cookie
        and "Secure" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    csrf = r.json()["csrf_token"]
    assert client.get("/api/v1/staff").status_code == 200  # safe method: cookie alone is enough
    new = {
        "login_id": "new-clerk",
        "display_name": "新人 職員",
        "roles": ["counter"],
        "password": "Brand-New-2026",
    }
    no_csrf = client.post("/api/v1/staff", json=new)
    assert no_csrf.status_code == 403
    assert no_csrf.json()["type"] == "urn:kikan:problem:csrf-failed"
    assert _denials(db, t)[-1]["reason"] == "csrf"
    ok = client.post("/api/v1/staff", json=new, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/staff").status_code == 401


def test_missing_role_is_forbidden_and_audited(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    headers = bearer(client, t, "madoguchi")
    r = client.get("/api/v1/audit/verify", headers=headers)
    assert r.status_code == 403
    assert r.json()["detail"] == "「アクセスログ検証」には監査・システム管理の権限が必要です。"
    assert _denials(db, t)[-1]["reason"] == "missing_role"
    r = client.post(
        "/api/v1/host/tenants", json={"code": "131016", "name": "千代田区"}, headers=headers
    )
    assert r.status_code == 403


def test_unknown_and_invalid_tenant_codes(client: TestClient, db: Database) -> None:
    bad = client.post(
        "/api/v1/auth/token", json={"tenant": "131017", "login_id": "a", "password": "b"}
    )
    assert bad.status_code == 422
    assert bad.json()["item"] == "団体コード"
    assert "検査数字" in bad.json()["detail"]
    unknown = client.post(
        "/api/v1/auth/token", json={"tenant": "011002", "login_id": "a", "password": "b"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "urn:kikan:problem:tenant-not-found"
    assert unknown.json()["detail"] == "指定された団体コードの団体は登録されていません。"
    with db.unit_of_work(Scope.host()) as uow:
        host_denials = uow.session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.outcome == "denied")
            .order_by(AuditRecordRow.seq.desc())
        ).first()
        assert host_denials is not None and host_denials.detail["tenant"] == "011002"


def test_operator_creates_tenant_and_auditor_verifies_chain(
    client: TestClient, db: Database
) -> None:
    from kikan.platform import auth
    from tests.conftest import TEST_ACTOR

    login = f"op{create_tenant(db)}"
    with db.unit_of_work(Scope.host()) as uow:
        auth.create_operator(
            uow, TEST_ACTOR, login_id=login, display_name="運用", password=PASSWORD
        )
        uow.commit()
    op = bearer(client, None, login)
    code = create_tenant.__globals__["fresh_tenant_code"]()
    r = client.post("/api/v1/host/tenants", json={"code": code, "name": "新設町"}, headers=op)
    assert r.status_code == 201, r.text
    assert r.json()["mayor_title"] == "町長"
    dup = client.post("/api/v1/host/tenants", json={"code": code, "name": "新設町"}, headers=op)
    assert dup.status_code == 409
    assert dup.json()["detail"] == "この団体コードは既に登録されています。"
    # an operator is not a tenant's staff member
    assert client.get("/api/v1/tenant", headers=op).status_code == 403
    create_staff(db, code, "kansa", ["auditor"])
    auditor = bearer(client, code, "kansa")
    v = client.get("/api/v1/audit/verify", headers=auditor)
    assert v.status_code == 200 and v.json()["ok"] is True
    records = client.get("/api/v1/audit/records", headers=auditor, params={"limit": 5}).json()
    assert records[0]["action"] == "audit.verify"
    assert [r["seq"] for r in records] == sorted((r["seq"] for r in records), reverse=True)


def test_password_policy_and_change(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    h = bearer(client, t, "madoguchi")
    weak = client.post(
        "/api/v1/auth/password",
        headers=h,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422 and weak.json()["item"] == "パスワード"
    wrong = client.post(
        "/api/v1/auth/password",
        headers=h,
        json={"current_password": "nope", "new_password": "Another-Pass-2026"},
    )
    assert wrong.status_code == 422 and wrong.json()["item"] == "現在のパスワード"
    ok = client.post(
        "/api/v1/auth/password",
        headers=h,
        json={"current_password": PASSWORD, "new_password": "Another-Pass-2026"},
    )
    assert ok.status_code == 204
    assert bearer(client, t, "madoguchi", "Another-Pass-2026")


def test_account_outside_its_validity_period_cannot_log_in(
    client: TestClient, db: Database
) -> None:
    from kikan.platform.store import StaffAccountRow

    t = create_tenant(db)
    create_staff(db, t, "rinji", ["counter"])
    headers = bearer(client, t, "rinji")
    with db.unit_of_work(t) as uow:
        uow.session.execute(
            update(StaffAccountRow).values(valid_until=utcnow() - timedelta(minutes=1))
        )
        uow.commit()
    # an open session ends with the period …
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    # … and a new login is refused like an unknown account
    r = client.post(
        "/api/v1/auth/token", json={"tenant": t, "login_id": "rinji", "password": PASSWORD}
    )
    assert r.status_code == 401
    assert _denials(db, t)[-1]["reason"] == "unknown_or_inactive_account"


def test_own_password_change_ends_the_other_sessions(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    mine, other = bearer(client, t, "madoguchi"), bearer(client, t, "madoguchi")
    cookie = client.post(
        "/api/v1/auth/login", json={"tenant": t, "login_id": "madoguchi", "password": PASSWORD}
    )
    assert cookie.status_code == 200
    client.cookies.clear()
    r = client.post(
        "/api/v1/auth/password",
        headers=mine,
        json={"current_password": PASSWORD, "new_password": "Another-Pass-2026"},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=mine).status_code == 200
    assert client.get("/api/v1/auth/me", headers=other).status_code == 401
    with db.unit_of_work(t) as uow:
        live = uow.session.scalars(
            select(AuthSessionRow).where(AuthSessionRow.revoked_at.is_(None))
        ).all()
    assert len(live) == 1  # the API token and the UI session are gone, the changer's stays


def test_admin_password_reset_ends_every_session(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    create_staff(db, t, "kanri", ["sysadmin"])
    victim = bearer(client, t, "madoguchi")
    admin = bearer(client, t, "kanri")
    r = client.post(
        "/api/v1/staff/madoguchi/password",
        headers=admin,
        json={"new_password": "Another-Pass-2026"},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=victim).status_code == 401
    assert client.get("/api/v1/auth/me", headers=admin).status_code == 200


def test_wrong_current_password_is_throttled_like_a_login(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    h = bearer(client, t, "madoguchi")

    def change(current: str) -> Response:
        return client.post(
            "/api/v1/auth/password",
            headers=h,
            json={"current_password": current, "new_password": "Another-Pass-2026"},
        )

    assert [change("nope").status_code for _ in range(5)] == [422] * 5
    r = change(PASSWORD)
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert r.json()["title"] == "要求が多すぎます。"
    reasons = [d["reason"] for d in _denials(db, t) if d["function"] == "パスワード変更"]
    assert reasons.count("wrong_password") == 5 and "throttled" in reasons
    # and the same account's logins wait too
    assert _token(client, t, "madoguchi", PASSWORD).status_code == 429


def test_parallel_guesses_on_one_account_are_counted_one_by_one(
    client: TestClient, db: Database
) -> None:
    """A burst of simultaneous wrong passwords cannot all pass the check before the first
    failure is recorded: exactly the free allowance gets a password check, the rest wait."""
    from concurrent.futures import ThreadPoolExecutor

    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: _token(client, t, "madoguchi", "bad").status_code, range(12))
        )
    assert sorted(statuses) == [401] * 5 + [429] * 7
    checked = [d for d in _denials(db, t) if d["reason"] == "wrong_password"]
    assert len(checked) == 5


def test_unknown_and_existing_ids_cost_the_same_password_work(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same timing: one Argon2 verification for an unknown id as for a wrong password, and
    none for either once they must wait (the refusal comes before any hashing)."""
    from kikan.platform import auth

    real = auth._hasher
    calls: list[str] = []

    class Counting:
        def verify(self, hashed: str, password: str) -> bool:
            calls.append(hashed)
            return real.verify(hashed, password)

        def check_needs_rehash(self, hashed: str) -> bool:
            return real.check_needs_rehash(hashed)

        def hash(self, password: str) -> str:
            return real.hash(password)

    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    monkeypatch.setattr(auth, "_hasher", Counting())
    for login_id in ("madoguchi", "nobody"):
        before = len(calls)
        for _ in range(5):
            assert _token(client, t, login_id, "bad").status_code == 401
        assert len(calls) - before == 5
        before = len(calls)
        assert _token(client, t, login_id, "bad").status_code == 429
        assert len(calls) == before


def test_throttled_operations_document_429(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, method in (
        ("/api/v1/auth/token", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/certificates/{issue_number}/verify", "get"),
        ("/api/v1/residents/{atena_number}/my-number", "post"),
    ):
        documented = paths[path][method]["responses"]["429"]
        assert "Retry-After" in documented["headers"], path
