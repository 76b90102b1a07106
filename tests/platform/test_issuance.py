"""The shared issuance register: 発行番号 format and gap-free numbering, record + audit, verify."""

from __future__ import annotations

import hashlib
import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.platform import audit, issuance
from kikan.platform.settings import Settings
from kikan.platform.store import (
    AuditRecordRow,
    CertificateIssuanceRow,
    CertificateVerificationCountRow,
)
from kikan.platform.uow import Database
from tests.conftest import create_tenant

ACTOR = audit.Actor(kind="staff", id="madoguchi", terminal="T1")


def _record(
    db: Database,
    tenant: str,
    pdf: bytes = b"%PDF-1 test",
    *,
    commit: bool = True,
    check_code: str | None = None,
) -> str:
    with db.unit_of_work(tenant) as uow:
        number = issuance.next_issue_number(uow, 2026)
        issuance.record(
            uow,
            ACTOR,
            issue_number=number,
            form_id="0010001",
            module="residents",
            subject_refs=["000000018"],
            requester_kind="self",
            requester_name="本人",
            purpose="",
            items=["世帯主・続柄"],
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            pages=1,
            check_code=check_code,
        )
        if commit:
            uow.commit()
    return number


def test_numbers_are_per_tenant_per_year_and_gap_free(db: Database) -> None:
    t = create_tenant(db)
    first = _record(db, t)
    assert first == f"{t}-2026-0000001"
    _record(db, t, commit=False)  # rolled back: its number is handed out again
    assert _record(db, t) == f"{t}-2026-0000002"
    with db.unit_of_work(t) as uow:
        assert issuance.next_issue_number(uow, 2027) == f"{t}-2027-0000001"
    other = create_tenant(db)
    assert _record(db, other) == f"{other}-2026-0000001"
    with db.unit_of_work(t) as uow:
        rows = uow.session.scalars(select(CertificateIssuanceRow)).all()
        assert sorted(r.issue_number for r in rows) == [first, f"{t}-2026-0000002"]
        assert rows[0].form_name == "住民票の写し（世帯連記式）"


def test_record_appends_a_print_audit_record_with_the_digest(db: Database) -> None:
    t = create_tenant(db)
    number = _record(db, t, b"pdf-bytes")
    with db.unit_of_work(t) as uow:
        rec = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.action == "print")
        ).one()
        assert rec.category == "print"
        assert rec.subjects == ["000000018"]
        assert rec.detail["issue_number"] == number
        assert rec.detail["pdf_sha256"] == hashlib.sha256(b"pdf-bytes").hexdigest()
        assert audit.verify_chain(uow).ok


def test_record_refuses_another_tenants_number(db: Database) -> None:
    t = create_tenant(db)
    with db.unit_of_work(t) as uow, pytest.raises(ValueError):
        issuance.record(
            uow, ACTOR, issue_number="992011-2026-0000001", form_id="0010001",
            module="residents", subject_refs=["1"], requester_kind="self", requester_name="",
            purpose="", items=[], pdf_sha256="0" * 64, pages=1,
        )  # fmt: skip


def test_verify_needs_what_only_the_holder_has(db: Database) -> None:
    """The 発行番号 is sequential: alone it proves nothing, and a wrong 照合番号 or digest gets
    the same answer as a number never issued — without the municipality's name."""
    t = create_tenant(db, "照合市")
    pdf = b"%PDF certificate"
    code = issuance.new_check_code()
    number = _record(db, t, pdf, check_code=code)
    bare = issuance.verify(db, number)
    assert bare.status == "malformed" and not bare.genuine and bare.tenant_name is None
    ok = issuance.verify(db, number, check_code=code)
    assert ok.genuine and ok.status == "genuine"
    assert ok.tenant_name == "照合市" and ok.form_id == "0010001" and ok.pages == 1
    assert ok.sha256_matches is None
    typed = "ｰ".join([code.lower()[:5], code.lower()[6:]])  # full-width, lower case
    assert issuance.verify(db, number, check_code=typed.replace("ｰ", " ")).genuine
    same = issuance.verify(db, number, hashlib.sha256(pdf).hexdigest())
    assert same.genuine and same.sha256_matches is True
    other_code = code[:-1] + ("A" if code[-1] != "A" else "B")
    wrong = issuance.verify(db, number, check_code=other_code)
    never = issuance.verify(db, f"{t}-2026-0009999", check_code=code)
    foreign = issuance.verify(db, number, hashlib.sha256(b"forged").hexdigest())
    for answer in (wrong, never, foreign):
        assert answer.status == "unknown" and not answer.genuine
        assert answer.tenant_name is None and answer.tenant_code is None
        assert answer.message == wrong.message and "照合市" not in answer.message
    altered = issuance.verify(db, number, hashlib.sha256(b"forged").hexdigest(), code)
    assert altered.status == "altered" and altered.sha256_matches is False
    assert issuance.verify(db, "12345", check_code=code).status == "malformed"
    bad_digit = issuance.verify(db, "131015-2026-0000001", check_code=code)
    assert bad_digit.status == "malformed"
    assert issuance.verify(db, number, check_code="0O1I").status == "malformed"
    text = repr(ok)
    assert "000000018" not in text and "本人" not in text
    with db.unit_of_work(t) as uow:
        issuance.void(uow, ACTOR, number, "汚損のため再発行")
        uow.commit()
    assert issuance.verify(db, number, check_code=code).status == "voided"
    assert issuance.verify(db, number, check_code=other_code).status == "unknown"


