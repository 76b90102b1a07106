"""戸籍の附票 on both backends: the linkage reaction, 職権 with history, notices and the worklist,
the 写し's omissions and 支援措置, tenant isolation, the API."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from kikan.errors import ConflictError, RefusedError
from kikan.fuhyo import domain
from kikan.fuhyo.linkage import react
from kikan.fuhyo.service import copies, notices, records
from kikan.fuhyo.store import FuhyoPersonRow
from kikan.linkage.consumer import PersonChange
from kikan.platform.context import Context
from kikan.platform.ids import IdentifierError
from kikan.platform.settings import Settings
from kikan.platform.uow import Database, UnitOfWork
from tests.conftest import TEST_ACTOR, bearer, create_staff, create_tenant

CTX = Context(actor=TEST_ACTOR)
CITY = "附票市"


def resident(**extra: str) -> dict[str, str]:
    """A Japanese resident of this city whose 本籍 is here (the feed's items)."""
    return {
        "atena_number": "000000000000018",
        "resident_kind": "1",
        "status": "10",
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": "S55-01-07",
        "sex": "2",
        "juminhyo_code": "12345678903",
        "address_set_date": "R6-04-01",
        "honseki_prefecture": "",
        "honseki_city": CITY,
        "honseki_town": "本町",
        "honseki_chiban": "1番地",
        "honseki_head_family_name": "山田",
        "honseki_head_given_name": "太郎",
        "prefecture": "",
        "city": CITY,
        "town": "本町",
        "banchi": "1番地",
        "katagaki": "",
        **extra,
    }


def deliver(
    uow: UnitOfWork,
    record: dict[str, str],
    before: dict[str, str] | None = None,
    *,
    protected: bool = False,
) -> list[str]:
    atena = record["atena_number"]
    existing = uow.session.query(FuhyoPersonRow).filter_by(atena_number=atena).first()
    if existing is None:
        uow.session.add(
            FuhyoPersonRow(
                tenant_code=uow.tenant,
                atena_number=atena,
                record=record,
                protected=protected,
                gone=False,
                seq=1,
                name="",
                name_kana="",
                birth_date="",
                sex="",
                address="",
                resident_status="10",
            )
        )
        uow.session.flush()
    change = PersonChange(atena, record, before, 1, "changes", date(2024, 4, 1), protected)
    return list(react(uow, [change]))


HONSEKI = domain.Honseki("", CITY, "本町", "1番地", "山田", "太郎")


@pytest.fixture
def town(db: Database) -> str:
    return create_tenant(db, CITY)


def _only_record(uow: UnitOfWork) -> records.RecordView:
    found = records.find_records(uow, CTX, records.FindRecords())
    assert len(found) == 1
    return records.get_record(uow, CTX, records.RecordQuery(found[0].id))


def test_domain_rules() -> None:
    assert domain.is_own_honseki(HONSEKI, [("", CITY)])
    assert not domain.is_own_honseki(HONSEKI, [("", "他市")])
    assert domain.storage_date("2024-04-01", "d", "日") == "R6-04-01"
    rules = domain.copy_rules()
    assert rules.omitted(date(2022, 1, 10)) == {"birth_date", "sex", "juminhyo_code"}
    assert rules.omitted(date(2022, 1, 11)) == {"juminhyo_code"}
    assert rules.omitted(date(2024, 5, 27)) == set()
    assert rules.omitted(None) == set()
    with pytest.raises(domain.NoticeOutdated) as refused:
        domain.check_not_older("R6-03-31", "R6-04-01")
    assert "前" in refused.value.message
    domain.check_not_older("R6-04-01", "R6-04-01")
    # 住民票コード: 11 digits and the check digit of the register's rule
    assert domain.check_juminhyo_code("12345678903") == "12345678903"
    with pytest.raises(IdentifierError) as bad_digit:  # the platform's rule, a 422 problem
        domain.check_juminhyo_code("12345678901")
    assert bad_digit.value.code == "juminhyo_code.check_digit"
    assert "検査数字" in bad_digit.value.message
    with pytest.raises(IdentifierError) as short:
        domain.check_juminhyo_code("1234567890")
    assert short.value.code == "juminhyo_code.length"
    assert domain.check_juminhyo_code("１２３４５６７８９０３") == "12345678903"  # full width


def test_a_resident_with_honseki_here_gets_an_entry_and_moves_are_new_rows(
    db: Database, town: str
) -> None:
    with db.unit_of_work(town) as uow:
        assert deliver(uow, resident()) == ["附票の作成", "附票への記載"]
        uow.commit()
    moved = resident(town="新町", banchi="2番地", address_set_date="R6-05-01")
    with db.unit_of_work(town) as uow:
        assert deliver(uow, moved, before=resident()) == ["附票の記載の変更"]
        assert deliver(uow, moved, before=moved) == []  # nothing changed: nothing written
        uow.commit()
    with db.unit_of_work(town) as uow:
        view = _only_record(uow)
    assert view.record_type == domain.FUHYO and view.honseki.head == "山田　太郎"
    (entry,) = view.entries
    assert entry.rev == 2 and entry.facts.address.text == f"{CITY}新町2番地"
    assert "転居" in entry.reason
    assert [h.facts.address.town for h in view.history] == ["本町", "新町"]


def test_honseki_elsewhere_is_ignored_and_other_tenants_see_nothing(
    db: Database, town: str
) -> None:
    other = create_tenant(db, "他市")
    with db.unit_of_work(town) as uow:
        assert deliver(uow, resident(honseki_city="遠い市")) == []
        assert deliver(uow, resident(atena_number="000000000000026", resident_kind="2")) == []
        deliver(uow, resident(atena_number="000000000000034"))
        uow.commit()
    with db.unit_of_work(other) as uow:
        assert records.find_records(uow, CTX, records.FindRecords()) == []


def test_tenkaseki_out_removes_the_entry_and_the_fuhyo_becomes_jo_fuhyo(
    db: Database, town: str
) -> None:
    with db.unit_of_work(town) as uow:
        deliver(uow, resident())
        assert deliver(uow, resident(honseki_city="遠い市"), before=resident()) == [
            "附票の記載の消除（本籍の変更）"
        ]
        uow.commit()
    with db.unit_of_work(town) as uow:
        view = _only_record(uow)
    assert view.record_type == domain.JO_FUHYO and view.entries[0].removed
    assert [e.action for e in view.events] == ["作成", "除附票"]


def _notice(**person: Any) -> notices.Notice:
    facts = domain.EntryFacts(
        family_name="山田",
        given_name="花子",
        birth_date="S55-01-07",
        sex="2",
        juminhyo_code=person.pop("juminhyo_code", "12345678903"),
        address=domain.Address("大阪府", "大阪市北区", "梅田一丁目", "1番1号"),
        address_set_date=person.pop("address_set_date", "2024-06-01"),
    )
    return notices.Notice(
        sender_code="271004",
        sender_name="大阪市",
        notice_date=date(2024, 6, 5),
        reason="転入",
        honseki=person.pop("honseki", HONSEKI),
        facts=facts,
    )


def test_notices_apply_refuse_older_and_unmatched_go_to_the_worklist(
    db: Database, town: str
) -> None:
    with db.unit_of_work(town) as uow:
        deliver(uow, resident())
        uow.commit()
    with db.unit_of_work(town) as uow:
        done = notices.receive(uow, CTX, _notice())
        uow.commit()
    assert done.status == notices.APPLIED and done.entry_no == 1
    with db.unit_of_work(town) as uow, pytest.raises(ConflictError) as refused:
        notices.receive(uow, CTX, _notice(address_set_date="2024-05-01"))
    assert refused.value.code == "fuhyo-notice-outdated"
    stranger = domain.Honseki("", CITY, "北町", "9番地", "佐藤", "一郎")
    with db.unit_of_work(town) as uow:
        pending = notices.receive(uow, CTX, _notice(juminhyo_code="", honseki=stranger))
        uow.commit()
    assert pending.status == notices.PENDING
    with db.unit_of_work(town) as uow:
        listed = notices.worklist(uow, CTX, notices.OpenNotices())
        assert [n.id for n in listed] == [pending.notice_id]  # the refused one left no row
        record_id = _only_record(uow).id
        notices.reject(uow, CTX, notices.Reject(pending.notice_id, "該当する戸籍なし"))
        uow.commit()
    with db.unit_of_work(town) as uow:
        assert notices.worklist(uow, CTX, notices.OpenNotices()) == []
        with pytest.raises(ConflictError):
            notices.attach(uow, CTX, notices.Attach(pending.notice_id, record_id, 1, "誤り"))
        (entry,) = _only_record(uow).entries
    assert entry.source == domain.SOURCE_NOTICE and entry.facts.address.city == "大阪市北区"


def test_staff_correct_remove_and_remake_keep_history(db: Database, town: str) -> None:
    with db.unit_of_work(town) as uow:
        made = records.create_record(uow, CTX, records.CreateRecord(HONSEKI, "戸籍の編製"))
        facts = domain.EntryFacts(
            "山田",
            "太郎",
            birth_date="1950-02-03",
            sex="1",
            address=domain.Address("", CITY, "本町", "1番地"),
            address_set_date="1980-04-01",
        )
        records.add_entry(uow, CTX, records.AddEntry(made.id, facts, "戸籍の届出"))
        records.add_entry(uow, CTX, records.AddEntry(made.id, facts, "戸籍の届出"))
        fixed = domain.EntryFacts(**{**facts.__dict__, "zaigai_note": "在外選挙人名簿登録"})
        records.correct_entry(uow, CTX, records.CorrectEntry(made.id, 1, fixed, "誤記", 1))
        with pytest.raises(ConflictError):
            records.correct_entry(uow, CTX, records.CorrectEntry(made.id, 1, facts, "x", 1))
        records.remove_entry(uow, CTX, records.RemoveEntry(made.id, 2, date(2020, 1, 1), "除籍"))
        new = records.remake(uow, CTX, records.Remake(made.id, date(2024, 7, 1), "改製"))
        uow.commit()
    with db.unit_of_work(town) as uow:
        old = records.get_record(uow, CTX, records.RecordQuery(made.id))
    assert old.record_type == domain.KAISEI_GEN and old.replaced_by == new.id
    assert [(h.entry_no, h.rev) for h in old.history] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert [e.facts.zaigai_note for e in new.entries] == ["在外選挙人名簿登録"]
    with db.unit_of_work(town) as uow, pytest.raises(domain.FuhyoRuleError):
        records.create_record(
            uow, CTX, records.CreateRecord(domain.Honseki("", "遠い市", "", "1", "山田", ""), "x")
        )


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_copy_omits_what_it_must_and_honours_support_measures(db: Database, town: str) -> None:
    with db.unit_of_work(town) as uow:
        made = records.create_record(uow, CTX, records.CreateRecord(HONSEKI, "戸籍の編製"))
        alive = domain.EntryFacts(
            "山田",
            "太郎",
            birth_date="1950-02-03",
            sex="1",
            juminhyo_code="11111111113",
            zaigai_note="在外選挙人名簿登録",
            address=domain.Address("", CITY, "本町", "1番地"),
            address_set_date="1980-04-01",
        )
        gone = domain.EntryFacts(
            "山田",
            "次郎",
            birth_date="1952-03-04",
            sex="1",
            juminhyo_code="22222222226",
            address=domain.Address("", CITY, "本町", "1番地"),
            address_set_date="1980-04-01",
        )
        records.add_entry(uow, CTX, records.AddEntry(made.id, alive, "届出"))
        records.add_entry(uow, CTX, records.AddEntry(made.id, gone, "届出"))
        records.remove_entry(uow, CTX, records.RemoveEntry(made.id, 2, date(2021, 6, 1), "除籍"))
        plain = copies.issue_copy(uow, CTX, copies.IssueCopy(made.id, domain.CopyOptions(), "self"))
        full = copies.issue_copy(
            uow, CTX, copies.IssueCopy(made.id, domain.CopyOptions(True, True), "official")
        )
        uow.commit()
    text = _text(plain.pdf)
    assert "山田" in text and "太郎" in text and "次郎" in text
    assert "本町1番地" in text  # the address
    assert "筆頭者" not in text and "在外選挙人名簿登録" not in text
    assert "11111111113" in text and "22222222226" not in text  # removed before 2024-05-27
    assert "昭和25年2月3日" in text and "昭和27年3月4日" not in text  # removed before 2022-01-11
    full_text = _text(full.pdf)
    assert "筆頭者" in full_text and "在外選挙人名簿登録" in full_text
    # 支援措置: a third party is refused, nothing issued
    with db.unit_of_work(town) as uow:
        deliver(uow, resident(), protected=True)
        uow.commit()
    with db.unit_of_work(town) as uow:
        record_id = records.find_records(
            uow, CTX, records.FindRecords(record_type=domain.FUHYO, honseki="本町")
        )[-1].id
        with pytest.raises(RefusedError):
            copies.issue_copy(
                uow, CTX, copies.IssueCopy(record_id, domain.CopyOptions(), "third_party")
            )


def test_the_api_for_staff_and_the_notice_intake_needs_a_token(
    db: Database, town: str, settings: Settings
) -> None:
    from kikan.app import create_app

    create_staff(db, town, "fuhyo_boss", ["approver"])
    app = create_app(settings, db)
    with TestClient(app, base_url="https://testserver") as client:
        headers = bearer(client, town, "fuhyo_boss")
        body = {
            "honseki": {
                "city": CITY,
                "town": "本町",
                "chiban": "1番地",
                "head_family_name": "山田",
                "head_given_name": "太郎",
            },
            "reason": "戸籍の編製",
        }
        made = client.post("/api/v1/fuhyo/records", json=body, headers=headers)
        assert made.status_code == 201, made.text
        rid = made.json()["id"]
        person = {
            "family_name": "山田",
            "given_name": "太郎",
            "birth_date": "1950-02-03",
            "sex": "1",
            "address": {"city": CITY, "town": "本町", "banchi": "1番地"},
            "address_set_date": "1980-04-01",
        }
        entry = client.post(
            f"/api/v1/fuhyo/records/{rid}/entries",
            json={"person": person, "reason": "届出"},
            headers=headers,
        )
        assert entry.status_code == 201, entry.text
        bad = client.post(
            f"/api/v1/fuhyo/records/{rid}/entries",
            json={"person": {**person, "sex": "7"}, "reason": "届出"},
            headers=headers,
        )
        assert bad.status_code == 422 and "男女" in bad.json()["detail"]
        pdf = client.post(
            f"/api/v1/fuhyo/records/{rid}/copy", json={"requester_kind": "self"}, headers=headers
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        got = client.get(f"/api/v1/fuhyo/records/{rid}", headers=headers)
        assert got.json()["entries"][0]["name"] == "山田　太郎"
        anonymous = client.post("/api/v1/fuhyo/notices", json={})
        assert anonymous.status_code == 401
