"""End-to-end: the real server (uvicorn in a subprocess) on the seeded demo, driven by Debian's
Chromium through Playwright, mostly by keyboard.

Why: the counter works by keyboard all day; these tests prove that the screens are reachable and
usable without a mouse, that search as you type works with half-width kana, that a family 転入
goes through 入力 → 確認 → 登録 with inline Japanese validation, and that an auditor can verify
the access-log chain. Each page is saved as a screenshot in tests/artifacts/ (1366×768, and the
search page also at 1920×1080) for a human to look at.

One server per backend: a temporary SQLite file, and a fresh PostgreSQL database migrated by
the test session and used through the non-superuser application role.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from kikan.models import upgrade
from kikan.platform.demo import DEMO_PASSWORD, DEMO_TENANT
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("KIKAN_CHROMIUM", "/usr/bin/chromium")
KIKAN = str(Path(sys.executable).with_name("kikan"))
# the suite runs on two xdist workers next to the server and Chromium: allow for a loaded machine
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(tmp: Path, database_url: str, migration_url: str) -> Iterator[str]:
    env = {
        **os.environ,
        "KIKAN_VAR_DIR": str(tmp),
        "KIKAN_DATABASE_URL": database_url,
        "KIKAN_MIGRATION_DATABASE_URL": migration_url,
        "KIKAN_COOKIE_SECURE": "false",  # plain http on localhost
        "KIKAN_LOG_LEVEL": "WARNING",
    }
    if database_url.startswith("sqlite"):
        upgrade(database_url)
    subprocess.run([KIKAN, "demo"], env=env, check=True, capture_output=True, timeout=600)
    port = _free_port()
    proc = subprocess.Popen(
        [KIKAN, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module", params=[b for b in BACKENDS if b in ("sqlite", "postgres")])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp(f"e2e-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'kikan.db'}"
        yield from ((base, "sqlite") for base in _server(tmp, url, url))
    else:
        backend = request.getfixturevalue("postgres_backend")
        yield from ((base, "postgres") for base in _server(tmp, backend.app_url, backend.admin_url))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    pg = context.new_page()
    # the Content-Security-Policy allows only this origin's files: an inline script, style or
    # handler in a template would be refused, and Chromium says so on the console
    refused: list[str] = []
    pg.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    yield pg
    context.close()
    assert not refused, refused


def shot(page: Page, name: str, backend: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{backend}-{name}.png"), full_page=False)


def ready(page: Page) -> None:
    """Wait until the current document's deferred scripts have installed the shortcuts.

    Waiting for the "load" state is not enough right after a navigation: it can answer for the
    previous document. kikan.js marks <html data-kikan-ready> as its last step.
    """
    expect(page.locator("html[data-kikan-ready]")).to_have_count(1)


def key(page: Page, combo: str) -> None:
    """Press a shortcut once the page's scripts have run (they are deferred)."""
    ready(page)
    page.keyboard.press(combo)


def login_by_keyboard(page: Page, base: str, tenant: str, login_id: str) -> None:
    page.goto(base + "/ui/")
    expect(page).to_have_url(base + "/ui/login?next=%2Fui%2F")
    expect(page.locator("#tenant")).to_be_focused()
    page.keyboard.type(tenant)
    page.keyboard.press("Tab")
    page.keyboard.type(login_id)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("ホーム")


def test_clerk_finds_a_protected_resident_by_half_width_kana(
    server: tuple[str, str], page: Page
) -> None:
    base, backend = server
    page.goto(base + "/ui/login")
    shot(page, "01-login", backend)
    login_by_keyboard(page, base, DEMO_TENANT, "madoguchi")
    shot(page, "02-home", backend)
    key(page, "Alt+Shift+S")  # accesskey of 住民検索
    expect(page.locator("h1")).to_have_text("住民検索")
    expect(page.locator("#q-name")).to_be_focused()
    page.keyboard.type("ﾉｸﾞﾁ", delay=40)
    row = page.locator("#result-table tbody tr", has_text="野口　香織")
    expect(row).to_be_visible()
    expect(row.locator(".badge.protect")).to_have_text("支援措置")
    shot(page, "03-search", backend)
    page.keyboard.press("ArrowDown")
    first = page.locator("[data-row-link]").first
    expect(first).to_be_focused()
    target = row.locator("[data-row-link]")
    target.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("住民照会")
    expect(page.locator("#support-banner")).to_contain_text("支援措置対象者")
    expect(page.locator("#timeline li").first).to_be_visible()
    shot(page, "04-detail", backend)
    # the history as of a day: today's entry is the one in force
    key(page, "Alt+Shift+A")
    expect(page.locator("#as_of")).to_be_focused()
    # a third party asking for her 住民票 is refused, plainly
    key(page, "Alt+Shift+C")
    expect(page.locator("#support-banner")).to_be_visible()
    page.locator("input[name=kind][value=juminhyo_kojin]").check()
    page.select_option("#requester_kind", "third_party")
    page.fill("#requester_name", "債権 回収")
    page.fill("#purpose", "債権回収のため")
    page.fill("#requester_address", "東京都千代田区千代田1番1号")
    ready(page)
    page.locator("#requester_address").press("Control+Enter")
    expect(page.locator("#preview-warning")).to_contain_text("交付できません")
    page.wait_for_load_state("load")
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#refusal")).to_contain_text("交付できません")
    shot(page, "17-certificate-refused", backend)


