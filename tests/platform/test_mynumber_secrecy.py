"""Scenario: a My Number passes through the system; it must never appear in clear in any log,
audit record, stored row or error response — only as AES-GCM ciphertext."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from kikan.platform import audit
from kikan.platform.crypto import KeyRing, MyNumber
from kikan.platform.ids import my_number_check_digit
from kikan.platform.logs import configure_logging
from kikan.platform.uow import Database
from tests.conftest import Backend, bearer, create_staff, create_tenant

BODY = "98320567321"
NUMBER = BODY + str(my_number_check_digit(BODY))  # the verified vector 983205673214


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Capture every record of every logger, SQL statements with their parameters included."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    configure_logging("DEBUG")
    sql_logger = logging.getLogger("sqlalchemy.engine")
    sql_logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        sql_logger.setLevel(logging.WARNING)
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_my_number_never_appears_in_clear(
    captured_logs: io.StringIO,
    client: TestClient,
    db: Database,
    admin_db: Database,
    backend: Backend,
    tmp_path: Path,
) -> None:
    t = create_tenant(db)
    create_staff(db, t, "madoguchi", ["counter"])
    headers = bearer(client, t, "madoguchi")
    keyfile = tmp_path / "keys"
    KeyRing.generate_key_file(keyfile, "k1")
    ring = KeyRing.from_config(None, keyfile, None)
    number = MyNumber(NUMBER)
    token = ring.encrypt_my_number(number, context=t)

    log = logging.getLogger("kikan.scenario")
    log.info("received application for %s", number)  # the value type masks itself
    log.info("raw digits slipped into a message: %s", NUMBER)  # redacted by the record factory
    log.debug("grouped as typed by staff: %s", f"{NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}")
    try:
        raise ValueError(f"lookup failed for {NUMBER}")
    except ValueError:
        log.exception("handled error")

    with db.unit_of_work(t) as uow:
        audit.append(
            uow,
            audit.Actor(kind="staff", id="madoguchi", terminal="PC-01"),
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function="個人番号照会",
                subjects=[NUMBER],
                purpose=f"照会 {NUMBER}",
                mynumber_accessed=True,
                detail={"ciphertext": token, "typed": NUMBER},
            ),
        )
        uow.commit()

    responses = [
        client.post(
            "/api/v1/auth/token", json={"tenant": t, "login_id": NUMBER, "password": NUMBER}
        ),
        client.post(
            "/api/v1/auth/token", json={"tenant": t, "login_id": 1, "password": NUMBER * 30}
        ),
        client.get("/api/v1/audit/records", headers=headers),
    ]
    for r in responses:
        assert NUMBER not in r.text

    with admin_db.engine.connect() as conn:
        tables = ["audit_records", "auth_sessions", "staff_accounts"]
        stored = " ".join(
            str(value)
            for table in tables
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for value in row
        )
    logs = captured_logs.getvalue()
    assert "received application for MyNumber(************)" in logs
    assert "[個人番号]" in logs
    assert "INSERT INTO audit_records" in logs  # SQL with parameters really was logged
    assert NUMBER not in logs
    assert NUMBER not in stored
    # and the ciphertext still decrypts for the right tenant only
    assert ring.decrypt_my_number(token, context=t).reveal() == NUMBER
