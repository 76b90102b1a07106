"""個人住民税's pages in Chromium on the real server (the demo), by keyboard: the menu entry, the
取込 with Ctrl+Enter, the rows left on the worklist and a 回送 typed and sent without a mouse,
and the 課税の照会's refusal — all under the Content-Security-Policy (a violation fails the test,
see the `page` fixture of tests/web/test_browser.py).

The demo has no 賦課期日 list for 個人住民税 (it is read over 庁内データ連携, which the demo does not
connect), so every accepted row goes to the worklist with that reason — which is what a clerk
sees before `kikan juminzei kijitsu` has run.

The server is `kikan serve` in a subprocess: the module's fixture puts this checkout first on its
PYTHONPATH, so that it serves the code under test even when the console script's environment has
another copy of Kikan installed (a git worktree next to the main checkout).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import kikan
from kikan.platform.demo import DEMO_TENANT
from tests.juminzei.test_juminzei import STRANGER, kyuyo_csv
from tests.web.test_browser import (  # noqa: F401 - fixtures
    browser,
    key,
    login_by_keyboard,
    page,
    ready,
    server,
    shot,
)


@pytest.fixture(scope="module", autouse=True)
def serve_this_checkout() -> Iterator[None]:
    """Before the module's server starts: the subprocess imports Kikan from this checkout."""
    root = str(Path(kikan.__file__).resolve().parents[1])
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, before) if p)
    yield
    if before is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = before


NEGATIVE = STRANGER.replace("見知らぬ　人", "負の　額").replace(",3000000,", ",-1,")


def test_clerk_takes_in_a_csv_and_forwards_a_row_by_keyboard(
    server: tuple[str, str],  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    base, backend = server
    login_by_keyboard(page, base, DEMO_TENANT, "madoguchi")
    key(page, "Alt+Shift+Z")  # the menu entry of 個人住民税
    expect(page.locator("h1")).to_contain_text("課税の照会")
    expect(page.locator("#atena")).to_be_focused()
    page.keyboard.type("000000000000001")
    page.keyboard.press("Enter")
    expect(page.locator("#refusal")).to_contain_text("課税はありません")
    key(page, "Alt+Shift+U")  # 取込
    expect(page.locator("h1")).to_contain_text("課税資料の取込")
    expect(page.locator("#year")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("令和8")
    page.locator("#file").set_input_files(
        {"name": "kyuyo.csv", "mimeType": "text/csv", "buffer": kyuyo_csv(STRANGER, NEGATIVE)}
    )
    page.locator("#year").focus()
    key(page, "Control+Enter")
    expect(page.locator("#result")).to_contain_text("取込結果")
    expect(page.locator("#rejects")).to_contain_text("支払金額が負の値です")
    shot(page, "juminzei-intake", backend)
    key(page, "Alt+Shift+W")  # 作業一覧
    expect(page.locator("h1")).to_contain_text("作業一覧")
    ready(page)
    row = page.locator("#worklist tbody tr", has_text="見知らぬ　人")
    expect(row).to_contain_text("賦課期日の住民一覧が未作成です")
    number_field = row.locator("input[name=atena_number]")
    expect(number_field).to_be_focused()  # the first row is ready to be worked
    page.keyboard.press("Tab")  # 照合
    page.keyboard.press("Tab")  # 回送先
    expect(row.locator("input[name=note]")).to_be_focused()
    page.keyboard.type("隣町")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_contain_text("回送として処理しました")
    expect(page.locator("#empty")).to_contain_text("未照合の課税資料はありません")
    shot(page, "juminzei-worklist", backend)
