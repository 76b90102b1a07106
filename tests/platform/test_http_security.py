"""Security headers, 500s and the API docs page (issue 14, item 9).

Why: responses carried no Content-Security-Policy or Permissions-Policy; a 500 lacked nosniff
and `Cache-Control: no-store` (Starlette answers it outside the header middleware) and its
traceback was logged twice (by the handler, then by the server the error was re-raised to);
and `/api/v1/docs` loaded Swagger UI from a public CDN into the origin of the cookie-authenticated
API, initialised by an inline script that a strict policy would block.
"""

from __future__ import annotations

import logging
import re

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from kikan.app import create_app
from kikan.platform.settings import Settings
from kikan.platform.uow import Database

STRICT = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _assert_strict(headers: object) -> None:
    h = dict(headers)  # type: ignore[call-overload]
    for name, value in STRICT.items():
        assert h.get(name) == value, (name, h)
    csp = h["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert "camera=()" in h["permissions-policy"]


@pytest.mark.parametrize(
    "path",
    ["/", "/healthz", "/api/v1/openapi.json", "/nowhere", "/api/v1/residents/1", "/ui/login"],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    _assert_strict(client.get(path).headers)


def test_a_500_carries_them_and_its_traceback_is_logged_once(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, db)
    boom = APIRouter()

    @boom.get("/boom")
    def _boom() -> None:
        raise KeyError("secret internal detail")

    app.include_router(boom)
    # raise_server_exceptions=True: an error escaping the application is what the server logs
    # a second time; it must not escape
    with TestClient(app, raise_server_exceptions=True) as c, caplog.at_level(logging.ERROR):
        r = c.get("/boom")
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    _assert_strict(r.headers)
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert len(tracebacks) == 1 and r.json()["error_id"] in tracebacks[0].getMessage()


def test_the_docs_page_is_served_from_this_server_without_inline_script(
    client: TestClient,
) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    _assert_strict(page.headers)
    html = page.text
    assert "cdn" not in html and "http://" not in html and "https://" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200, asset
        kind = r.headers["content-type"].split(";")[0]
        assert kind in ("text/javascript", "text/css", "image/png"), asset
    init = client.get(next(a for a in assets if a.endswith("docs-init.js"))).text
    assert '"/api/v1/docs-openapi.json"' in init
    spec = client.get("/api/v1/docs-openapi.json").json()  # Swagger UI 4 reads 3.0 only
    assert (
        spec["openapi"] == "3.0.3"
        and spec["paths"] == client.get("/api/v1/openapi.json").json()["paths"]
    )


def test_the_home_page_has_no_inline_style(client: TestClient) -> None:
    """An inline style attribute is refused by style-src 'self'."""
    assert "style=" not in client.get("/").text
