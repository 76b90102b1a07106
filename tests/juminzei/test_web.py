"""The staff pages of 個人住民税 (TestClient, SQLite and PostgreSQL): the worklist with 照合 and
回送, the intake of a 給与支払報告書 CSV, and the taxpayer view with its steps, 期割 and notice.

Why: the pages must run the module's own use cases (the same rules and access-log records as the
API), show the service's Japanese reasons, refuse staff without the catalogue's roles, and take
no unsafe request without the session's CSRF token. The 賦課期日 list and the 賦課 are set up
through the use cases (the list is normally read over 庁内データ連携, which this test does not
run: tests/juminzei/test_scenario.py does).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kikan.juminzei import domain
from kikan.juminzei.service import assessment, records
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.store import AssessmentRow, BatchRow, IncomeRow, InstallmentRow
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.conftest import create_staff, create_tenant
from tests.juminzei.test_juminzei import (
    ASSESSED_ON,
    CTX,
    HANAKO,
    ICHIRO,
    REGISTER,
    STRANGER,
    YEAR,
    kyuyo_csv,
)
from tests.web.conftest import login

ICHIRO_NUMBER = "000000000000201"
#: a second unmatched record (nobody of that name lived here on 1月1日)
WANDERER = (
    "9999999999999,他社,0,1,旅人　三郎,タビビト サブロウ,1985-03-03,遠い町,2500000,300000,0,0,0"
)


@pytest.fixture
def office(db: Database) -> str:
    """A town with the 賦課期日 list of 令和8年度 and staff per role."""
    code = create_tenant(db, "課税市")
    for login_id, roles in (
        ("madoguchi", ["counter"]),
        ("shinsa", ["counter", "approver"]),
        ("kansa", ["auditor"]),
        ("kanri", ["sysadmin"]),
    ):
        create_staff(db, code, login_id, roles)
    with db.unit_of_work(code) as uow:
        records.take_kijitsu(uow, CTX, cmd.TakeKijitsu(YEAR, REGISTER))
        uow.commit()
    return code


def _upload(client: TestClient, csrf: str, content: bytes, kind: str = "kyuyo") -> Any:
    return client.post(
        "/ui/juminzei/intake",
        data={"csrf_token": csrf, "year": "令和8", "kind": kind},
        files={"file": ("kyuyo.csv", content, "text/csv")},
    )


def _income(db: Database, tenant: str) -> dict[str, tuple[str, str, str]]:
    """(照合の状態, 宛名番号, note) of the records, by the name written on them."""
    with db.unit_of_work(tenant) as uow:
        return {
            r.person["name"]: (r.match_state, r.atena_number, r.match_note)
            for r in uow.session.scalars(select(IncomeRow))
        }


def _row_id(page: str, name: str) -> int:
    """The worklist row that shows `name` (its 照合 form names the record)."""
    m = re.search(rf'<tr id="row-(\d+)"[^>]*>(?:(?!</tr>).)*{re.escape(name)}', page, re.S)
    assert m, page
    return int(m.group(1))


def test_pages_render_for_counter_staff_and_the_menu_names_them(
    client: TestClient, office: str
) -> None:
    login(client, office, "madoguchi")
    home = client.get("/ui/").text
    assert 'href="/ui/juminzei" accesskey="z"' in home
    page = client.get("/ui/juminzei")
    assert page.status_code == 200 and "課税の照会" in page.text
    assert re.search(r'id="atena"[^>]*autofocus', page.text)  # the look-up field has the focus
    for href, key in (("/ui/juminzei/worklist", "w"), ("/ui/juminzei/intake", "u")):
        assert f'href="{href}" accesskey="{key}"' in page.text
    worklist = client.get("/ui/juminzei/worklist", params={"year": "R8"})
    assert worklist.status_code == 200
    assert (
        "令和8年度（2026）：0 件" in worklist.text
        and "未照合の課税資料はありません" in worklist.text
    )
    intake = client.get("/ui/juminzei/intake")
    assert intake.status_code == 200 and 'enctype="multipart/form-data"' in intake.text
    assert '<option value="nenkin"' in intake.text and "公的年金等支払報告書" in intake.text
    bad_year = client.get("/ui/juminzei/worklist", params={"year": "平成99x"})
    assert bad_year.status_code == 422 and "年度「平成99x」を読めません" in bad_year.text
    login(client, office, "shinsa")  # 審査 too
    for path in ("/ui/juminzei", "/ui/juminzei/worklist", "/ui/juminzei/intake"):
        assert client.get(path).status_code == 200, path


def test_roles_shape_the_tabs_and_a_user_without_the_role_gets_the_403_page(
    client: TestClient, office: str, db: Database
) -> None:
    login(client, office, "kansa")  # 監査: may read a taxpayer, not work the worklist
    page = client.get("/ui/juminzei")
    assert page.status_code == 200
    assert 'href="/ui/juminzei/worklist"' not in page.text
    for path in ("/ui/juminzei/worklist", "/ui/juminzei/intake"):
        denied = client.get(path)
        assert denied.status_code == 403 and "窓口" in denied.text, path
    login(client, office, "kanri")  # システム管理: no 課税 screen at all
    assert 'href="/ui/juminzei"' not in client.get("/ui/").text
    assert client.get("/ui/juminzei").status_code == 403
    with db.unit_of_work(office) as uow:
        denied_functions = set(
            uow.session.scalars(
                select(AuditRecordRow.function).where(AuditRecordRow.action == "denial")
            )
        )
    assert {
        "個人住民税：未照合の課税資料（作業一覧）",
        "個人住民税：給与支払報告書・公的年金等支払報告書の取込",
        "個人住民税：課税の照会（計算の内訳・期割）",
    } <= denied_functions


def test_the_upload_shows_every_count_and_each_rejected_rows_japanese_reason(
    client: TestClient, office: str, db: Database
) -> None:
    csrf = login(client, office, "madoguchi")
    negative = HANAKO.replace(",2000000,", ",-5,")
    bad = ICHIRO.replace(",5000000,", ",五百万,").replace("1980-04-01", "1980-13-01")
    content = kyuyo_csv(ICHIRO, STRANGER, negative, bad)
    # without the session's CSRF token nothing is read
    forged = client.post(
        "/ui/juminzei/intake",
        data={"csrf_token": "forged", "year": "令和8", "kind": "kyuyo"},
        files={"file": ("kyuyo.csv", content, "text/csv")},
    )
    assert forged.status_code == 403
    with db.unit_of_work(office) as uow:
        assert uow.session.scalar(select(func.count(BatchRow.id))) == 0
    r = _upload(client, csrf, content)
    assert r.status_code == 200, r.text
    counts = re.search(r'id="counts".*?<tbody><tr>(.*?)</tr>', r.text, re.S)
    assert counts
    assert re.findall(r'<td class="num">(\d+)</td>', counts.group(1)) == ["4", "2", "2", "1", "1"]
    rejects = re.search(r'id="rejects".*?</table>', r.text, re.S)
    assert rejects
    assert '<td class="num">4</td><td>支払金額が負の値です</td>' in rejects.group(0)
    assert (  # every fault of the row, one per line
        '<td class="num">5</td><td>生年月日が日付として読めません（1980-13-01）<br>'
        "支払金額が数字ではありません（五百万）</td>" in rejects.group(0)
    )
    assert 'href="/ui/juminzei/worklist?year=2026"' in r.text
    # the same file again is refused whole, with the service's reason
    again = _upload(client, csrf, content)
    assert again.status_code == 409 and "同じファイルは取込済みです" in again.text
    # a file without a required column: refused, nothing kept
    missing = _upload(client, csrf, b"a,b\n1,2\n")
    assert missing.status_code == 422 and "必須の列がありません" in missing.text
    with db.unit_of_work(office) as uow:
        assert uow.session.scalar(select(func.count(BatchRow.id))) == 1
        audited = list(
            uow.session.scalars(
                select(AuditRecordRow.subjects).where(
                    AuditRecordRow.function == "個人住民税：課税資料の取込"
                )
            )
        )
    assert audited == [[ICHIRO_NUMBER]]
    # the unmatched row is on the worklist with its reason
    worklist = client.get("/ui/juminzei/worklist", params={"year": "2026"}).text
    assert "見知らぬ　人" in worklist and "賦課期日（1月1日）の住民に該当者がいません" in worklist


def test_assign_and_forward_from_the_worklist(
    client: TestClient, office: str, db: Database
) -> None:
    csrf = login(client, office, "madoguchi")
    assert _upload(client, csrf, kyuyo_csv(STRANGER, WANDERER)).status_code == 200
    page = client.get("/ui/juminzei/worklist", params={"year": "2026"}).text
    stranger, wanderer = _row_id(page, "見知らぬ　人"), _row_id(page, "旅人　三郎")
    assert "：2 件" in page
    # a number that is not on the 賦課期日 list: 宛名管理 must say who it is; this town is not
    # connected to 庁内データ連携, so the page says so and writes nothing
    r = client.post(
        f"/ui/juminzei/income/{stranger}/assign",
        data={"csrf_token": csrf, "year": "2026", "atena_number": "000000000000999"},
    )
    assert r.status_code == 503
    assert "賦課期日（2026年1月1日）の住民一覧にありません" in r.text
    assert "住登外者かどうかを宛名管理に確かめられませんでした" in r.text
    assert re.search(rf'id="atena-{stranger}"[^>]*autofocus', r.text)  # back to that row
    assert _income(db, office)["見知らぬ　人"][0] == domain.UNMATCHED
    # without the CSRF token: refused before anything is read
    r = client.post(
        f"/ui/juminzei/income/{stranger}/assign",
        data={"year": "2026", "atena_number": "000000000000204"},
    )
    assert r.status_code == 403
    assert _income(db, office)["見知らぬ　人"][0] == domain.UNMATCHED
    # a 賦課期日 resident: matched, and the row leaves the list
    r = client.post(
        f"/ui/juminzei/income/{stranger}/assign",
        data={"csrf_token": csrf, "year": "2026", "atena_number": "000000000000204"},
    )
    assert r.status_code == 200 and "照合しました" in r.text
    assert "見知らぬ　人" not in r.text and "旅人　三郎" in r.text
    assert re.search(rf'id="atena-{wanderer}"[^>]*autofocus', r.text)  # the next row is ready
    assert _income(db, office)["見知らぬ　人"] == (domain.MATCHED, "000000000000204", "職員が照合")
    # 回送 needs its 回送先 (the service's message), then closes the record
    r = client.post(
        f"/ui/juminzei/income/{wanderer}/forward",
        data={"csrf_token": csrf, "year": "2026", "note": " "},
    )
    assert r.status_code == 422 and "回送先（市区町村名など）を入力してください" in r.text
    r = client.post(
        f"/ui/juminzei/income/{wanderer}/forward",
        data={"csrf_token": csrf, "year": "2026", "note": "隣町"},
    )
    assert r.status_code == 200 and "回送として処理しました" in r.text
    assert "未照合の課税資料はありません" in r.text
    assert _income(db, office)["旅人　三郎"] == (domain.FORWARDED, "", "回送: 隣町")
    # a record already forwarded: the service's 409
    r = client.post(
        f"/ui/juminzei/income/{wanderer}/forward",
        data={"csrf_token": csrf, "year": "2026", "note": "隣町"},
    )
    assert r.status_code == 409 and "回送済み" in r.text


def _assess(db: Database, tenant: str) -> None:
    with db.unit_of_work(tenant) as uow:
        report = assessment.assess_year(uow, CTX, cmd.AssessYear(YEAR, ASSESSED_ON))
        uow.commit()
    assert report.done and not report.errors


def test_the_taxpayer_page_shows_each_step_the_kiwari_and_the_notice(
    client: TestClient, office: str, db: Database
) -> None:
    csrf = login(client, office, "madoguchi")
    assert _upload(client, csrf, kyuyo_csv(ICHIRO)).status_code == 200
    _assess(db, office)
    with db.unit_of_work(office) as uow:
        row = uow.session.scalars(select(AssessmentRow)).one()
        steps: list[dict[str, Any]] = list(row.result["steps"])
        kiwari = [
            (k.label, "特別徴収", f"{int(k.amount):,}")
            for k in uow.session.scalars(select(InstallmentRow).order_by(InstallmentRow.id))
        ]
        total = sum(int(k) for k in uow.session.scalars(select(InstallmentRow.amount)))
        assessment_id, annual = row.id, row.annual_tax
    assert steps and kiwari
    r = client.get("/ui/juminzei", params={"atena": ICHIRO_NUMBER, "year": "令和8"})
    assert r.status_code == 200, r.text
    assert "課税　一郎" in r.text and "第1版　当初（現在の賦課）" in r.text
    assert f"{annual:,}円" in r.text and "特別徴収" in r.text
    table = re.search(r'id="steps-1".*?</table>', r.text, re.S)
    assert table
    shown = re.findall(
        r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>'
        r'<td class="num">(.*?)</td><td class="num">(.*?)</td></tr>',
        table.group(0),
    )

    def money(v: Any) -> str:
        return "" if v is None else f"{int(v):,}"

    assert shown == [
        (s["label"], money(s.get("city")), money(s.get("pref")), money(s.get("amount")))
        for s in steps
    ]
    periods = re.search(r'id="kiwari-1".*?</table>', r.text, re.S)
    assert periods
    rows = re.findall(
        r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>.*?</td><td class="num">(.*?)</td>',
        periods.group(0),
    )
    assert rows == kiwari and total == annual
    assert "見本商事株式会社" in r.text and "支払金額：5,000,000" in r.text  # the record
    assert "徴収区分：特別徴収" in r.text  # a code shown as the layout names it
    # the read is audited with the taxpayer as subject
    with db.unit_of_work(office) as uow:
        reads = list(
            uow.session.scalars(
                select(AuditRecordRow.subjects).where(
                    AuditRecordRow.function == "個人住民税：課税の照会"
                )
            )
        )
    assert [ICHIRO_NUMBER] in reads
    # the notice of the version, as a PDF (audited as a print)
    link = f'href="/ui/juminzei/assessments/{assessment_id}/notice.pdf"'
    assert link in r.text and 'accesskey="p"' in r.text
    pdf = client.get(f"/ui/juminzei/assessments/{assessment_id}/notice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    with db.unit_of_work(office) as uow:
        printed = uow.session.scalar(
            select(func.count(AuditRecordRow.id)).where(AuditRecordRow.category == "print")
        )
    assert printed == 1
    # nobody of that number in the 年度, and a malformed number: Japanese refusals
    none = client.get("/ui/juminzei", params={"atena": "000000000000203", "year": "2026"})
    assert none.status_code == 404 and "2026年度の課税はありません" in none.text
    typo = client.get("/ui/juminzei", params={"atena": "12ab", "year": "2026"})
    assert typo.status_code == 422 and "15桁の数字" in typo.text
    # 監査 reads the taxpayer but may not print the notice
    login(client, office, "kansa")
    r = client.get("/ui/juminzei", params={"atena": ICHIRO_NUMBER, "year": "2026"})
    assert r.status_code == 200 and link not in r.text
    denied = client.get(f"/ui/juminzei/assessments/{assessment_id}/notice.pdf")
    assert denied.status_code == 403


def test_a_correction_shows_both_versions_and_the_difference_as_new_kiwari(
    client: TestClient, office: str, db: Database
) -> None:
    csrf = login(client, office, "madoguchi")
    assert _upload(client, csrf, kyuyo_csv(ICHIRO)).status_code == 200
    _assess(db, office)
    # a 訂正 of the employer's report (訂正区分 1, a higher salary), then the 賦課 again
    fixed = ICHIRO.replace(",0,1,", ",1,1,").replace("5000000", "5600000")
    assert _upload(client, csrf, kyuyo_csv(fixed)).status_code == 200
    with db.unit_of_work(office) as uow:
        assessment.assess_person(uow, CTX, cmd.AssessPerson(YEAR, ICHIRO_NUMBER, ASSESSED_ON))
        uow.commit()
    with db.unit_of_work(office) as uow:
        versions = {
            a.version: (a.id, a.annual_tax) for a in uow.session.scalars(select(AssessmentRow))
        }
        added = [
            f"{int(k.amount):,}"
            for k in uow.session.scalars(
                select(InstallmentRow)
                .where(InstallmentRow.assessment_id == versions[2][0])
                .order_by(InstallmentRow.id)
            )
        ]
    assert versions[2][1] > versions[1][1] and added
    r = client.get("/ui/juminzei", params={"atena": ICHIRO_NUMBER, "year": "2026"})
    assert r.status_code == 200
    assert "第2版　更正（現在の賦課）" in r.text and "第1版　当初（前の版）" in r.text
    assert r.text.index('id="version-2"') < r.text.index('id="version-1"')  # newest first
    difference = re.search(r'id="kiwari-2".*?</table>', r.text, re.S)
    assert difference and "：差額" in difference.group(0)
    amounts = re.findall(r'<td class="num">(-?[\d,]+)</td><td>更正</td>', difference.group(0))
    assert amounts == added
    assert "訂正前（履歴）" in r.text and "支払金額：5,600,000" in r.text  # both records shown
    for version, (assessment_id, _) in versions.items():  # each version's notice
        assert (
            f'/ui/juminzei/assessments/{assessment_id}/notice.pdf" id="notice-{version}"' in r.text
        )


def test_the_upload_path_takes_a_64_mb_file_and_other_pages_keep_the_default_limit() -> None:
    from kikan.juminzei.web.intake import MAX_CSV
    from kikan.platform.limits import DEFAULT_LIMIT, limit_for

    assert limit_for("/ui/juminzei/intake") > MAX_CSV == 64 * 1024 * 1024
    assert limit_for("/ui/juminzei/worklist") == DEFAULT_LIMIT
    assert limit_for("/ui/juminzei/income/1/assign") == DEFAULT_LIMIT
