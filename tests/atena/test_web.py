"""The staff pages of 宛名管理 (TestClient, SQLite and PostgreSQL): the 住登外者 register and the
名寄せ worklist, through the forms a browser posts with the session's CSRF token.

Why: the pages must run the module's own use cases — every fault of an entry next to its field
with nothing written, the candidates before a number, the 代表宛名 chosen explicitly, the
service's 409 shown as its message — and refuse staff without the catalogue's roles.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kikan.atena.store import CandidateRow, IdentityRow, JutogaiRow
from kikan.platform.uow import Database
from tests.atena.conftest import landowner
from tests.conftest import create_staff
from tests.web.conftest import login

NUMBER = re.compile(r"/ui/atena/jutogai/(\d{15})")
SEARCH_ID = re.compile(r'name="search_id" value="([0-9a-f]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
def office(db: Database, town: str) -> str:
    """The town of tests/atena with staff per role."""
    for login_id, roles in (
        ("madoguchi", ["counter"]),
        ("kansa", ["auditor"]),
        ("kanri", ["sysadmin"]),
    ):
        create_staff(db, town, login_id, roles)
    return town


def _entry(csrf: str, **changes: str) -> dict[str, str]:
    """The registration form as the clerk fills it in (a landowner taxed by 固定資産税)."""
    return {"csrf_token": csrf, "action": "register", **landowner(**changes)}


def _register(client: TestClient, csrf: str, **changes: str) -> Any:
    return client.post("/ui/atena/jutogai/new", data=_entry(csrf, **changes))


def _count(db: Database, tenant: str, model: Any) -> int:
    with db.unit_of_work(tenant) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_register_list_and_detail_with_history(client: TestClient, office: str) -> None:
    csrf = login(client, office, "madoguchi")
    home = client.get("/ui/").text
    assert 'href="/ui/atena/jutogai" accesskey="j"' in home
    assert 'href="/ui/atena/nayose" accesskey="y"' in home
    form = client.get("/ui/atena/jutogai/new")
    assert form.status_code == 200
    assert re.search(r'id="f-family_name"[^>]* autofocus', form.text)  # first field focused
    assert '<option value="012"' in form.text and "固定資産税" in form.text
    r = _register(client, csrf)
    assert r.status_code == 200, r.text
    m = NUMBER.search(str(r.url))
    assert m, r.url
    number = m.group(1)
    assert "住登外者を登録しました" in r.text and "髙橋　一郎" in r.text
    assert "昭和45年4月1日" in r.text and "新規付番" in r.text  # history row
    assert 'id="history"' in r.text
    listed = client.get("/ui/atena/jutogai")
    assert listed.status_code == 200 and number in listed.text
    assert f'href="/ui/atena/jutogai/{number}" data-row-link' in listed.text
    found = client.post("/ui/atena/jutogai", data={"csrf_token": csrf, "q": "タカハシ　イチロウ"})
    assert found.status_code == 200 and number in found.text and "1 件" in found.text
    missing = client.post("/ui/atena/jutogai", data={"csrf_token": csrf, "q": "サトウ"})
    assert number not in missing.text and "0 件" in missing.text
    # correction: pre-filled, the version kept; a stale version answers 409 and writes nothing
    edit = client.get(f"/ui/atena/jutogai/{number}/edit")
    assert edit.status_code == 200 and 'value="髙橋"' in edit.text
    version = VERSION.search(edit.text)
    assert version and version.group(1) == "1"
    changed = _entry(csrf, banchi="２番地", version="1")
    r = client.post(f"/ui/atena/jutogai/{number}/edit", data=changed)
    assert r.status_code == 200 and "住登外者を修正しました" in r.text and "２番地" in r.text
    r = client.post(f"/ui/atena/jutogai/{number}/edit", data={**changed, "banchi": "３番地"})
    assert r.status_code == 409 and "他の職員が先に更新しました" in r.text
    assert 'value="３番地"' in r.text  # what the clerk typed is kept


def test_a_bad_entry_shows_every_fault_and_writes_nothing(
    client: TestClient, office: str, db: Database
) -> None:
    csrf = login(client, office, "madoguchi")
    r = _register(client, csrf, family_name="ﾀｶﾊｼ", postal_code="53000")
    assert r.status_code == 422
    assert "氏: 半角文字（英数字・記号・半角カナ・空白）は使えません。" in r.text
    assert "郵便番号: 7桁で入力してください。" in r.text
    assert 'value="ﾀｶﾊｼ"' in r.text and 'value="53000"' in r.text  # kept as typed
    assert re.search(r'id="f-family_name"[^>]*aria-invalid="true"[^>]*autofocus', r.text)
    assert 'id="e-family_name"' in r.text
    assert _count(db, office, JutogaiRow) == 0
    # without the CSRF token nothing is even checked
    r = client.post("/ui/atena/jutogai/new", data={**_entry(""), "csrf_token": "forged"})
    assert r.status_code == 403
    assert _count(db, office, JutogaiRow) == 0


def test_candidates_then_number_then_link_on_the_worklist(
    client: TestClient, office: str, db: Database
) -> None:
    csrf = login(client, office, "madoguchi")
    first = NUMBER.search(str(_register(client, csrf).url))
    assert first
    a = first.group(1)
    # the same person again (異体字, moved): the candidates, no number yet
    again = {"family_name": "高橋", "town": "梅田二丁目"}
    r = _register(client, csrf, **again)
    assert r.status_code == 200 and "同一人の可能性がある宛名があります（1件）" in r.text
    assert f'href="/ui/atena/jutogai/{a}" data-row-link' in r.text
    assert 'value="梅田二丁目"' in r.text  # the entry stays on the screen
    assert _count(db, office, JutogaiRow) == 1
    offer = SEARCH_ID.search(r.text)
    assert offer
    r = _register(client, csrf, **again, action="number", search_id=offer.group(1))
    second = NUMBER.search(str(r.url))
    assert r.status_code == 200 and second and second.group(1) != a
    b = second.group(1)
    assert _count(db, office, JutogaiRow) == 2
    # the worklist: both records side by side, the evidence in words
    work = client.get("/ui/atena/nayose")
    assert work.status_code == 200
    assert a in work.text and b in work.text
    assert "一致（異体字・かなの違い）" in work.text  # 氏名: 髙 and 高
    assert work.text.count('<td class="agreement">不一致</td>') == 1  # 住所 only
    assert "昭和45年4月1日" in work.text and "梅田二丁目" in work.text
    pair = re.search(r'href="/ui/atena/nayose/pairs/(\d+)" data-row-link autofocus', work.text)
    assert pair
    page = client.get(f"/ui/atena/nayose/pairs/{pair.group(1)}")
    assert page.status_code == 200
    assert " checked" not in page.text  # the 代表宛名 has no default
    version = VERSION.search(page.text)
    assert version
    decide = {"csrf_token": csrf, "version": version.group(1), "action": "link", "note": "同一人"}
    r = client.post(f"/ui/atena/nayose/pairs/{pair.group(1)}", data=decide)
    assert r.status_code == 422 and "代表宛名は" in r.text  # not chosen: refused, nothing done
    r = client.post(f"/ui/atena/nayose/pairs/{pair.group(1)}", data={**decide, "representative": b})
    assert r.status_code == 200 and "名寄せしました。" in r.text
    assert "未処理の名寄せ候補はありません。" in r.text
    with db.unit_of_work(office) as uow:
        members = {i.atena_number: i for i in uow.session.scalars(select(IdentityRow))}
        assert members[a].nayose_target == b and members[b].representative
        assert uow.session.scalars(select(CandidateRow)).one().status == "linked"
    r = client.post(f"/ui/atena/nayose/pairs/{pair.group(1)}", data={**decide, "representative": a})
    assert r.status_code == 409 and "この名寄せ候補は既に処理されています。" in r.text
    # 名寄せ履歴 and 名寄せ解除 (a reason is required)
    history = client.get(f"/ui/atena/nayose/history/{a}")
    assert history.status_code == 200 and "名寄せ" in history.text and b in history.text
    event = re.search(r'name="event_id" value="(\d+)"', history.text)
    assert event
    undo = {"csrf_token": csrf, "event_id": event.group(1)}
    r = client.post(f"/ui/atena/nayose/history/{a}", data={**undo, "reason": ""})
    assert r.status_code == 422 and "解除の理由を入力してください。" in r.text
    r = client.post(f"/ui/atena/nayose/history/{a}", data={**undo, "reason": "別人と判明"})
    assert r.status_code == 200 and "名寄せを解除しました。" in r.text and "解除済み" in r.text
    with db.unit_of_work(office) as uow:
        assert not any(i.nayose_target for i in uow.session.scalars(select(IdentityRow)))


def test_staff_without_the_role_are_refused(client: TestClient, office: str) -> None:
    login(client, office, "kanri")
    home = client.get("/ui/").text
    assert "/ui/atena/jutogai" not in home and "/ui/atena/nayose" not in home
    assert client.get("/ui/atena/jutogai").status_code == 403
    assert client.get("/ui/atena/nayose").status_code == 403
    csrf = login(client, office, "kansa")  # the auditor reads, never writes
    assert client.get("/ui/atena/jutogai").status_code == 200
    assert client.get("/ui/atena/nayose").status_code == 200
    r = client.get("/ui/atena/jutogai/new")
    assert r.status_code == 403 and "窓口" in r.text
    assert _register(client, csrf).status_code == 403
    r = client.post("/ui/atena/nayose/pairs/1", data={"csrf_token": csrf, "version": "1"})
    assert r.status_code == 403
    client.cookies.clear()
    r = client.get("/ui/atena/nayose", follow_redirects=False)
    assert r.status_code == 303 and "/ui/login" in r.headers["location"]