def test_verify_endpoint_needs_no_login_and_does_not_grow_the_chain(
    client: TestClient, db: Database
) -> None:
    t = create_tenant(db)
    pdf = b"%PDF api"
    code = issuance.new_check_code()
    number = _record(db, t, pdf, check_code=code)
    with db.unit_of_work(t) as uow:
        chain_before = audit.verify_chain(uow).head_seq
    r = client.get(f"/api/v1/certificates/{number}/verify", params={"check_code": code})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["genuine"] is True and body["form_name"] == "住民票の写し（世帯連記式）"
    assert "subject_refs" not in body and "requester_name" not in body
    r = client.get(f"/api/v1/certificates/{number}/verify")
    assert r.status_code == 200 and r.json()["status"] == "malformed"
    r = client.get(
        f"/api/v1/certificates/{number}/verify",
        params={"check_code": code, "sha256": hashlib.sha256(b"x").hexdigest()},
    )
    assert r.status_code == 200 and r.json()["status"] == "altered"
    r = client.get(f"/api/v1/certificates/{number}/verify", params={"check_code": "AAAAA-AAAAA"})
    assert r.status_code == 200 and r.json()["status"] == "unknown"
    assert r.json()["tenant_name"] is None
    r = client.get("/api/v1/certificates/not-a-number/verify", params={"check_code": code})
    assert r.status_code == 200 and r.json()["status"] == "malformed"
    with db.unit_of_work(t) as uow:
        assert audit.verify_chain(uow).head_seq == chain_before  # counted, not chained
        counts = {
            c.status: c.count for c in uow.session.scalars(select(CertificateVerificationCountRow))
        }
    assert counts == {"genuine": 1, "malformed": 1, "altered": 1, "unknown": 1}
    with db.unit_of_work("host") as uow:
        host = uow.session.scalars(select(CertificateVerificationCountRow)).all()
        assert {c.status for c in host} >= {"malformed"}


def test_verify_endpoint_is_rate_limited_per_client_address(
    db: Database, settings: Settings
) -> None:
    from kikan.app import create_app

    t = create_tenant(db)
    number = _record(db, t, check_code="ABCDE-FGHJK")
    app = create_app(settings.model_copy(update={"verify_per_minute": 3}), db)
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.9"
    url = f"/api/v1/certificates/{number}/verify"
    with TestClient(app, base_url="https://testserver", client=(address, 4000)) as c:
        answers = [c.get(url, params={"check_code": f"AAAAA-AAAA{i}"}) for i in range(2, 6)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        limited = answers[-1]
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["type"] == "urn:kikan:problem:verify-throttled"
        assert c.get(url, params={"check_code": "ABCDE-FGHJK"}).status_code == 429
    with TestClient(app, base_url="https://testserver", client=("10.254.0.2", 4000)) as other:
        assert other.get(url, params={"check_code": "ABCDE-FGHJK"}).json()["genuine"] is True


def test_void_endpoint_records_the_disposal(client: TestClient, db: Database) -> None:
    from tests.conftest import bearer, create_staff

    t = create_tenant(db)
    number = _record(db, t)
    create_staff(db, t, "madoguchi", ["counter"])
    create_staff(db, t, "shinsa", ["counter", "approver"])
    body = {"reason": "誤交付のため回収"}
    r = client.post(
        f"/api/v1/certificates/{number}/void", json=body, headers=bearer(client, t, "madoguchi")
    )
    assert r.status_code == 403
    approver = bearer(client, t, "shinsa")
    r = client.post(f"/api/v1/certificates/{number}/void", json=body, headers=approver)
    assert r.status_code == 200 and r.json()["status"] == "voided"
    again = client.post(f"/api/v1/certificates/{number}/void", json=body, headers=approver)
    assert again.status_code == 409
    missing = client.post(
        f"/api/v1/certificates/{t}-2026-0000099/void", json=body, headers=approver
    )
    assert missing.status_code == 404
    check = client.get(
        f"/api/v1/certificates/{number}/verify",
        params={"sha256": hashlib.sha256(b"%PDF-1 test").hexdigest()},
    )
    assert check.json()["status"] == "voided"
    with db.unit_of_work(t) as uow:
        row = uow.session.scalars(select(CertificateIssuanceRow)).one()
        assert (row.status, row.void_reason, row.terminal) == ("voided", "誤交付のため回収", "T1")
