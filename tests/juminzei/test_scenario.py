"""The issue's scenario over real HTTP (uvicorn): residents move in (before the 賦課期日) through the
resident register; 個人住民税 — connected to 庁内データ連携 like another vendor's tax system —
takes the register *as of 1月1日*, an employer's 給与支払報告書 CSV comes in (one row for a person
not in the register: the worklist numbers them as a 住登外者 through 宛名管理's 付番 API), the
年度 is assessed, the notice PDF shows the calculation, and 収納 — a separate linkage client —
reads the 期割. A corrected report (訂正) then leads to a 更正 whose difference 収納 reads next."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from kikan.juminzei.linkage import CONSUMER
from kikan.platform.uow import Database
from tests.atena.test_scenario import _token
from tests.residents.conftest import ADDRESS, PRIOR, person
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    office,
    server,
    settings,
)

API = "/api/v1/juminzei"
YEAR = 2026
MOVED_IN = "2025-06-01"  # before the 賦課期日 2026-01-01
HEADER = (
    "提出義務者番号,提出義務者名称,訂正区分,徴収区分,受給者氏名,受給者氏名カナ,生年月日,"
    "住所（1月1日現在）,支払金額,社会保険料等の金額,控除対象配偶者の有無,配偶者の合計所得,"
    "控除対象扶養親族の数（その他）\n"
)
EMPLOYER = "1234567890123,日和工業株式会社"


def _connect(o: Office) -> None:
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "個人住民税システム", "scopes": list(CONSUMER.scopes)},
        headers=o.admin,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    put = o.http.put(
        f"{API}/linkage",
        json={
            "base_url": str(o.http.base_url).rstrip("/"),
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
        headers=o.admin,
    )
    assert put.status_code == 200, put.text


def _collection(o: Office) -> dict[str, str]:
    """収納 as another vendor's system: a linkage client with the 期割 scope only."""
    r = o.http.post(
        "/api/v1/linkage/clients",
        json={"name": "収納システム", "scopes": ["juminzei.kiwari"]},
        headers=o.admin,
    )
    assert r.status_code == 201, r.text
    return _token(o.http, r.json())


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


