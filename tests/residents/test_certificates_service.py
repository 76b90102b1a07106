"""Certificates beyond the HTTP scenarios: the CLI, the 職務代理者 switch, the demo seal, and
concurrent issues that must never exchange their subjects."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kikan.forms.official_seal import draw_official_seal
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.store import CertificateIssuanceRow
from kikan.platform.uow import Database
from kikan.residents.certificates import (
    CertificateRefused,
    CertificateRequest,
    Requester,
    SetCertifier,
    issue_certificate,
    set_certifier,
)
from kikan.residents.certificates.rules import Requester as RulesRequester
from kikan.residents.certificates.rules import catalogue, matches_perpetrator, select_items
from kikan.residents.domain import RegisterError
from tests.conftest import Backend
from tests.residents.conftest import TODAY, Clerk, family_move_in
from tests.residents.test_certificates import flat, pdftotext

ACTOR = audit.Actor(kind="staff", id="shinsa", terminal="T")


def _ctx(now_day: date | None = None) -> Context:
    if now_day is None:
        return Context(actor=ACTOR)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return Context(actor=ACTOR, now=datetime(now_day.year, now_day.month, now_day.day, 10,
                                             tzinfo=ZoneInfo("Asia/Tokyo")))  # fmt: skip


def _self(atena: str) -> CertificateRequest:
    return CertificateRequest(
        kind="juminhyo", atena_number=atena, requester=Requester(kind="self", atena_number=atena)
    )


def test_deputy_signs_within_the_period_with_their_seal(clerk: Clerk, db: Database) -> None:
    head = family_move_in(clerk)["atena_numbers"][0]
    with db.unit_of_work(clerk.tenant) as uow:
        tenancy.update_tenant_profile(
            uow, ACTOR, code=clerk.tenant, seal_png=draw_official_seal("日和市長之印")
        )
        set_certifier(
            uow,
            _ctx(),
            SetCertifier(
                deputy_title="副市長",
                deputy_name="代理 次郎",
                deputy_from=TODAY,
                deputy_until=TODAY + timedelta(days=3),
                notice="この印は黒色です",
            ),
        )
        uow.commit()
    during = issue_certificate(db, clerk.tenant, _ctx(), _self(head))
    text = flat(pdftotext(during.pdf))
    assert "日和市長職務代理者副市長" in text and "代理次郎" in text and "試験太郎" not in text
    assert "この印は黒色です" in text
    after = issue_certificate(db, clerk.tenant, _ctx(TODAY + timedelta(days=4)), _self(head))
    text = flat(pdftotext(after.pdf))
    assert "試験太郎" in text and "代理次郎" not in text


def test_no_certificate_without_the_certifiers_name(clerk: Clerk, db: Database) -> None:
    head = family_move_in(clerk)["atena_numbers"][0]
    with db.unit_of_work(clerk.tenant) as uow:
        tenancy.update_tenant_profile(uow, ACTOR, code=clerk.tenant, mayor_name="")
        uow.commit()
    r = clerk.post(
        f"/residents/{head}/certificates",
        {"kind": "juminhyo", "requester": {"kind": "self", "atena_number": head}},
    )
    assert r.status_code == 409 and "認証者" in r.json()["detail"]


def test_concurrent_issues_never_exchange_subjects(clerk: Clerk, db: Database) -> None:
    """Threads issue certificates for different households at once; each PDF must hold its own
    household only, and its register entry its own subjects and digest."""
    families = []
    for i in range(4):
        body_extra = {"address": {"prefecture": "架空県", "city": "日和市", "town": f"{i}丁目",
                                  "banchi": f"{i + 1}番地"}}  # fmt: skip
        families.append(family_move_in(clerk, **body_extra)["atena_numbers"])
    heads = [f[0] for f in families] * 3

    def one(atena: str) -> tuple[str, bytes, str]:
        done = issue_certificate(db, clerk.tenant, _ctx(), _self(atena))
        return atena, done.pdf, done.issue_number

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, heads))
    numbers = [n for _a, _p, n in results]
    assert len(set(numbers)) == len(numbers)
    by_head = {f[0]: f for f in families}
    with db.unit_of_work(clerk.tenant) as uow:
        rows = {
            r.issue_number: (list(r.subject_refs), r.pdf_sha256)
            for r in uow.session.scalars(select(CertificateIssuanceRow))
        }
    for atena, pdf, number in results:
        text = flat(pdftotext(pdf))
        i = [f[0] for f in families].index(atena)
        assert f"{i}丁目{i + 1}番地" in text
        for j in range(4):
            if j != i:
                assert f"{j}丁目{j + 1}番地" not in text
        assert rows[number] == (by_head[atena], hashlib.sha256(pdf).hexdigest())


def test_refusal_raised_by_the_service_is_audited_there(clerk: Clerk, db: Database) -> None:
    head, wife, _child = family_move_in(clerk)["atena_numbers"]
    clerk.ok(
        f"/residents/{wife}/support-measures",
        {"start_date": TODAY.isoformat(), "perpetrators": [{"氏名": "加害 一郎"}]},
        status=201,
    )
    req = CertificateRequest(
        kind="juminhyo",
        atena_number=head,
        requester=Requester(kind="official", name="加害　一郎", purpose="x"),
    )
    # even as 公用 (which is otherwise allowed), a listed 加害者 is refused; widths are ignored
    with pytest.raises(CertificateRefused) as refused:
        issue_certificate(db, clerk.tenant, _ctx(), req)
    assert refused.value.extra["reason"] == "support_measure_perpetrator"
    official = CertificateRequest(
        kind="juminhyo",
        atena_number=head,
        requester=Requester(kind="official", name="日和警察署", purpose="捜査関係事項照会"),
    )
    done = issue_certificate(db, clerk.tenant, _ctx(), official)
    assert any("支援措置" in w for w in done.warnings)


def test_rules_are_data_and_refuse_what_a_requester_may_not_have() -> None:
    cat = catalogue()
    assert {k.form_id for k in cat.kinds.values()} == {f"001000{i}" for i in range(1, 7)}
    third = RulesRequester(kind="third_party", name="A", purpose="B")
    default = select_items(cat.kind("juminhyo"), third)
    assert "my_number" not in default.items and "householder" in default.items
    with pytest.raises(RegisterError, match="個人番号"):
        select_items(cat.kind("juminhyo"), third, include=["my_number"])
    with pytest.raises(RegisterError, match="記載事項を選べません"):
        select_items(cat.kind("tenshutsu"), third, include=["honseki"])
    assert matches_perpetrator(
        RulesRequester(kind="third_party", name="加害　一郎"), [{"氏名": "加害 一郎"}]
    )
    assert not matches_perpetrator(
        RulesRequester(kind="third_party", name="加害　二郎"), [{"氏名": "加害 一郎"}]
    )
    assert matches_perpetrator(
        RulesRequester(kind="agent", name="誰か", atena_number="000000000000019"),
        [{"氏名": "別名", "宛名番号": "000000000000019"}],
    )


def test_seal_is_black_on_transparent() -> None:
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(draw_official_seal("日和市長之印"))).convert("RGBA")
    raw = img.tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    colours = {px for px in pixels if px[3] > 0}
    assert colours and all(r == g == b == 0 for r, g, b, _a in colours)
    assert img.getpixel((img.width // 2, img.height // 2))[3] in (0, 255)
    assert any(px[3] == 0 for px in pixels)  # transparent background


def test_cli_writes_the_pdf_and_refuses_clearly(
    clerk: Clerk, backend: Backend, tmp_path: Path
) -> None:
    head = family_move_in(clerk)["atena_numbers"][0]
    env = {
        **os.environ,
        "KIKAN_VAR_DIR": str(tmp_path),
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    out = tmp_path / "out" / "juminhyo.pdf"
    args = [sys.executable, "-m", "kikan", "certificate", "issue", "--tenant", clerk.tenant,
            "--atena", head, "--kind", "juminhyo", "--out", str(out)]  # fmt: skip
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF") and "発行番号" in done.stdout
    assert "青木太郎" in flat(pdftotext(out.read_bytes()))
    bad = subprocess.run(
        [*args[:-2], "--out", str(tmp_path / "x.pdf"), "--requester", "third_party",
         "--requester-name", "某"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "利用目的" in bad.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_certifier_settings_endpoint_needs_sysadmin_and_a_black_seal(
    clerk: Clerk, db: Database
) -> None:
    import base64
    from io import BytesIO

    from PIL import Image

    from tests.conftest import bearer, create_staff

    body = {
        "deputy_title": "副市長",
        "deputy_name": "代理 三郎",
        "deputy_from": TODAY.isoformat(),
        "deputy_seal_png": base64.b64encode(draw_official_seal("日和市長職務代理者印")).decode(),
        "notice": "この印は黒色です",
    }
    r = clerk.client.put("/api/v1/residents/certifier", json=body, headers=clerk.h)
    assert r.status_code == 403  # 窓口・審査 may not change the certifier
    create_staff(db, clerk.tenant, "kanri", ["sysadmin"])
    admin = bearer(clerk.client, clerk.tenant, "kanri")
    red = BytesIO()
    Image.new("RGBA", (200, 200), (200, 0, 0, 255)).save(red, format="PNG")
    bad = {**body, "mayor_seal_png": base64.b64encode(red.getvalue()).decode()}
    r = clerk.client.put("/api/v1/residents/certifier", json=bad, headers=admin)
    assert r.status_code == 422 and "黒色" in r.json()["detail"]
    r = clerk.client.put("/api/v1/residents/certifier", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["has_deputy_seal"] and r.json()["deputy_name"] == "代理 三郎"
    head = family_move_in(clerk)["atena_numbers"][0]
    pdf = issue_certificate(db, clerk.tenant, _ctx(), _self(head)).pdf
    assert "代理三郎" in flat(pdftotext(pdf))
