"""The staff UI shell: server-rendered Japanese pages (login, navigation, layout).

Business modules contribute their own pages; only the composition root (`kikan.app`) knows them.
The shell's own pages are the ones that need no business module: login and logout, the home
page, the operator's 団体切替, the access-log viewer with chain verification and the BPR report
of counter transaction times.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from kikan.platform.deps import SESSION_COOKIE
from kikan.platform.modules import NavItem
from kikan.web import pages, shell
from kikan.web.pages import router

STATIC_URL = "/ui/static"


def install(app: FastAPI, nav: Iterable[NavItem] = (), template_dirs: Iterable[Path] = ()) -> None:
    """Mount the static files, build the pages' navigation and templates from what the modules
    declare, and answer the shell's page signals (login redirect, 403 page).

    Called by the composition root with the registry's entries; the API keeps its
    problem+json handlers."""
    app.state.ui = shell.build_ui([*pages.NAV, *nav], template_dirs)
    app.mount(STATIC_URL, StaticFiles(directory=shell.HERE / "static"), name="ui-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, shell.LoginRequired)
        target = "/ui/login?next=" + quote(exc.next_url, safe="")
        response: Response
        if shell.is_htmx(request):
            response = Response(status_code=204, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            # an expired or revoked session: forget it, so the login page starts clean
            response.delete_cookie(SESSION_COOKIE, path="/")
            response.delete_cookie(shell.CSRF_COOKIE, path="/")
        return response

    async def forbidden(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, shell.PageForbidden)
        return shell.render(
            request, None, "error.html", status=exc.status, message=exc.message, title="利用不可"
        )

    app.add_exception_handler(shell.LoginRequired, login_required)
    app.add_exception_handler(shell.PageForbidden, forbidden)


__all__ = ["STATIC_URL", "install", "pages", "router", "shell"]
