"""Security headers on every response (500s included) and the API docs page served locally.

Why a plain ASGI middleware: the headers must also reach the answer to an unexpected error, and
Starlette answers those in its outermost middleware, after (outside) any `@app.middleware`
function. This middleware catches the error itself, answers the problem response through the
header path and logs the traceback once (Starlette would log it and re-raise it to the server,
which logged it a second time).

Why the docs page is ours: FastAPI's default loads Swagger UI from a public CDN into the origin
of the cookie-authenticated API, and initialises it with an inline script. The assets come from
the locked `swagger-ui-bundle` package and the initialiser is a file, so the page works under a
Content-Security-Policy that allows only 'self'.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from kikan.platform.errors import internal_error_response

#: Only this origin's scripts, styles, images and connections; no plugins, no framing, no
#: <base> rewriting, forms post only here. Inline scripts, inline styles and eval are refused.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: A register screen needs none of the browser's powerful features.
PERMISSIONS_POLICY: Final = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
SECURITY_HEADERS: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` (unless a route set its own value) to every HTTP response, and
    turns an exception no handler took into the 500 problem, logged once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # the last line of defence: nothing may escape as a bare 500
            response = internal_error_response(exc, str(scope.get("path", "")))
            if not started:  # a response half sent cannot be replaced; the log line remains
                await response(scope, receive, send_with_headers)


DOCS_URL: Final = "/api/v1/docs"
DOCS_ASSETS_URL: Final = "/api/v1/docs-assets"
DOCS_INIT_URL: Final = "/api/v1/docs-init.js"
#: The description the docs page renders. Swagger UI 4 (the locked `swagger-ui-bundle` 1.1.0)
#: refuses any document labelled 3.1, which is what FastAPI writes; the same document labelled
#: 3.0.3 renders. The published contract stays at OPENAPI_URL, unchanged.
DOCS_OPENAPI_URL: Final = "/api/v1/docs-openapi.json"

_DOCS_HTML: Final = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<title>Kikan 基幹 API ― API 文書</title>
<link rel="stylesheet" href="{DOCS_ASSETS_URL}/swagger-ui.css">
<link rel="icon" href="{DOCS_ASSETS_URL}/favicon-32x32.png">
</head><body>
<div id="swagger-ui"></div>
<script src="{DOCS_ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{DOCS_INIT_URL}"></script>
</body></html>
"""


def _docs_init_js(openapi_url: str) -> str:
    return (
        "window.ui = SwaggerUIBundle({"
        f'url: "{openapi_url}", dom_id: "#swagger-ui", layout: "BaseLayout", deepLinking: true,'
        " presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]"
        "});\n"
    )


def install_docs(app: FastAPI) -> None:
    """The Swagger UI page at `DOCS_URL`, entirely from this server (create the app with
    ``docs_url=None`` so FastAPI's CDN page is not registered)."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    init_js = _docs_init_js(DOCS_OPENAPI_URL)

    @app.get(DOCS_OPENAPI_URL, include_in_schema=False)
    def docs_openapi() -> JSONResponse:
        return JSONResponse({**app.openapi(), "openapi": "3.0.3"})

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_HTML)

    @app.get(DOCS_INIT_URL, include_in_schema=False)
    def docs_init() -> Response:
        return Response(init_js, media_type="text/javascript")
