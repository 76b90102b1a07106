"""The access log chain: appends are gap-free per tenant and any tampering is named by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kikan.platform import audit
from kikan.platform.ids import my_number_check_digit
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.conftest import TEST_ACTOR, Backend, create_tenant

ACTOR = audit.Actor(kind="staff", id="madoguchi", terminal="PC-01", place="本庁舎1階 市民課")


def _append_n(db: Database, tenant: str, n: int) -> None:
    with db.unit_of_work(tenant) as uow:
        for i in range(n):
            audit.append(
                uow,
                ACTOR,
                audit.AuditEvent(
                    category="operation",
                    action="inquiry",
                    function="住民照会",
                    screen="住民詳細",
                    subjects=[f"00000000000{i:04d}"],
                    purpose="窓口での本人確認",
                ),
            )
        uow.commit()


def _verify(db: Database, tenant: str) -> audit.VerifyResult:
    with db.unit_of_work(tenant) as uow:
        return audit.verify_chain(uow)


def _seq_of(db: Database, tenant: str) -> list[int]:
    with db.unit_of_work(tenant) as uow:
        return list(uow.session.scalars(select(AuditRecordRow.seq).order_by(AuditRecordRow.seq)))


def test_chain_is_gap_free_per_tenant_and_verifies(db: Database) -> None:
    a, b = create_tenant(db), create_tenant(db)
    _append_n(db, a, 5)
    _append_n(db, b, 2)
    seqs_a = _seq_of(db, a)
    assert seqs_a == list(range(1, len(seqs_a) + 1))
    res = _verify(db, a)
    assert res.ok and res.checked == len(seqs_a) and res.head_seq == len(seqs_a)
    assert _verify(db, b).ok


def test_rolled_back_work_leaves_no_audit_record(db: Database) -> None:
    a = create_tenant(db)
    before = _seq_of(db, a)
    with db.unit_of_work(a) as uow:
        audit.append(uow, ACTOR, audit.AuditEvent(category="operation", action="inquiry"))
        # no commit
    assert _seq_of(db, a) == before
    _append_n(db, a, 1)
    assert _seq_of(db, a) == [*before, len(before) + 1]
    assert _verify(db, a).ok


@pytest.mark.parametrize("field", ["detail", "actor", "purpose", "subjects", "recorded_at"])
def test_altered_record_is_named(db: Database, admin_db: Database, field: str) -> None:
    a = create_tenant(db)
    _append_n(db, a, 6)
    target = 4
    new_value = {
        "detail": '{"forged": true}',
        "actor": "someone-else",
        "purpose": "改ざん",
        "subjects": '["999"]',
        "recorded_at": "2020-01-01 00:00:00",
    }[field]
    is_json = field in ("detail", "subjects") and admin_db.engine.dialect.name == "postgresql"
    placeholder = "CAST(:v AS json)" if is_json else ":v"
    with admin_db.engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE audit_records SET {field} = {placeholder} WHERE tenant_code = :t AND seq = :s"
            ),
            {"v": new_value, "t": a, "s": target},
        )
    res = _verify(db, a)
    assert not res.ok
    assert res.first_bad_seq == target
    assert res.kind == "altered"
    assert f"連番 {target}" in (res.problem or "")


def test_deleted_record_in_the_middle_is_named(db: Database, admin_db: Database) -> None:
    a = create_tenant(db)
    _append_n(db, a, 6)
    with admin_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE tenant_code = :t AND seq = 3"), {"t": a})
    res = _verify(db, a)
    assert (res.ok, res.first_bad_seq, res.kind) == (False, 3, "deleted")


def test_records_cut_from_the_end_are_noticed(db: Database, admin_db: Database) -> None:
    a = create_tenant(db)
    _append_n(db, a, 6)
    last = _seq_of(db, a)[-1]
    with admin_db.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM audit_records WHERE tenant_code = :t AND seq >= :s"),
            {"t": a, "s": last - 1},
        )
    res = _verify(db, a)
    assert (res.ok, res.first_bad_seq, res.kind) == (False, last - 1, "deleted")


def test_inserted_record_with_recomputed_hash_is_named(db: Database, admin_db: Database) -> None:
    """An insider renumbers the tail and inserts a self-consistent forged record: its link breaks."""
    a = create_tenant(db)
    _append_n(db, a, 5)
    with db.unit_of_work(a) as uow:
        rows = [
            (r.seq, r.recorded_at)
            for r in uow.session.scalars(select(AuditRecordRow).order_by(AuditRecordRow.seq))
        ]
    insert_at = 3
    stamp = rows[insert_at - 1][1]
    forged = AuditRecordRow(
        tenant_code=a,
        seq=insert_at,
        recorded_at=stamp,
        category="operation",
        action="inquiry",
        outcome="ok",
        actor="ghost",
        actor_kind="staff",
        terminal="",
        place="",
        function="住民照会",
        screen="",
        purpose="",
        subjects=[],
        mynumber_accessed=False,
        detail={},
        prev_hash="0" * 64,
        hash="",
    )
    forged.hash = audit.record_hash(forged)
    with admin_db.engine.begin() as conn:
        last = rows[-1][0]
        # shift the tail up by one (descending to keep the unique constraint happy)
        for s in range(last, insert_at - 1, -1):
            conn.execute(
                text("UPDATE audit_records SET seq = :n WHERE tenant_code = :t AND seq = :s"),
                {"n": s + 1, "t": a, "s": s},
            )
        conn.execute(
            text(
                "INSERT INTO audit_records (tenant_code, seq, recorded_at, category, action, outcome, actor,"
                " actor_kind, terminal, place, function, screen, purpose, subjects, mynumber_accessed, detail,"
                " prev_hash, hash) VALUES (:t, :seq, :ra, 'operation', 'inquiry', 'ok', 'ghost', 'staff', '', '',"
                " '住民照会', '', '', '[]', false, '{}', :ph, :h)"
            ),
            {
                "t": a,
                "seq": insert_at,
                "ra": stamp.replace(tzinfo=None),
                "ph": "0" * 64,
                "h": forged.hash,
            },
        )
    res = _verify(db, a)
    assert not res.ok
    assert res.first_bad_seq == insert_at


def test_my_number_never_stored_in_clear(db: Database, admin_db: Database) -> None:
    body = "12345678901"
    number = body + str(my_number_check_digit(body))
    a = create_tenant(db)
    with db.unit_of_work(a) as uow:
        audit.append(
            uow,
            ACTOR,
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                purpose=f"番号 {number} で照会",
                subjects=[number],
                mynumber_accessed=True,
                detail={"query": number},
            ),
        )
        uow.commit()
    with admin_db.engine.connect() as conn:
        dump = " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM audit_records")).all() for v in row
        )
    assert number not in dump
    assert "[個人番号]" in dump
    assert _verify(db, a).ok


def test_app_role_cannot_rewrite_the_log(pg_db: Database) -> None:
    a = create_tenant(pg_db)
    _append_n(pg_db, a, 1)
    with pg_db.unit_of_work(a) as uow, pytest.raises(DBAPIError, match="permission denied"):
        uow.session.execute(text("UPDATE audit_records SET actor = 'x'"))
    with pg_db.unit_of_work(a) as uow, pytest.raises(DBAPIError, match="permission denied"):
        uow.session.execute(text("DELETE FROM audit_records"))


def test_genesis_differs_per_chain() -> None:
    assert audit.genesis_hash("131016") != audit.genesis_hash("011002")


def test_unknown_category_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        audit.AuditEvent(category="gossip", action="inquiry")


def test_backend_fixture_names(backend: Backend) -> None:
    assert backend.name in {"sqlite", "postgres"}
    assert TEST_ACTOR.kind == "system"


def test_print_record_carries_the_print_log_items(db: Database) -> None:
    a = create_tenant(db)
    with db.unit_of_work(a) as uow:
        row = audit.append(
            uow,
            ACTOR,
            audit.print_event(
                function="住民票の写し交付",
                form_id="0010001",
                issue_number="2026-000123",
                subjects=["000000000000019"],
                official_seal=True,
                mynumber_printed=False,
                output_format="print",
                pages=2,
                purpose="本人請求",
            ),
        )
        uow.commit()
        assert (row.category, row.action, row.mynumber_accessed) == ("print", "print", False)
        assert row.detail == {
            "form_id": "0010001",
            "issue_number": "2026-000123",
            "official_seal": True,
            "mynumber_printed": False,
            "output_format": "print",
            "pages": 2,
        }
    assert _verify(db, a).ok
    with pytest.raises(ValueError):
        audit.print_event(
            function="x",
            form_id="x",
            issue_number="x",
            subjects=[],
            official_seal=False,
            mynumber_printed=False,
            output_format="fax",
            pages=1,
        )
