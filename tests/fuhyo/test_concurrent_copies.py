"""Never the wrong person, for the 写し: many requests for different 附票 at once against the real
server (uvicorn, its thread pool) each get a PDF naming only their own 附票's person, and every
issue number in the issuance register is unique (in the spirit of tests/never_wrong_person)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
from pypdf import PdfReader

from kikan.platform.uow import Database
from tests.seal.test_linkage_http import (  # noqa: F401 - fixtures
    Office,
    office,
    server,
    settings,
)

#: one given name per 附票; none of these characters occurs in the form's fixed text
GIVEN = ["桜翔", "梅陽", "椿蓮", "菊湊", "蘭颯", "萩凛", "藤葵", "桐結"]
ROUNDS = 3


def _make(o: Office, given: str) -> int:
    body = {
        "honseki": {"city": "日和市", "chiban": f"{GIVEN.index(given) + 1}番地", "head_family_name": "検証",
                    "head_given_name": given},
        "reason": "戸籍の編製",
    }  # fmt: skip
    made = o.http.post("/api/v1/fuhyo/records", json=body, headers=o.clerk)
    assert made.status_code == 201, made.text
    rid = int(made.json()["id"])
    person = {
        "family_name": "検証",
        "given_name": given,
        "birth_date": "1980-01-01",
        "sex": "1",
        "address": {"city": "日和市", "town": "松町", "banchi": "1番地"},
        "address_set_date": "2000-04-01",
    }
    entry = o.http.post(
        f"/api/v1/fuhyo/records/{rid}/entries",
        json={"person": person, "reason": "届出"},
        headers=o.clerk,
    )
    assert entry.status_code == 201, entry.text
    return rid


def test_concurrent_copies_never_mix_and_issue_numbers_stay_unique(
    office: Office,  # noqa: F811
    db: Database,
) -> None:
    o = office
    records = {given: _make(o, given) for given in GIVEN}
    base = str(o.http.base_url)

    def copy(given: str) -> tuple[str, str, str]:
        with httpx.Client(base_url=base, timeout=60) as http:
            r = http.post(
                f"/api/v1/fuhyo/records/{records[given]}/copy",
                json={"requester_kind": "self"},
                headers=o.clerk,
            )
        assert r.status_code == 200, r.text
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        return given, text, r.headers["x-issue-number"]

    asked = GIVEN * ROUNDS
    with ThreadPoolExecutor(max_workers=len(GIVEN)) as pool:
        done = list(pool.map(copy, asked))
    for given, text, _number in done:
        assert given in text, text
        others = [g for g in GIVEN if g != given and g in text]
        assert not others, f"{given} の写しに {others}"
    numbers = [number for _given, _text, number in done]
    assert len(set(numbers)) == len(asked)
