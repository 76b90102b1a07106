"""印鑑登録証明書 over the API: only against a card, the right person, the shared register."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from kikan.platform.store import AuditRecordRow, CertificateIssuanceRow
from kikan.platform.uow import Database
from kikan.seal import domain
from tests.seal.conftest import png
from tests.seal.test_registrations import ADULT, HIDDEN, SECOND, Counter, count, town

__all__ = ["town"]  # the fixture, shared with test_registrations

YEAR = datetime.now(ZoneInfo("Asia/Tokyo")).year


def certificate(c: Counter, card: str, **kw: Any) -> Any:
    body = {"card_number": card, "requester_kind": "本人", "requester_name": "青木 太郎", **kw}
    return c.post("/certificates", body)


def test_certificate_against_the_card(
    client: TestClient, db: Database, town: tuple[str, Counter]
) -> None:
    tenant, c = town
    reg = c.register().json()
    r = certificate(c, reg["card_number"], purpose="不動産登記")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    number = r.headers["X-Kikan-Issue-Number"]
    assert number == f"{tenant}-{YEAR}-0000001"
    digest = hashlib.sha256(r.content).hexdigest()
    assert r.headers["X-Kikan-PDF-SHA256"] == digest
    page = PdfReader(io.BytesIO(r.content)).pages[0]
    text = page.extract_text()
    assert "印鑑登録証明書" in text and "青木" in text and "太郎" in text and number in text
    # the registered 印影, pixel for pixel, drawn by the forms engine
    with Image.open(io.BytesIO(png())) as registered:
        wanted = registered.convert("RGB").tobytes()
    drawn = [i.image.convert("RGB").tobytes() for i in page.images if i.image is not None]
    assert wanted in drawn
    check = client.get(f"/api/v1/certificates/{number}/verify", params={"sha256": digest})
    assert check.status_code == 200 and check.json()["status"] == "genuine"
    assert check.json()["form_id"] == "0020001"
    printed = re.search(r"照合番号\s*([A-Z0-9]{5}-[A-Z0-9]{5})", text)
    assert printed is not None  # the holder of the paper checks with the printed 照合番号
    by_code = client.get(
        f"/api/v1/certificates/{number}/verify", params={"check_code": printed.group(1)}
    )
    assert by_code.json()["status"] == "genuine" and by_code.json()["form_id"] == "0020001"
    with db.unit_of_work(tenant) as uow:
        row = uow.session.scalars(select(CertificateIssuanceRow)).one()
        assert (row.module, row.subject_refs, row.requester_kind) == ("seal", [ADULT], "self")
        prints = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.category == "print")
        ).all()
        assert [(p.subjects, p.detail["issue_number"]) for p in prints] == [([ADULT], number)]
    second = certificate(c, reg["card_number"], requester_kind="代理人")
    assert second.headers["X-Kikan-Issue-Number"] == f"{tenant}-{YEAR}-0000002"


def test_refused_cards_issue_nothing(db: Database, town: tuple[str, Counter]) -> None:
    tenant, c = town
    reg = c.register().json()
    assert c.post(f"/registrations/{reg['registration_number']}/lost").status_code == 200
    lost = certificate(c, reg["card_number"])
    assert lost.status_code == 409 and "亡失" in lost.json()["detail"]
    # a business refusal, not a race: its title must not send the clerk to try again
    assert lost.json()["title"] == "現在の状態では処理できません。"
    assert lost.json()["type"] == "urn:kikan:problem:seal-card-lost"
    unknown = certificate(c, domain.card_number(4242))
    assert unknown.status_code == 404
    assert certificate(c, "12-34").status_code == 422
    assert certificate(c, reg["card_number"], requester_kind="第三者").status_code == 422
    assert count(db, tenant, CertificateIssuanceRow) == 0
    # no number was used up: the next certificate is the year's first
    new = c.register(seal_text="太郎").json()
    ok = certificate(c, new["card_number"])
    assert ok.headers["X-Kikan-Issue-Number"] == f"{tenant}-{YEAR}-0000001"


def test_protected_card_holder_still_gets_the_certificate(town: tuple[str, Counter]) -> None:
    _tenant, c = town
    reg = c.register(HIDDEN, seal_text="花子").json()
    r = certificate(c, reg["card_number"], requester_name="青木 花子")
    assert r.status_code == 200
    assert "花子" in PdfReader(io.BytesIO(r.content)).pages[0].extract_text()


def test_concurrent_certificates_never_mix_persons(db: Database, town: tuple[str, Counter]) -> None:
    """Many requests for two cards at once: each PDF shows its own card's person and number."""
    tenant, c = town
    a = c.register().json()
    b = c.register(SECOND, seal_text="次郎").json()
    results: list[tuple[str, bytes, str]] = []
    lock = threading.Lock()

    def ask(card: str) -> None:
        r = certificate(c, card)
        assert r.status_code == 200, r.text
        with lock:
            results.append((card, r.content, r.headers["X-Kikan-Issue-Number"]))

    threads = [
        threading.Thread(target=ask, args=(card,))
        for card in [a["card_number"], b["card_number"]] * 4
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    numbers = {n for _, _, n in results}
    assert len(numbers) == 8  # no 発行番号 twice
    for card, pdf, number in results:
        text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        own = a if card == a["card_number"] else b
        assert f"氏名 {own['name']}\n" in text and number in text
        assert f"登録番号 {own['registration_number']}\n" in text
    with db.unit_of_work(tenant) as uow:
        n = uow.session.scalar(select(func.count()).select_from(CertificateIssuanceRow))
        assert n == 8
