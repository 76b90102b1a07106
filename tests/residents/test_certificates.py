"""Certificates through the HTTP API: every kind as PDF, requester rules, 支援措置 refusals,
本人通知, the issuance register and its verification, and page images for review."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kikan.platform.ids import juminhyo_code_check_digit, my_number_check_digit
from kikan.platform.store import AuditRecordRow, CertificateIssuanceRow, TenantRow
from kikan.platform.uow import Database
from tests.residents.conftest import (
    ADDRESS,
    PRIOR,
    TODAY,
    Clerk,
    days_ago,
    family_move_in,
    person,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "certificates"
SELF_CERT = "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"


def pdftotext(pdf: bytes) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "poppler-utils (pdftotext) is required"
    # -raw: text in drawing order, cell by cell (the default mode mixes adjacent columns)
    done = subprocess.run([tool, "-raw", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Extraction spacing is heuristic (ADR 0004): compare without whitespace."""
    return "".join(text.split())


def save_pages(name: str, pdf: bytes) -> None:
    """PDF and 100 dpi page images under test-artifacts/certificates/ (gitignored) for review."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    tool = shutil.which("pdftoppm")
    if tool:
        subprocess.run(
            [tool, "-png", "-r", "100", str(ARTIFACTS / f"{name}.pdf"), str(ARTIFACTS / name)],
            check=True,
        )


def issue(clerk: Clerk, atena: str, body: dict[str, Any]) -> Any:
    return clerk.post(f"/residents/{atena}/certificates", body)


def issued(clerk: Clerk, atena: str, body: dict[str, Any]) -> tuple[bytes, Any]:
    r = issue(clerk, atena, body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    return r.content, r.headers


def me(atena: str) -> dict[str, Any]:
    return {"kind": "self", "atena_number": atena}


THIRD = {"kind": "third_party", "name": "債権 回収", "purpose": "債権回収のため（契約書あり）"}


@pytest.fixture
def family(clerk: Clerk) -> list[str]:
    atenas: list[str] = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"]
    return atenas


def test_household_copy_prints_every_member_in_wareki_with_number_and_form_id(
    clerk: Clerk, family: list[str], db: Database
) -> None:
    head, wife, child = family
    pdf, headers = issued(clerk, wife, {"kind": "juminhyo", "requester": me(wife)})
    save_pages("juminhyo_setai", pdf)
    number = headers["Kikan-Issue-Number"]
    assert number.startswith(f"{clerk.tenant}-{TODAY.year}-")
    text = flat(pdftotext(pdf))
    for name in ("青木太郎", "青木花子", "青木一郎"):
        assert name in text
    assert text.index("青木太郎") < text.index("青木花子") < text.index("青木一郎")  # spec 5.2
    assert "平成15年1月7日" in text and "令和5年4月1日" in text  # 和暦 (spec 1.1.9)
    assert flat(SELF_CERT) in text
    assert "帳票ID0010001" in text and "1/1" in text
    assert flat(f"発行番号 {number}") in text
    assert "日和市長" in text and "試験太郎" in text  # 認証者 from the tenant
    assert "個人番号" not in text  # omitted by default
    assert "住民票コード" not in text
    assert "世帯主" in text and "妻" in text
    with db.unit_of_work(clerk.tenant) as uow:
        row = uow.session.scalars(
            select(CertificateIssuanceRow).where(CertificateIssuanceRow.issue_number == number)
        ).one()
        assert row.subject_refs == [head, wife, child]
        assert row.pdf_sha256 == hashlib.sha256(pdf).hexdigest() == headers["Kikan-Sha256"]
        assert row.requester_kind == "self" and row.requester_name == "青木　花子"
        assert row.form_id == "0010001" and row.module == "residents"


def test_numbers_are_consecutive_and_verifiable(clerk: Clerk, family: list[str]) -> None:
    head = family[0]
    a, ha = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    b, hb = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    na, nb = ha["Kikan-Issue-Number"], hb["Kikan-Issue-Number"]
    assert int(nb.rsplit("-", 1)[1]) == int(na.rsplit("-", 1)[1]) + 1
    assert a != b  # the 発行番号 is printed, so two copies differ
    ok = clerk.client.get(
        f"/api/v1/certificates/{na}/verify", params={"sha256": hashlib.sha256(a).hexdigest()}
    ).json()
    assert ok["genuine"] and ok["sha256_matches"] and ok["form_id"] == "0010001"
    assert "青木" not in str(ok)  # never personal data
    swapped = clerk.client.get(
        f"/api/v1/certificates/{na}/verify", params={"sha256": hashlib.sha256(b).hexdigest()}
    ).json()
    # a digest that is not this number's proves nothing: same answer as a number never issued
    assert swapped["status"] == "unknown" and swapped["tenant_name"] is None
    # the 照合番号 printed on the paper is what a holder of a printed copy checks with
    printed = re.search(
        r"照合番号\s*([A-Z0-9]{5}-[A-Z0-9]{5})", PdfReader(io.BytesIO(a)).pages[0].extract_text()
    )
    assert printed is not None
    by_code = clerk.client.get(
        f"/api/v1/certificates/{na}/verify", params={"check_code": printed.group(1)}
    ).json()
    assert by_code["genuine"] and by_code["form_id"] == "0010001"
    altered = clerk.client.get(
        f"/api/v1/certificates/{na}/verify",
        params={"check_code": printed.group(1), "sha256": hashlib.sha256(b).hexdigest()},
    ).json()
    assert altered["status"] == "altered" and not altered["genuine"]


def test_part_of_household_items_and_my_number_only_on_request(clerk: Clerk) -> None:
    my_number = "31234567890" + str(my_number_check_digit("31234567890"))
    code = "1234567890" + str(juminhyo_code_check_digit("1234567890"))
    movers = [
        {"person": person("青木", "太郎", "アオキ", "タロウ", "1", "平成15年1月7日", "世帯主",
                          juminhyo_code=code), "my_number": my_number},
        {"person": person("青木", "花子", "アオキ", "ハナコ", "2", "平成17年12月30日", "妻")},
        {"person": person("青木", "一郎", "アオキ", "イチロウ", "1", "令和5年4月1日", "子")},
    ]  # fmt: skip
    body = {"movers": movers, "address": ADDRESS, "prior_address": PRIOR, "move_date": days_ago(3)}
    head, _wife, child = clerk.ok("/residents/move-in", body, status=201)["atena_numbers"]
    plain, _ = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    assert my_number not in flat(pdftotext(plain)) and code not in flat(pdftotext(plain))
    pdf, _ = issued(
        clerk,
        head,
        {
            "kind": "juminhyo",
            "requester": me(head),
            "members": [child, head],
            "include": ["honseki", "resident_code", "my_number", "furigana"],
            "omit": ["householder"],
        },
    )
    text = flat(pdftotext(pdf))
    assert "青木花子" not in text and "青木一郎" in text
    assert flat("この写しは、世帯の一部の住民票の原本と相違ないことを証明する。") in text
    assert "本籍" in text and "東京都千代田区千代田1番" in text
    assert "（アオキタロウ）" in text  # spec 5.3 フリガナ in brackets
    assert "住民票コード" in text and code in text and my_number in text
    assert "続柄" in text and "世帯主" not in text.replace("続柄", "")  # 世帯主・続柄 omitted
    save_pages("juminhyo_part_items", pdf)


def test_individual_copy_and_kisai_jikou(clerk: Clerk, family: list[str]) -> None:
    child = family[2]
    pdf, _h = issued(clerk, child, {"kind": "juminhyo_kojin", "requester": me(family[0])})
    text = flat(pdftotext(pdf))
    assert "青木一郎" in text and "青木太郎" not in text.split("氏名", 1)[1]
    assert "帳票ID0010002" in text and flat("住民票の原本と相違ないことを証明する") in text
    save_pages("juminhyo_kojin", pdf)
    pdf, _h = issued(
        clerk, child, {"kind": "kisai_jikou", "requester": me(child), "omit": ["householder"]}
    )
    text = flat(pdftotext(pdf))
    assert "住民票記載事項証明書" in text and "帳票ID0010003" in text
    assert flat("上記の事項は、住民票に記載されていることを証明する。") in text
    save_pages("kisai_jikou", pdf)


def test_requester_rules_give_clear_problems_and_no_pdf(
    clerk: Clerk, family: list[str], db: Database
) -> None:
    head = family[0]
    cases = [
        ({"kind": "third_party", "name": "債権 回収"}, "利用目的"),
        ({"kind": "official", "name": "日和税務署"}, "利用目的"),
        ({"kind": "agent", "name": "代理 人", "atena_number": head}, "委任状"),
        ({"kind": "self"}, "宛名番号"),
        ({**THIRD, "kind": "third_party"}, None),
    ]
    for requester, problem in cases:
        r = issue(clerk, head, {"kind": "juminhyo", "requester": requester})
        if problem is None:
            assert r.status_code == 200, r.text
            continue
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert problem in r.json()["detail"]
    r = issue(clerk, head, {"kind": "juminhyo", "requester": THIRD, "include": ["my_number"]})
    assert r.status_code == 422 and "個人番号" in r.json()["detail"]
    r = issue(clerk, head, {"kind": "juminhyo", "requester": THIRD, "include": ["resident_code"]})
    assert r.status_code == 422 and "住民票コード" in r.json()["detail"]
    r = issue(clerk, "999999999999", {"kind": "juminhyo", "requester": THIRD})
    assert r.status_code == 404 and "登録されていません" in r.json()["detail"]
    r = issue(clerk, head, {"kind": "juminhyo", "requester": {"kind": "self", "atena_number": "1"}})
    assert r.status_code == 422
    r = issue(clerk, head, {"kind": "shomeisho", "requester": me(head)})
    assert r.status_code == 422 and "証明書の種類" in r.json()["detail"]
    with db.unit_of_work(clerk.tenant) as uow:  # only the one good request was registered
        assert len(uow.session.scalars(select(CertificateIssuanceRow)).all()) == 1


def test_someone_outside_the_household_is_not_self(clerk: Clerk, family: list[str]) -> None:
    other = family_move_in(clerk, address={**ADDRESS, "banchi": "99番地"})["atena_numbers"][0]
    r = issue(clerk, family[0], {"kind": "juminhyo", "requester": me(other)})
    assert r.status_code == 422 and "同一の世帯ではありません" in r.json()["detail"]


def test_official_use_prints_koyou(clerk: Clerk, family: list[str]) -> None:
    pdf, _ = issued(
        clerk,
        family[0],
        {
            "kind": "juminhyo",
            "requester": {"kind": "official", "name": "日和税務署", "purpose": "国税徴収法第141条"},
        },
    )
    assert "公用" in flat(pdftotext(pdf))
    save_pages("juminhyo_official", pdf)


def _protect(clerk: Clerk, atena: str) -> None:
    clerk.ok(
        f"/residents/{atena}/support-measures",
        {
            "start_date": days_ago(1),
            "perpetrators": [{"氏名": "加害　一郎", "続柄": "元夫"}],
        },
        status=201,
    )


def _denials(db: Database, tenant: str) -> list[tuple[str, str, list[str]]]:
    """(reason, outcome, subjects) of the certificate denials in the access log."""
    with db.unit_of_work(tenant) as uow:
        rows = uow.session.scalars(
            select(AuditRecordRow)
            .where(AuditRecordRow.action == "denial", AuditRecordRow.function == "証明書発行")
            .order_by(AuditRecordRow.seq)
        )
        return [(r.detail["reason"], r.outcome, list(r.subjects)) for r in rows]


def test_support_measure_refuses_perpetrator_and_third_parties_with_audit(
    clerk: Clerk, family: list[str], db: Database
) -> None:
    head, wife, child = family
    _protect(clerk, wife)
    for requester in (
        {"kind": "third_party", "name": "加害 一郎", "purpose": "相続手続"},
        THIRD,
        {"kind": "agent", "name": "代理 人", "atena_number": head, "power_of_attorney": True},
    ):
        r = issue(clerk, head, {"kind": "juminhyo", "requester": requester})
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "支援措置" in r.json()["detail"]
    denials = _denials(db, clerk.tenant)
    assert [d[0] for d in denials] == [
        "support_measure_perpetrator",
        "support_measure",
        "support_measure",
    ]
    assert all(outcome == "denied" and wife in subjects for _r, outcome, subjects in denials)
    # the refused requests took no number and left no register entry
    with db.unit_of_work(clerk.tenant) as uow:
        assert uow.session.scalars(select(CertificateIssuanceRow)).all() == []
    # a third party asking only about the unprotected child gets it; the household member too
    issued(clerk, child, {"kind": "juminhyo_kojin", "requester": THIRD})
    _pdf, headers = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    assert any("支援措置" in unquote(w) for w in headers.get_list("Kikan-Warning"))


def test_issue_suppression_refuses_with_audit(
    clerk: Clerk, family: list[str], db: Database
) -> None:
    head = family[0]
    clerk.ok(
        f"/residents/{head}/suppressions",
        {
            "kinds": ["issue"],
            "level": "error",
            "start_date": TODAY.isoformat(),
            "reason": "不正請求の疑い",
        },
        status=201,
    )
    r = issue(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    assert r.status_code == 403 and r.json()["type"].endswith(":suppressed")
    assert [d[0] for d in _denials(db, clerk.tenant)] == ["suppressed"]


def test_honnin_tsuuchi_records_a_notice_for_third_party_and_agent_only(
    clerk: Clerk, family: list[str]
) -> None:
    head, wife, _child = family
    reg = clerk.ok(f"/residents/{head}/honnin-tsuuchi", {"send_to": ""}, status=201)
    assert reg["registered_on"] == TODAY.isoformat()
    assert clerk.post(f"/residents/{head}/honnin-tsuuchi", {}).status_code == 409
    issued(clerk, head, {"kind": "juminhyo", "requester": me(wife)})
    _pdf, third = issued(clerk, head, {"kind": "juminhyo", "requester": THIRD})
    agent = {"kind": "agent", "name": "代理 人", "atena_number": head, "power_of_attorney": True}
    _pdf, by_agent = issued(clerk, wife, {"kind": "juminhyo_kojin", "requester": agent})
    notices = clerk.get(f"/residents/{head}/honnin-tsuuchi/notices").json()
    assert [n["issue_number"] for n in notices] == [third["Kikan-Issue-Number"]]
    assert notices[0]["requester_kind"] == "third_party"
    assert clerk.get(f"/residents/{wife}/honnin-tsuuchi/notices").json() == []
    assert by_agent["Kikan-Issue-Number"]
    clerk.ok(f"/residents/{head}/honnin-tsuuchi/end", {})
    issued(clerk, head, {"kind": "juminhyo", "requester": THIRD})
    assert len(clerk.get(f"/residents/{head}/honnin-tsuuchi/notices").json()) == 1


def test_issuance_history_lists_what_was_issued_about_a_person(
    clerk: Clerk, family: list[str]
) -> None:
    head, wife, child = family
    _pdf, h1 = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    _pdf, h2 = issued(clerk, child, {"kind": "juminhyo_kojin", "requester": THIRD})
    rows = clerk.get(f"/residents/{child}/certificates").json()
    assert [r["issue_number"] for r in rows] == [h2["Kikan-Issue-Number"], h1["Kikan-Issue-Number"]]
    assert rows[0]["requester_kind"] == "third_party" and rows[0]["purpose"] == THIRD["purpose"]
    assert [r["issue_number"] for r in clerk.get(f"/residents/{wife}/certificates").json()] == [
        h1["Kikan-Issue-Number"]
    ]


def _move_out(clerk: Clerk, atenas: list[str], planned: str) -> None:
    clerk.ok(
        "/residents/move-out",
        {
            "atena_numbers": atenas,
            "destination": {
                "address": {
                    "prefecture": "大阪府",
                    "city": "大阪市北区",
                    "town": "梅田",
                    "banchi": "1丁目1番",
                }
            },
            "planned_date": planned,
            "notified_date": TODAY.isoformat(),
        },
    )


def test_before_the_planned_date_move_out_is_omitted_then_the_joshou(
    clerk: Clerk, family: list[str]
) -> None:
    head, _wife, child = family
    _move_out(clerk, [child], (TODAY + timedelta(days=7)).isoformat())
    pdf, _ = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    text = flat(pdftotext(pdf))
    assert "青木一郎" in text and "転出" not in text and "大阪" not in text
    r = issue(clerk, child, {"kind": "joshou", "requester": me(child)})
    assert r.status_code == 422 and "消除されていません" in r.json()["detail"]
    pdf, _ = issued(clerk, child, {"kind": "tenshutsu", "requester": me(head)})
    text = flat(pdftotext(pdf))
    assert "転出証明書" in text and "大阪府大阪市北区梅田1丁目1番" in text and "青木一郎" in text
    assert "帳票ID0010005" in text
    save_pages("tenshutsu", pdf)
    again, _ = issued(clerk, child, {"kind": "tenshutsu", "requester": me(head), "reissue": True})
    assert "再交付" in flat(pdftotext(again)) and "再交付" not in text
    clerk.ok(
        "/residents/move-out/confirm", {"atena_numbers": [child], "moved_date": TODAY.isoformat()}
    )
    pdf, _ = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    assert "青木一郎" not in flat(pdftotext(pdf))  # never mixed with the 除票 (spec 5.1)
    pdf, _ = issued(clerk, child, {"kind": "joshou", "requester": me(head)})
    text = flat(pdftotext(pdf))
    assert "住民票の除票の写し" in text and "青木一郎" in text and "国内転出" in text
    assert "帳票ID0010004" in text
    save_pages("joshou", pdf)
    r = issue(clerk, child, {"kind": "juminhyo", "requester": me(head)})
    assert r.status_code == 422 and "除票の写し" in r.json()["detail"]


def test_acceptance_notice_for_a_move(clerk: Clerk, family: list[str]) -> None:
    pdf, _ = issued(
        clerk,
        family[0],
        {"kind": "juri_tsuchi", "requester": {"kind": "self", "atena_number": family[0]}},
    )
    text = flat(pdftotext(pdf))
    assert "住民異動届受理通知" in text and "国内転入" in text
    assert "東京都千代田区千代田1番1号青木太郎様" in text  # 宛先: 異動前住所・届出人
    assert flat("上記のとおり住民異動届を受理したので通知します。") in text
    save_pages("juri_tsuchi", pdf)


def test_foreign_resident_dates_in_seireki_with_items(clerk: Clerk) -> None:
    body = {
        "movers": [
            {
                "person": {
                    "family_name": "王",
                    "given_name": "偉",
                    "family_name_kana": "ワン",
                    "given_name_kana": "ウェイ",
                    "roman_name": "WANG WEI",
                    "sex": "1",
                    "birth_date": "1990年5月1日",
                    "zokugara": "世帯主",
                    "resident_kind": "2",
                    "tsuushou": "山本　大",
                    "foreign": {
                        "nationality": "156",
                        "article_30_45": "1",
                        "status_of_residence": "210",
                        "period_of_stay": "3年",
                        "expiry_date": "2029-03-31",
                        "card_number": "AB12345678CD",
                    },
                }
            }
        ],
        "address": ADDRESS,
        "reason": "国外転入等",
        "prior_address": {"country_code": "156", "foreign_address": "北京市朝陽区建国路1号"},
        "move_date": days_ago(10),
    }
    wang = clerk.ok("/residents/move-in", body, status=201)["atena_numbers"][0]
    pdf, _ = issued(
        clerk,
        wang,
        {
            "kind": "juminhyo",
            "requester": me(wang),
            "include": ["status_of_residence", "card_number"],
        },
    )
    text = flat(pdftotext(pdf))
    assert "WANGWEI" in text and "1990年5月1日" in text and "2029年3月31日" in text
    assert "平成2年" not in text  # a foreign resident's birth date is never 和暦
    assert "中国" in text and "中長期在留者" in text and "AB12345678CD" in text
    assert "山本大" in text  # 通称
    assert "令和" in text  # the other dates stay 和暦
    save_pages("juminhyo_foreign", pdf)


def test_long_address_and_rare_characters_are_never_cut(clerk: Clerk, db: Database) -> None:
    long_town = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末" * 2
    body = {
        "movers": [
            {
                "person": {
                    "family_name": "𠮷田",
                    "given_name": "髙﨑",
                    "family_name_kana": "ヨシダ",
                    "given_name_kana": "タカサキ",
                    "sex": "1",
                    "birth_date": "昭和50年1月1日",
                    "zokugara": "世帯主",
                }
            },
            {
                "person": {
                    "family_name": "渡邉\U000e010f",
                    "given_name": "明",
                    "family_name_kana": "ワタナベ",
                    "given_name_kana": "アキラ",
                    "sex": "1",
                    "birth_date": "昭和52年1月1日",
                    "zokugara": "同居人",
                }
            },
        ],
        "address": {**ADDRESS, "town": long_town, "katagaki": "日和ハイツ東棟千二百三十四号室"},
        "move_date": days_ago(5),
        "prior_address": {"address": {"prefecture": "東京都", "city": "千代田区"}},
    }
    head = clerk.ok("/residents/move-in", body, status=201)["atena_numbers"][0]
    pdf, _headers = issued(clerk, head, {"kind": "juminhyo", "requester": me(head)})
    text = pdftotext(pdf)
    assert "𠮷田" in text and "髙﨑" in text and "渡邉\U000e010f" in text
    assert flat(long_town) in flat(text) and "日和ハイツ東棟千二百三十四号室" in flat(text)
    save_pages("juminhyo_long", pdf)
    with db.unit_of_work("host") as uow:
        assert uow.session.get(TenantRow, clerk.tenant) is not None