def test_clerk_registers_a_family_move_in_with_inline_validation(
    server: tuple[str, str], page: Page
) -> None:
    base, backend = server
    login_by_keyboard(page, base, DEMO_TENANT, "madoguchi")
    key(page, "Alt+Shift+N")  # 転入届
    expect(page.locator("h1")).to_contain_text("転入")
    # 書かない窓口: the card's four facts fill the first person and the former address
    page.locator("details.card summary").first.click()
    page.fill(
        "#card-json-0",
        '{"氏名": "春野 一郎", "住所": "東京都千代田区千代田1番1号",'
        ' "生年月日": "昭和60年1月2日", "性別": "男"}',
    )
    page.get_by_role("button", name="券面事項を反映").first.click()
    expect(page.locator("#f-m0_family_name")).to_have_value("春野")
    expect(page.locator("#f-prior_prefecture")).to_have_value("東京都")
    page.fill("#f-m0_family_name_kana", "ﾊﾙﾉ")
    page.fill("#f-m0_given_name_kana", "ｲﾁﾛｳ")
    key(page, "Alt+Shift+M")  # 世帯員を追加
    expect(page.locator("#person-1")).to_be_visible()
    expect(page.locator("#f-m1_family_name")).to_have_value("春野")
    page.fill("#f-m1_given_name", "桜")
    page.fill("#f-m1_family_name_kana", "ハルノ")
    page.fill("#f-m1_given_name_kana", "サクラ")
    page.fill("#f-m1_birth_date", "令和99年1月1日")  # not a date: the domain says so
    page.select_option("#f-m1_sex", "2")
    page.fill("#f-m1_zokugara", "子")
    page.fill("#f-addr_town", "松町一丁目")
    page.fill("#f-addr_banchi", "9番地")
    page.wait_for_load_state("load")
    ready(page)
    page.locator("#f-addr_banchi").press("Control+Enter")
    error = page.locator("#e-m1_birth_date")
    expect(error).to_be_visible()
    expect(error).to_contain_text("生年月日")
    expect(page.locator("#f-m1_birth_date")).to_have_attribute("aria-invalid", "true")
    shot(page, "05-move-in-error", backend)
    page.fill("#f-m1_birth_date", "令和2年6月7日")
    ready(page)
    page.locator("#f-m1_birth_date").press("Control+Enter")
    page.wait_for_load_state("load")
    problems = page.locator("#form-problem")
    assert problems.count() == 0, problems.inner_text()
    expect(page.locator("h1")).to_contain_text("確認")
    expect(page.locator("#confirm-table")).to_contain_text("春野　桜")
    shot(page, "06-move-in-confirm", backend)
    expect(page.locator("#commit")).to_be_focused()
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_contain_text("国内転入を登録しました")
    expect(page.locator("#receipt")).to_contain_text("住民異動届受理通知")
    expect(page.locator("#followups")).to_contain_text("印鑑登録")
    shot(page, "07-move-in-done", backend)
    # the new family is found at once, by half-width kana
    page.goto(base + "/ui/residents")
    page.keyboard.type("ﾊﾙﾉ ｲﾁﾛｳ", delay=40)
    expect(page.locator("#result-table tbody tr")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("春野")
    # 住民票の写し for the family, by keyboard: form → preview → issue → PDF
    key(page, "Alt+Shift+C")
    expect(page.locator("h1")).to_contain_text("証明書発行")
    expect(page.locator("input[name=kind][value=juminhyo]")).to_be_checked()
    shot(page, "14-certificate-form", backend)
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#preview")).to_contain_text("春野　桜")
    shot(page, "15-certificate-preview", backend)
    page.wait_for_load_state("load")
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#issued")).to_contain_text("住民票の写し（世帯連記式）を発行しました")
    shot(page, "16-certificate-issued", backend)
    with page.expect_download() as dl:
        key(page, "Alt+Shift+D")
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    (ARTIFACTS / f"{backend}-juminhyo.pdf").write_bytes(pdf)


def test_auditor_verifies_the_chain_and_sees_the_counter_times(
    server: tuple[str, str], page: Page
) -> None:
    base, backend = server
    login_by_keyboard(page, base, DEMO_TENANT, "kansa")
    key(page, "Alt+Shift+L")
    expect(page.locator("h1")).to_have_text("アクセスログ")
    expect(page.locator("#audit-table tbody tr").first).to_be_visible()
    key(page, "Alt+Shift+V")
    expect(page.locator("#verify-result")).to_contain_text("改ざんは見つかりませんでした")
    shot(page, "08-audit", backend)
    key(page, "Alt+Shift+T")
    expect(page.locator("h1")).to_contain_text("窓口処理時間")
    shot(page, "09-bpr", backend)
    key(page, "Alt+Shift+F")
    expect(page.locator("#function-map")).to_contain_text("基本検索")
    shot(page, "10-functions", backend)


def test_operator_switches_tenant_and_verifies(server: tuple[str, str], page: Page) -> None:
    base, backend = server
    page.goto(base + "/ui/login")
    page.fill("#login_id", "operator")
    page.fill("#password", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("ホーム")
    key(page, "Alt+Shift+O")
    # the shared PostgreSQL test database may hold other towns called 日和市: pick by code
    page.locator("tr", has_text=DEMO_TENANT).get_by_role("button", name="日和市に切替").click()
    expect(page.locator("header .tenant")).to_have_text(f"団体 {DEMO_TENANT}")
    shot(page, "11-operator", backend)
    key(page, "Alt+Shift+L")
    expect(page.locator("h1")).to_contain_text("アクセスログ検証")
    key(page, "Alt+Shift+V")
    expect(page.locator("#verify-result")).to_contain_text("改ざんは見つかりませんでした")


def test_sysadmin_runs_the_conformance_check(server: tuple[str, str], page: Page) -> None:
    base, backend = server
    login_by_keyboard(page, base, DEMO_TENANT, "kanri")
    key(page, "Alt+Shift+C")
    expect(page.locator("h1")).to_contain_text("適合性検査")
    ready(page)
    page.locator("#check-button").press("Control+Enter")
    expect(page.locator("#report")).to_contain_text("適合", timeout=60_000)
    shot(page, "12-conformance", backend)
    key(page, "Alt+Shift+E")
    with page.expect_download() as dl:
        page.locator("#export-button").click()
    assert dl.value.suggested_filename.endswith(".zip")


def test_large_monitor(server: tuple[str, str], browser: Browser) -> None:
    base, backend = server
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="ja-JP")
    pg = context.new_page()
    login_by_keyboard(pg, base, DEMO_TENANT, "shinsa")
    pg.goto(base + "/ui/residents")
    ready(pg)
    expect(pg.locator("#q-name")).to_be_focused()
    pg.keyboard.type("ワタナベ")
    pg.keyboard.press("Enter")  # a full submit posts the criteria: they never enter the URL
    expect(pg.locator("details.history")).to_contain_text("ワタナベ")
    expect(pg.locator("#result-table")).to_be_visible()
    assert pg.url == base + "/ui/residents"
    shot(pg, "13-search-1920", backend)
    context.close()


def test_clerk_corrects_and_an_approver_cancels_by_keyboard(
    server: tuple[str, str], page: Page
) -> None:
    """修正 → 確認 → 登録 by a clerk, then 異動の取消し of that correction by keyboard from the
    detail page — refused to the clerk (異動の取消し, 職権記載 and 職権消除 are 審査・決裁 functions
    in the catalogue, as in the API) and done by an approver; the other new screens
    (交付履歴・本人通知, 職権記載, 職権消除, 世帯合併) open for the approver and are shot."""
    base, backend = server
    login_by_keyboard(page, base, DEMO_TENANT, "madoguchi")
    key(page, "Alt+Shift+S")
    expect(page.locator("h1")).to_have_text("住民検索")
    expect(page.locator("#q-name")).to_be_focused()
    page.keyboard.type("ﾉｸﾞﾁ", delay=40)
    row = page.locator("#result-table tbody tr", has_text="野口　香織")
    expect(row).to_be_visible()
    row.locator("[data-row-link]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("住民照会")
    detail = page.url
    atena = detail.rsplit("/", 1)[1]
    key(page, "Alt+Shift+U")
    expect(page.locator("h1")).to_contain_text("修正")
    expect(page.locator("#f-c_family_name")).to_be_focused()
    expect(page.locator("#f-c_family_name")).to_have_value("野口")
    expect(page.locator("#person-protected")).to_have_text("支援措置")
    shot(page, "18-correct", backend)
    page.fill("#f-c_district_code", "0042")
    ready(page)
    page.locator("#f-c_district_code").press("Control+Enter")
    expect(page.locator("h1")).to_contain_text("確認")
    expect(page.locator("#confirm-table")).to_contain_text("地区管理コード")
    expect(page.locator("#confirm-table")).not_to_contain_text("生年月日")
    shot(page, "19-correct-confirm", backend)
    page.wait_for_load_state("load")
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_contain_text("誤記修正を登録しました")
    expect(page.locator("#result")).to_contain_text("野口　香織")
    page.goto(detail)
    key(page, "Alt+Shift+X")
    expect(page.locator("h1")).to_have_text("この画面は利用できません")
    page.context.clear_cookies()  # the clerk leaves the counter; the approver signs in
    login_by_keyboard(page, base, DEMO_TENANT, "shinsa")
    page.goto(detail)
    key(page, "Alt+Shift+X")
    expect(page.locator("h1")).to_contain_text("異動の取消し")
    expect(page.locator("#cancel-target")).to_contain_text("誤記修正")
    expect(page.locator("#f-note")).to_be_focused()
    page.keyboard.type("誤って修正したため")
    shot(page, "20-cancel", backend)
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#confirm-table")).to_contain_text("誤って修正したため")
    page.wait_for_load_state("load")
    ready(page)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    page.goto(detail)
    expect(page.locator("#timeline")).to_contain_text("取消済み")
    key(page, "Alt+Shift+I")
    expect(page.locator("h1")).to_contain_text("交付履歴・本人通知")
    expect(page.locator("#f-send_to")).to_be_focused()
    shot(page, "21-issuances", backend)
    for slug, name in (
        ("ex-officio-entry", "22-ex-officio-entry"),
        ("ex-officio-removal", "23-ex-officio-removal"),
        ("household-merge", "24-household-merge"),
    ):
        page.goto(f"{base}/ui/residents/entry/{slug}?atena={atena}")
        expect(page.locator("h1")).to_contain_text(
            {"ex-officio-entry": "職権記載", "ex-officio-removal": "職権消除"}.get(slug, "世帯合併")
        )
        shot(page, name, backend)


def test_api_docs_render_from_this_server_under_the_policy(
    server: tuple[str, str], page: Page
) -> None:
    """Swagger UI comes from the locked package, initialised by a file: under a policy that
    allows only 'self' it still renders (the page fixture fails on any reported violation)."""
    base, backend = server
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(base) else None,
    )
    page.goto(base + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Kikan")
    expect(page.locator(".opblock").first).to_be_visible()
    shot(page, "18-api-docs", backend)
    assert outside == [], outside  # nothing from a CDN


def test_approver_decides_a_nayose_pair_by_keyboard(server: tuple[str, str], page: Page) -> None:
    """宛名管理: the demo's two 髙橋/高橋 一郎 landowners wait on the worklist; an approver opens
    the pair, chooses the 代表宛名 and links them without touching the mouse."""
    base, backend = server
    login_by_keyboard(page, base, DEMO_TENANT, "shinsa")
    key(page, "Alt+Shift+Y")  # accesskey of 名寄せ
    expect(page.locator("h1")).to_contain_text("名寄せ候補")
    first = page.locator("[data-row-link]").first
    expect(first).to_be_focused()
    expect(first).to_contain_text("一郎")
    shot(page, "30-nayose-list", backend)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("名寄せ候補")
    expect(page.locator("#representative input[type=radio]").first).to_be_focused()
    ready(page)
    page.keyboard.press("Space")  # choose A as 代表宛名
    page.keyboard.press("Tab")
    page.keyboard.type("生年月日・読みが一致、転居を確認")
    shot(page, "31-nayose-pair", backend)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#empty")).to_be_visible()
    shot(page, "32-nayose-done", backend)
