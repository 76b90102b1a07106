"""Fast page tests through TestClient (SQLite and PostgreSQL): rendering, CSRF, roles, tenant
isolation, the 異動 flow with the service's own validation, double-submit protection, timings.

Why: the browser tests prove the screens work by keyboard; these pin down the security rules of
the pages (same session and CSRF as the API, same role checks, every read audited) quickly.
"""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from kikan.web.store import CounterTimingRow, SearchHistoryRow
from tests.conftest import create_staff, create_tenant
from tests.web.conftest import TODAY, Town, login, login_form_token, ui_search

TIMING = re.compile(r'name="timing" value="(\d+)"')


def _family_form(csrf: str, timing: str, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "timing": timing,
        "members": "2",
        "reason": "国内転入",
        "move_date": TODAY.isoformat(),
        "notified_date": TODAY.isoformat(),
        "m0_family_name": "春野",
        "m0_given_name": "一郎",
        "m0_family_name_kana": "ﾊﾙﾉ",
        "m0_given_name_kana": "ｲﾁﾛｳ",
        "m0_birth_date": "昭和60年1月2日",
        "m0_sex": "1",
        "m0_zokugara": "世帯主",
        "m1_family_name": "春野",
        "m1_given_name": "桜",
        "m1_family_name_kana": "ハルノ",
        "m1_given_name_kana": "サクラ",
        "m1_birth_date": "令和2年6月7日",
        "m1_sex": "2",
        "m1_zokugara": "子",
        "addr_prefecture": "架空県",
        "addr_city": "日和市",
        "addr_town": "松町一丁目",
        "addr_banchi": "9番地",
        "prior_prefecture": "東京都",
        "prior_city": "千代田区",
        "prior_town": "千代田",
        "prior_banchi": "1番1号",
        **extra,
    }


