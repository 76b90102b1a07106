"""The shared issuance register: 発行番号 format and gap-free numbering, record + audit, verify."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.platform import audit, issuance
from kikan.platform.store import AuditRecordRow, CertificateIssuanceRow
from kikan.platform.uow import Database
from tests.conftest import create_tenant

ACTOR = audit.Actor(kind="staff", id="madoguchi", terminal="T1")


def _record(db: Database, tenant: str, pdf: bytes = b"%PDF-1 test", *, commit: bool = True) -> str:
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


def test_verify_answers_without_personal_data(db: Database) -> None:
    t = create_tenant(db, "照合市")
    pdf = b"%PDF certificate"
    number = _record(db, t, pdf)
    ok = issuance.verify(db, number)
    assert ok.genuine and ok.status == "genuine"
    assert ok.tenant_name == "照合市" and ok.form_id == "0010001" and ok.pages == 1
    assert ok.sha256_matches is None
    same = issuance.verify(db, number, hashlib.sha256(pdf).hexdigest())
    assert same.genuine and same.sha256_matches is True
    other = issuance.verify(db, number, hashlib.sha256(b"forged").hexdigest())
    assert not other.genuine and other.status == "altered" and other.sha256_matches is False
    assert issuance.verify(db, f"{t}-2026-0009999").status == "unknown"
    assert issuance.verify(db, "12345").status == "malformed"
    assert issuance.verify(db, "131015-2026-0000001").status == "malformed"  # bad check digit
    text = repr(ok)
    assert "000000018" not in text and "本人" not in text
    with db.unit_of_work(t) as uow:
        issuance.void(uow, ACTOR, number, "汚損のため再発行")
        uow.commit()
    voided = issuance.verify(db, number)
    assert voided.status == "voided" and not voided.genuine


def test_verify_endpoint_needs_no_login_and_is_audited(client: TestClient, db: Database) -> None:
    t = create_tenant(db)
    pdf = b"%PDF api"
    number = _record(db, t, pdf)
    r = client.get(f"/api/v1/certificates/{number}/verify")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["genuine"] is True and body["form_name"] == "住民票の写し（世帯連記式）"
    assert "subject_refs" not in body and "requester_name" not in body
    r = client.get(
        f"/api/v1/certificates/{number}/verify",
        params={"sha256": hashlib.sha256(b"x").hexdigest()},
    )
    assert r.status_code == 200 and r.json()["status"] == "altered"
    r = client.get("/api/v1/certificates/not-a-number/verify")
    assert r.status_code == 200 and r.json()["status"] == "malformed"
    r = client.get("/api/v1/certificates/992011-2026-0000001/verify", params={"sha256": "zz"})
    assert r.status_code == 200 and r.json()["status"] == "malformed"
    with db.unit_of_work(t) as uow:
        checks = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.function == "証明書の真正性確認")
        ).all()
        assert len(checks) == 2
        assert {c.detail["status"] for c in checks} == {"genuine", "altered"}
        assert all(c.actor_kind == "public" for c in checks)
    with db.unit_of_work("host") as uow:
        host = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.function == "証明書の真正性確認")
        ).all()
        assert {c.detail["status"] for c in host} >= {"malformed"}


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
    assert client.get(f"/api/v1/certificates/{number}/verify").json()["status"] == "voided"
    with db.unit_of_work(t) as uow:
        row = uow.session.scalars(select(CertificateIssuanceRow)).one()
        assert (row.status, row.void_reason, row.terminal) == ("voided", "誤交付のため回収", "T1")
