"""Request-body limits per route class, enforced before anything parses the body (ADR 0010).

Why an ASGI middleware and not a check in the endpoints: FastAPI reads and parses a JSON body
(and Starlette a form) before the endpoint runs, so a 50 MB body to the unauthenticated
`/auth/token` was already in memory when any endpoint code could look at it. This layer sees the
`Content-Length` first (refused at once when too large) and counts the bytes of every chunk as
they arrive, so a chunked body without a length is cut off at the limit too. The answer is a 413
problem (`application/problem+json`) naming the limit, never the body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kikan.platform.errors import KikanError, problem_response

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class RouteClass:
    """Paths starting with ``prefix`` accept bodies of at most ``limit`` bytes."""

    prefix: str
    limit: int
    why: str


#: Most specific first. Larger limits only where an upload is legitimate.
ROUTE_CLASSES: tuple[RouteClass, ...] = (
    RouteClass("/api/v1/auth/", 16 * KIB, "login and password changes: a few short fields"),
    RouteClass("/api/v1/linkage/token", 16 * KIB, "a client assertion (a JWT of a few hundred B)"),
    RouteClass("/ui/login", 16 * KIB, "the login form"),
    RouteClass("/ui/it/conformance", 201 * MIB, "vendor CSV files for the conformance checker"),
    RouteClass("/ui/juminzei/intake", 65 * MIB, "a tax income-report CSV (64 MB) as multipart"),
    RouteClass("/api/v1/juminzei/intake/", 64 * MIB, "a tax income-report CSV (text/csv body)"),
    RouteClass("/api/v1/residents/certifier", 9 * MIB, "two official seal PNGs as Base64"),
    RouteClass("/api/v1/seal/registrations", 2 * MIB, "a seal impression image as Base64"),
)
#: Every other JSON API and UI form: a family's 転入 with every item fits many times over.
DEFAULT_LIMIT = 1 * MIB


class PayloadTooLarge(KikanError):
    status = 413
    slug = "payload-too-large"
    title = "要求の本文が大きすぎます。"


class _TooLarge(Exception):
    """Raised from `receive` when the counted bytes pass the limit."""


def limit_for(path: str, classes: Sequence[RouteClass] = ROUTE_CLASSES) -> int:
    for rc in classes:
        if path.startswith(rc.prefix):
            return rc.limit
    return DEFAULT_LIMIT


def _too_large(limit: int) -> PayloadTooLarge:
    size = f"{limit // MIB} MB" if limit >= MIB else f"{limit // KIB} KB"
    return PayloadTooLarge(f"この要求の本文は {size} までです。", limit=limit)


class BodyLimit:
    """Pure ASGI middleware (no buffering): refuse or cut off bodies over the route's limit."""

    def __init__(self, app: ASGIApp, classes: Sequence[RouteClass] = ROUTE_CLASSES) -> None:
        self.app = app
        self.classes = tuple(classes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], self.classes)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit() or int(text) > limit:
                await self._refuse(scope, receive, send, limit)
                return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app made of the cut-off body, the answer is 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(_too_large(limit), Request(scope))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