def test_pages_need_a_session_and_redirect_to_login(client: TestClient, town: Town) -> None:
    client.cookies.clear()
    r = client.get("/ui/residents", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login?next=%2Fui%2Fresidents"
    r = client.get("/ui/residents", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["HX-Redirect"].startswith("/ui/login")


def test_wrong_password_shows_a_japanese_message(client: TestClient, town: Town) -> None:
    r = client.post(
        "/ui/login",
        data={
            "tenant": town.code,
            "login_id": "madoguchi",
            "password": "nope-nope-nope",
            "csrf_token": login_form_token(client),
        },
    )
    assert r.status_code == 401
    assert "ログインIDまたはパスワードが正しくありません。" in r.text


def test_repeated_wrong_passwords_make_the_login_page_wait(client: TestClient, town: Town) -> None:
    def attempt() -> httpx.Response:
        return client.post(
            "/ui/login",
            data={
                "tenant": town.code,
                "login_id": "madoguchi",
                "password": "nope-nope-nope",
                "csrf_token": login_form_token(client),
            },
        )

    assert [attempt().status_code for _ in range(5)] == [401] * 5
    waiting = attempt()
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) >= 1
    assert "しばらくの間受け付けません" in waiting.text


def test_login_form_needs_its_csrf_token(client: TestClient, town: Town) -> None:
    """Login CSRF: a cross-site page that posts the form (no token, or one it made up) cannot
    sign the browser in — not even with right credentials."""
    client.cookies.clear()
    good = {"tenant": town.code, "login_id": "madoguchi", "password": "Test-Password-2026"}
    missing = client.post("/ui/login", data=good, follow_redirects=False)
    assert missing.status_code == 403 and "kikan_session" not in missing.cookies
    assert "もう一度ログインしてください" in missing.text
    token = login_form_token(client)
    forged = client.post(
        "/ui/login", data={**good, "csrf_token": token + "x"}, follow_redirects=False
    )
    assert forged.status_code == 403 and "kikan_session" not in forged.cookies
    client.cookies.clear()
    no_cookie = client.post("/ui/login", data={**good, "csrf_token": token}, follow_redirects=False)
    assert no_cookie.status_code == 403
    page = client.get("/ui/login")
    cookie = page.headers["set-cookie"]
    assert "kikan_login_csrf=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=strict" in cookie.lower()
    ok = client.post(
        "/ui/login",
        data={**good, "csrf_token": login_form_token(client)},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/ui/"


def test_login_does_not_redirect_off_site(client: TestClient, town: Town) -> None:
    r = client.post(
        "/ui/login",
        data={
            "tenant": town.code,
            "login_id": "madoguchi",
            "password": "Test-Password-2026",
            "next": "https://evil.example/",
            "csrf_token": login_form_token(client),
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/ui/"


def test_the_ui_session_is_the_api_session(client: TestClient, town: Town) -> None:
    csrf = login(client, town.code, "madoguchi")
    assert client.get("/api/v1/auth/me").json()["login_id"] == "madoguchi"
    # and the CSRF token on the page is the session's: the API accepts it for unsafe requests
    r = client.post(
        "/api/v1/residents/search", json={"name": "ヤマダ"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text


def test_unsafe_page_requests_need_the_csrf_token(
    client: TestClient, town: Town, db: Database
) -> None:
    csrf = login(client, town.code, "madoguchi")
    page = client.get("/ui/residents/entry/move-in").text
    timing = TIMING.search(page)
    assert timing
    form = _family_form("", timing.group(1), action="commit")
    r = client.post("/ui/residents/entry/move-in", data=form)
    assert r.status_code == 403
    assert "不正な要求" in r.text
    r = client.post("/ui/residents/entry/move-in", data={**form, "csrf_token": "forged"})
    assert r.status_code == 403
    with db.unit_of_work(town.code) as uow:
        assert not list(uow.session.scalars(select(SearchHistoryRow)))  # nothing else written
    r = ui_search(client, {"name": "ハルノ"})
    assert "春野" not in r.text  # nothing was registered
    r = client.post("/ui/residents/entry/move-in", data={**form, "csrf_token": csrf})
    assert r.status_code == 200, r.text


def test_family_move_in_confirm_commit_and_no_double_entry(
    client: TestClient, town: Town, db: Database
) -> None:
    csrf = login(client, town.code, "madoguchi")
    timing = TIMING.search(client.get("/ui/residents/entry/move-in").text)
    assert timing
    form = _family_form(csrf, timing.group(1))
    # the confirmation step runs the use case and rolls it back
    r = client.post("/ui/residents/entry/move-in", data={**form, "action": "confirm"})
    assert r.status_code == 200
    assert "確認" in r.text and "春野　桜" in r.text
    assert "春野" not in ui_search(client, {"name": "ハルノ"}).text
    r = client.post("/ui/residents/entry/move-in", data={**form, "action": "commit"})
    assert r.status_code == 200, r.text
    assert "国内転入を登録しました" in r.text
    assert "住民異動届受理通知" in r.text
    assert "印鑑登録" in r.text  # the follow-on checklist of 国内転入
    found = ui_search(client, {"name": "ﾊﾙﾉ"}).text
    assert found.count("data-row-link") == 2
    # a second 登録 of the same screen (reload, double click) is refused, nothing is added
    r = client.post("/ui/residents/entry/move-in", data={**form, "action": "commit"})
    assert r.status_code == 422
    assert "既に登録済み" in r.text
    found = ui_search(client, {"name": "ﾊﾙﾉ"}).text
    assert found.count("data-row-link") == 2
    with db.unit_of_work(town.code) as uow:
        done = [
            (t.kind, t.duration_ms)
            for t in uow.session.scalars(select(CounterTimingRow))
            if t.completed_at is not None
        ]
    assert len(done) == 1 and done[0][0] == "転入" and done[0][1] is not None


def test_domain_problems_are_shown_next_to_the_field(client: TestClient, town: Town) -> None:
    csrf = login(client, town.code, "madoguchi")
    timing = TIMING.search(client.get("/ui/residents/entry/move-in").text)
    assert timing
    form = _family_form(csrf, timing.group(1), m1_birth_date="令和99年1月1日", action="confirm")
    r = client.post("/ui/residents/entry/move-in", data=form)
    assert r.status_code == 422
    assert re.search(r'id="f-m1_birth_date"[^>]*aria-invalid="true"', r.text)
    assert 'id="e-m1_birth_date"' in r.text and "生年月日" in r.text
    # a rule of the use case itself (国内転入 needs the 転入前住所) lands on its field
    form = _family_form(
        csrf,
        timing.group(1),
        action="confirm",
        prior_prefecture="",
        prior_city="",
        prior_town="",
        prior_banchi="",
    )
    r = client.post("/ui/residents/entry/move-in", data=form)
    assert r.status_code == 422
    assert "国内転入では転入前住所を入力してください。" in r.text
    assert re.search(r'id="f-prior_prefecture"[^>]*aria-invalid="true"', r.text)


def test_card_facts_prefill_the_screen(client: TestClient, town: Town) -> None:
    csrf = login(client, town.code, "madoguchi")
    r = client.post(
        "/ui/residents/entry/move-in",
        data={
            "csrf_token": csrf,
            "action": "card-0",
            "card_json_0": '{"name": "夏川 涼", "address": "大阪府大阪市北区梅田1丁目2番3号",'
            ' "birth_date": "平成1年2月3日", "sex": "女"}',
        },
    )
    assert r.status_code == 200
    assert 'id="f-m0_family_name" name="m0_family_name" type="text" value="夏川"' in r.text
    assert 'value="大阪府"' in r.text and 'value="大阪市北区"' in r.text
    assert '<option value="2" selected>' in r.text
    r = client.post(
        "/ui/residents/entry/move-in",
        data={"csrf_token": csrf, "action": "card-0", "card_json_0": "{not json"},
    )
    assert r.status_code == 422 and "券面事項の JSON を読み取れません。" in r.text


def test_death_from_the_register(client: TestClient, town: Town) -> None:
    csrf = login(client, town.code, "shinsa")
    results = ui_search(client, {"name": "ワタナベ"}).text
    atena = re.search(r'/ui/residents/(\d{15})"', results)
    assert atena
    page = client.get("/ui/residents/entry/death", params={"atena": atena.group(1)}).text
    assert "渡邊" in page
    timing = TIMING.search(page)
    assert timing
    household = re.search(r'name="household" type="text" value="(\d+)"', page)
    assert household
    form = {
        "csrf_token": csrf,
        "timing": timing.group(1),
        "household": household.group(1),
        "atena": atena.group(1),
        "death_date": TODAY.isoformat(),
        "notified_date": TODAY.isoformat(),
        "action": "commit",
    }
    r = client.post("/ui/residents/entry/death", data=form)
    assert r.status_code == 200, r.text
    assert "死亡を登録しました" in r.text and "葬祭費" in r.text
    detail = client.get(f"/ui/residents/{atena.group(1)}").text
    assert "死亡" in detail


def test_roles_shape_navigation_and_are_enforced(
    client: TestClient, town: Town, db: Database
) -> None:
    login(client, town.code, "kansa")
    home = client.get("/ui/").text
    assert "アクセスログ" in home and "転入届" not in home
    r = client.get("/ui/residents/entry/move-in")
    assert r.status_code == 403 and "窓口" in r.text
    login(client, town.code, "madoguchi")
    assert "アクセスログ" not in client.get("/ui/").text
    assert client.get("/ui/audit").status_code == 403
    assert client.get("/ui/it/export").status_code == 403
    with db.unit_of_work(town.code) as uow:
        denied = {
            d.function
            for d in uow.session.scalars(
                select(AuditRecordRow).where(AuditRecordRow.action == "denial")
            )
        }
    assert denied >= {"転入", "アクセスログ照会", "標準レイアウトでの全件出力"}


def test_staff_of_one_town_never_see_another(client: TestClient, town: Town, db: Database) -> None:
    other = create_tenant(db, "隣町")
    create_staff(db, other, "tonari", ["counter"])
    login(client, other, "tonari")
    r = ui_search(client, {"name": "ヤマダ"})
    assert r.status_code == 200 and "山田" not in r.text
    login(client, town.code, "madoguchi")
    atena = re.search(r'/ui/residents/(\d{15})"', ui_search(client, {"name": "ヤマダ"}).text)
    assert atena
    login(client, other, "tonari")
    r = client.get(f"/ui/residents/{atena.group(1)}")
    assert r.status_code == 404 and "山田" not in r.text


def test_reads_are_audited_and_search_history_is_kept(
    client: TestClient, town: Town, db: Database
) -> None:
    login(client, town.code, "madoguchi")
    ui_search(client, {"name": "ﾔﾏﾀﾞ"})
    ui_search(client, {"name": "ﾜﾀﾅﾍﾞ"}, headers={"HX-Request": "true"})
    page = client.get("/ui/residents").text
    assert "検索履歴（1件）" in page and "ﾔﾏﾀﾞ" in page  # typing (htmx) is not kept
    atena = re.search(r'/ui/residents/(\d{15})"', ui_search(client, {"name": "ヤマダ"}).text)
    assert atena
    detail = client.get(f"/ui/residents/{atena.group(1)}", params={"as_of": TODAY.isoformat()})
    assert detail.status_code == 200 and "時点の記載" in detail.text
    with db.unit_of_work(town.code) as uow:
        functions = [
            r.function
            for r in uow.session.scalars(
                select(AuditRecordRow).where(AuditRecordRow.action == "inquiry")
            )
        ]
    assert functions.count("住民検索") >= 3
    assert {"住民照会", "世帯照会", "異動履歴照会"} <= set(functions)


def test_auditor_verifies_the_chain(client: TestClient, town: Town) -> None:
    csrf = login(client, town.code, "kansa")
    r = client.get("/ui/audit", params={"action": "login"})
    assert r.status_code == 200 and "kansa" in r.text
    r = client.post("/ui/audit/verify", data={"csrf_token": csrf})
    assert "改ざんは見つかりませんでした" in r.text


def test_operator_switches_tenant(client: TestClient, town: Town, db: Database) -> None:
    from kikan.platform import auth
    from kikan.platform.uow import Scope
    from tests.conftest import PASSWORD, TEST_ACTOR

    with db.unit_of_work(Scope.host()) as uow:
        login_id = f"op{town.code}"
        auth.create_operator(
            uow, TEST_ACTOR, login_id=login_id, display_name="運用", password=PASSWORD
        )
        uow.commit()
    csrf = login(client, None, login_id)
    assert client.get("/ui/residents").status_code == 403  # operators see no resident data
    r = client.post("/ui/operator/audit/verify", data={"csrf_token": csrf})
    assert r.status_code == 409
    switched = client.post(
        "/ui/operator/tenant",
        data={"csrf_token": csrf, "tenant": town.code},
        follow_redirects=False,
    )
    chosen = [c for c in switched.headers.get_list("set-cookie") if "kikan_operator_tenant" in c]
    assert chosen and "Secure" in chosen[0] and "HttpOnly" in chosen[0]
    r = client.post("/ui/operator/audit/verify", data={"csrf_token": csrf})
    assert "改ざんは見つかりませんでした" in r.text
    r = client.post("/ui/operator/tenant", data={"csrf_token": csrf, "tenant": "000000"})
    assert r.status_code == 404


def test_function_map_lists_screens(client: TestClient, town: Town) -> None:
    login(client, town.code, "kanri")
    r = client.get("/ui/it/functions")
    assert r.status_code == 200 and 'href="/ui/residents"' in r.text


def test_every_screen_in_the_conformance_map_exists(client: TestClient) -> None:
    """The screen column of kikan/residents/conformance.toml names real pages: each answers the
    login redirect (an unknown path would answer 404)."""
    import tomllib
    from pathlib import Path

    from kikan.residents.web.entry import KINDS

    data = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "kikan/residents/conformance.toml").read_text()
    )
    screens = {sc for s in data["section"] for sc in s.get("screens", [])}
    assert len(screens) >= 8
    client.cookies.clear()
    for screen in sorted(screens):
        kinds = list(KINDS) if "{kind}" in screen else [""]
        for kind in kinds:
            path = screen.replace("{kind}", kind).replace("{atena_number}", "0" * 15)
            if path.startswith("/ui/residents/entry/"):
                assert path.rsplit("/", 1)[1] in KINDS, path
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 303 and "/ui/login" in r.headers["location"], path


def _atena(client: TestClient, kana: str) -> str:
    m = re.search(r'/ui/residents/(\d{15})"', ui_search(client, {"name": kana}).text)
    assert m
    return m.group(1)


def test_certificate_preview_issue_and_pdf(client: TestClient, town: Town, db: Database) -> None:
    csrf = login(client, town.code, "madoguchi")
    atena = _atena(client, "ヤマダ　タロウ")
    page = client.get(f"/ui/residents/{atena}/certificates")
    assert page.status_code == 200 and "住民票の写し（世帯連記式）" in page.text
    form = {
        "csrf_token": csrf,
        "kind": "juminhyo",
        "requester_kind": "self",
        "requester_atena": atena,
        "items": ["householder"],
    }
    r = client.post(f"/ui/residents/{atena}/certificates", data={**form, "action": "preview"})
    assert r.status_code == 200 and 'id="preview"' in r.text and "山田　花子" in r.text
    with db.unit_of_work(town.code) as uow:
        before = len(
            list(
                uow.session.scalars(select(AuditRecordRow).where(AuditRecordRow.action == "print"))
            )
        )
    assert before == 0  # the preview takes no 発行番号 and prints nothing
    r = client.post(f"/ui/residents/{atena}/certificates", data={**form, "action": "issue"})
    assert r.status_code == 200, r.text
    number = re.search(r'id="issue-number">([^<]+)<', r.text)
    assert number and number.group(1).startswith(town.code)
    pdf = re.search(r'href="data:application/pdf;base64,([^"]+)"', r.text)
    assert pdf
    import base64

    assert base64.b64decode(pdf.group(1)).startswith(b"%PDF")


def test_certificate_refused_for_a_protected_person(client: TestClient, town: Town) -> None:
    atena = None
    login(client, town.code, "madoguchi")
    atena = _atena(client, "ワタナベ")
    r = client.post(
        f"/api/v1/residents/{atena}/support-measures",
        headers=town.api,
        json={"start_date": TODAY.isoformat()},
    )
    assert r.status_code == 201, r.text
    csrf = login(client, town.code, "madoguchi")
    form = {
        "csrf_token": csrf,
        "kind": "juminhyo_kojin",
        "requester_kind": "third_party",
        "requester_name": "債権 回収",
        "purpose": "債権回収のため",
        "requester_address": "東京都千代田区1番",
    }
    r = client.post(f"/ui/residents/{atena}/certificates", data={**form, "action": "preview"})
    assert 'id="preview-warning"' in r.text and "支援措置の対象者" in r.text
    r = client.post(f"/ui/residents/{atena}/certificates", data={**form, "action": "issue"})
    assert r.status_code == 403
    assert 'id="refusal"' in r.text and "交付できません" in r.text
    assert "data:application/pdf" not in r.text


def test_search_criteria_never_travel_in_the_url(
    client: TestClient, town: Town, db: Database
) -> None:
    """Issue 14, item 5: a GET search put 氏名 and 生年月日 into access and proxy logs and the
    browser history. The form posts them (with the CSRF token); a URL's criteria are ignored."""
    csrf = login(client, town.code, "madoguchi")
    page = client.get("/ui/residents", params={"name": "ヤマダ"}).text
    assert "山田" not in page and 'value="ヤマダ"' not in page  # a URL never searches
    form = re.search(r'<form method="(\w+)" action="/ui/residents"[^>]*?hx-(get|post)=', page)
    assert form and form.groups() == ("post", "post")
    assert f'name="csrf_token" value="{csrf}"' in page
    refused = client.post("/ui/residents", data={"name": "ヤマダ"})
    assert refused.status_code == 403 and "山田" not in refused.text
    found = ui_search(client, {"name": "ヤマダ"}).text
    assert "山田" in found and "検索履歴（1件）" in found
    # a 検索履歴 entry is a form that posts its saved criteria again, not a link with them
    entry = re.search(
        r"<li><form method=\"post\" action=\"/ui/residents\".*?</form></li>", found, re.S
    )
    assert entry and 'name="name" value="ヤマダ"' in entry.group(0)
    assert "/ui/residents?" not in found