def test_employer_csv_to_assessment_notice_and_installments_for_collection(
    office: Office,  # noqa: F811
    db: Database,
) -> None:
    o = office
    movers = [
        {"person": person("住民", "税子", "ジュウミン", "ゼイコ", "2", "昭和60年3月3日", "世帯主")},
        {"person": person("住民", "税夫", "ジュウミン", "ゼイオ", "1", "昭和58年7月7日", "夫")},
    ]
    body = {"movers": movers, "address": ADDRESS, "prior_address": PRIOR,
            "move_date": MOVED_IN, "notified_date": "2025-06-02"}  # fmt: skip
    zeiko, zeio = o.ok("/residents/move-in", body, 201)["atena_numbers"]
    _connect(o)
    shuno = _collection(o)

    # 1. who lived here on 2026-01-01, from the register as of that day
    r = o.http.post(f"{API}/kijitsu", json={"fiscal_year": YEAR}, headers=o.clerk)
    assert r.status_code == 200, r.text
    assert r.json()["persons"] == 2

    # 2. the employer's file: two residents (one 特別徴収, one 普通徴収), a 住登外 worker, a bad row
    content = _csv(
        f"{EMPLOYER},0,1,住民　税子,ジュウミン ゼイコ,1985-03-03,日和市,4500000,650000,0,0,0",
        f"{EMPLOYER},0,2,住民　税夫,ジュウミン ゼイオ,1983-07-07,日和市,1200000,170000,0,0,0",
        f"{EMPLOYER},0,1,居所　勤,キョショ ツトム,1990-10-10,日和市寮,3000000,430000,0,0,0",
        f"{EMPLOYER},0,1,不備　行,,1990-10-10,日和市,三百万,0,0,0,0",
    )
    r = o.http.post(f"{API}/intake/kyuyo", params={"fiscal_year": YEAR, "filename": "k.csv"},
                    content=content, headers={**o.clerk, "Content-Type": "text/csv"})  # fmt: skip
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (batch["rows"], batch["accepted"], batch["rejected"]) == (4, 3, 1)
    assert (batch["matched"], batch["unmatched"]) == (2, 1)
    assert "支払金額が数字ではありません" in batch["rejects"][0]["reasons"][0]

    # 3. the worklist: the worker lives here without 住民登録 → 住登外者 through the 付番 API
    (open_row,) = o.http.get(f"{API}/worklist", params={"fiscal_year": YEAR},
                             headers=o.clerk).json()  # fmt: skip
    assert open_row["name"] == "居所　勤"
    items = {"family_name": "居所", "given_name": "勤", "family_name_kana": "キョショ",
             "given_name_kana": "ツトム", "sex": "1", "birth_date": "平成2年10月10日",
             "prefecture": "架空県", "city": "日和市", "town": "寮町", "banchi": "１番地"}  # fmt: skip
    r = o.http.post(f"{API}/income/{open_row['id']}/number", json={"person": items},
                    headers=o.clerk)  # fmt: skip
    assert r.status_code == 200, r.text
    numbered = r.json()
    assert numbered["result"] == "numbered" and numbered["income"]["match_state"] == "jutogai"
    worker = numbered["atena_number"]
    assert o.http.get(f"{API}/worklist", params={"fiscal_year": YEAR},
                      headers=o.clerk).json() == []  # fmt: skip

    # 4. 賦課 of the year
    r = o.http.post(f"{API}/assessments/run", json={"fiscal_year": YEAR, "on": "2026-05-15"},
                    headers=o.clerk)  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["assessed"], r.json()["errors"]) == (3, [])
    tp = o.http.get(f"{API}/taxpayers/{zeiko}", params={"fiscal_year": YEAR}, headers=o.clerk)
    assert tp.status_code == 200, tp.text
    (v1,) = tp.json()["versions"]
    assert v1["method"] == "tokucho" and v1["employer_name"] == "日和工業株式会社"
    steps = {s["key"]: s["amount"] for s in v1["result"]["steps"]}
    assert steps["taxable_income"] == v1["result"]["taxable_income"] > 0
    assert sum(i["amount"] for i in v1["installments"]) == v1["annual_tax"]
    # the 試算 route computes the same from the same case, nothing stored
    calc = o.http.post(f"{API}/calc", json={"fiscal_year": YEAR, "case": {
        "age": 40, "sex": "female", "salary_revenue": 4_500_000, "social_insurance": 650_000}},
        headers=o.clerk)  # fmt: skip
    assert calc.status_code == 200 and calc.json()["annual_tax"] == v1["annual_tax"]
    assert o.http.get(f"{API}/taxpayers/{worker}", params={"fiscal_year": YEAR},
                      headers=o.clerk).json()["versions"][0]["annual_tax"] > 0  # fmt: skip

    # 5. the notice shows the calculation
    pdf = o.http.get(f"{API}/assessments/{v1['id']}/notice.pdf", headers=o.clerk)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "特別徴収税額の決定通知書" in text and f"{v1['annual_tax']:,}円" in text

    # 6. 収納 reads the 期割 (a staff token is not enough; the scope is)
    refused = o.http.get(f"{API}/client/installments", headers=o.clerk)
    assert refused.status_code == 401
    got = o.http.get(f"{API}/client/installments", params={"after": 0}, headers=shuno)
    assert got.status_code == 200, got.text
    first: list[dict[str, Any]] = got.json()
    mine = [i for i in first if i["atena_number"] == zeiko]
    assert len(mine) == 12 and {i["kind"] for i in mine} == {"当初"}
    assert sum(i["amount"] for i in mine) == v1["annual_tax"]
    fucho = [i for i in first if i["atena_number"] == zeio]
    assert [i["label"] for i in fucho][:1] == ["第1期"] and {i["method"] for i in fucho} == {
        "fucho"
    }

    # 7. a corrected report (訂正) after the notice → 更正; 収納 reads only the difference
    fix = _csv(
        f"{EMPLOYER},1,1,住民　税子,ジュウミン ゼイコ,1985-03-03,日和市,4800000,690000,0,0,0"
    )
    r = o.http.post(f"{API}/intake/kyuyo", params={"fiscal_year": YEAR, "filename": "fix.csv"},
                    content=fix, headers={**o.clerk, "Content-Type": "text/csv"})  # fmt: skip
    assert r.status_code == 201 and r.json()["matched"] == 1
    r = o.http.post(f"{API}/taxpayers/{zeiko}/assess",
                    json={"fiscal_year": YEAR, "on": "2026-09-20"}, headers=o.clerk)  # fmt: skip
    assert r.status_code == 200, r.text
    old, new = r.json()["versions"]
    assert (old["current"], new["current"], new["reason"]) == (False, True, "更正")
    after = o.http.get(f"{API}/client/installments", params={"after": first[-1]["id"]},
                       headers=shuno).json()  # fmt: skip
    assert after and {i["kind"] for i in after} == {"更正"}
    assert {i["atena_number"] for i in after} == {zeiko}
    assert sum(i["amount"] for i in after) == new["annual_tax"] - old["annual_tax"]
    assert min(i["due_date"] for i in after) >= "2026-10-10"  # months already due are kept
