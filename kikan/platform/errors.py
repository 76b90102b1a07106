"""Problem details (RFC 9457) for every error a client can see.

People read `title` and `detail` (Japanese); programs read `type`, a stable URN per problem kind
(`urn:kikan:problem:<slug>`). Clients never see a stack trace or an echo of what they sent (input
may hold a My Number); unexpected errors carry an `error_id` to find the log line.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("kikan.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:kikan:problem:"


class KikanError(Exception):
    """Base of every expected error. Carries what the problem response needs."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "要求が正しくありません。"

    def __init__(
        self,
        detail: str | None = None,
        *,
        item: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        slug: str | None = None,
        title: str | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.title
        self.item = item
        self.errors = errors
        if slug:
            self.slug = slug
        if title:
            self.title = title
        self.extra = extra
        super().__init__(self.detail)

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.item:
            body["item"] = self.item
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class InvalidInput(KikanError):
    status = 422
    slug = "invalid-input"
    title = "入力内容に誤りがあります。"


class NotFound(KikanError):
    status = 404
    slug = "not-found"
    title = "対象が見つかりません。"


class Conflict(KikanError):
    """The request conflicts with the state of what it names (a struck card, an already voided
    number, a taken login id): a business refusal, told by its own `slug`."""

    status = 409
    slug = "conflict"
    title = "現在の状態では処理できません。"


class ConcurrentUpdate(Conflict):
    """Another request changed the same data first (a stale version, a race the database
    refused): trying again after a fresh read can succeed, unlike a business refusal."""

    slug = "stale-version"
    title = "他の処理と競合しました。"


class Unauthenticated(KikanError):
    status = 401
    slug = "unauthenticated"
    title = "認証が必要です。"


class Forbidden(KikanError):
    status = 403
    slug = "forbidden"
    title = "この操作を行う権限がありません。"


class AccountLocked(KikanError):
    status = 423
    slug = "account-locked"
    title = "アカウントはロックされています。"


class TooManyRequests(KikanError):
    """Throttled: `retry_after` (seconds) goes to the Retry-After header only, so the body is the
    same for every caller who is told to wait (no detail that differs by account)."""

    status = 429
    slug = "too-many-requests"
    title = "要求が多すぎます。"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(KikanError):
    status = 503
    slug = "service-unavailable"
    title = "サービスを一時的に利用できません。"


def from_value_error(exc: ValueError) -> KikanError:
    """Turn a library's documented input error (with `code`, `message`, `item`) into a problem."""
    message = getattr(exc, "message", None) or str(exc)
    item = getattr(exc, "item", None)
    code = getattr(exc, "code", None)
    extra: dict[str, Any] = {"code": code} if code else {}
    return InvalidInput(message, item=item, **extra)


_LOCATION_JA = {
    "body": "本文",
    "query": "クエリ",
    "path": "パス",
    "header": "ヘッダー",
    "cookie": "Cookie",
}
_MESSAGE_JA = {
    "missing": "必須項目です。",
    "string_type": "文字列で指定してください。",
    "int_type": "整数で指定してください。",
    "int_parsing": "整数で指定してください。",
    "bool_type": "真偽値で指定してください。",
    "string_too_short": "文字数が不足しています。",
    "string_too_long": "文字数が多すぎます。",
    "string_pattern_mismatch": "形式が正しくありません。",
    "json_invalid": "JSON の形式が正しくありません。",
    "model_attributes_type": "オブジェクトで指定してください。",
    "list_type": "配列で指定してください。",
    "enum": "指定できない値です。",
    "literal_error": "指定できない値です。",
    "date_from_datetime_parsing": "日付の形式が正しくありません。",
    "date_parsing": "日付の形式が正しくありません。",
    "extra_forbidden": "指定できない項目です。",
    "value_error": "値が正しくありません。",
}


def _validation_problem(exc: RequestValidationError) -> InvalidInput:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = _LOCATION_JA.get(loc[0], loc[0]) if loc else ""
        field = ".".join(loc[1:])
        kind = str(err.get("type", ""))
        message = _MESSAGE_JA.get(kind, "値が正しくありません。")
        ctx_error = (err.get("ctx") or {}).get("error")
        ctx_message = getattr(ctx_error, "message", None)
        if isinstance(ctx_error, ValueError) and ctx_message:
            message = str(ctx_message)
        # The submitted value is deliberately not echoed (it may be a My Number).
        errors.append({"location": where, "field": field, "type": kind, "message": message})
    first = errors[0] if errors else None
    detail = f"{first['field'] or first['location']}: {first['message']}" if first else None
    return InvalidInput(detail, errors=errors)


BUSY_RETRY_AFTER_SECONDS = 2


def problem_response(err: KikanError, request: Request | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
    if err.status == 503:
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
    if isinstance(err, TooManyRequests):
        headers = {"Retry-After": str(err.retry_after)}
    return JSONResponse(
        err.problem(request.url.path if request else None),
        status_code=err.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def internal_error_response(exc: BaseException, path: str | None = None) -> JSONResponse:
    """The 500 problem for an error nobody expected; the traceback is logged here, once, under
    the `error_id` the client is shown."""
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s", error_id, exc_info=exc)
    err = KikanError(
        "システムで予期しないエラーが発生しました。管理者にお問い合わせください。",
        slug="internal-error",
        title="システムエラーが発生しました。",
        error_id=error_id,
    )
    err.status = 500
    return JSONResponse(err.problem(path), status_code=500, media_type=PROBLEM_JSON)


def install_handlers(app: FastAPI) -> None:
    """Route every exception to a problem+json response."""

    async def kikan_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KikanError)
        return problem_response(exc, request)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(_validation_problem(exc), request)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        titles = {404: "ページが見つかりません。", 405: "このメソッドは使用できません。"}
        err = KikanError(
            titles.get(exc.status_code, "要求を処理できませんでした。"),
            slug=f"http-{exc.status_code}",
            title=titles.get(exc.status_code, "要求を処理できませんでした。"),
        )
        err.status = exc.status_code
        return problem_response(err, request)

    async def db_error(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.error("database error %s: %s", error_id, type(exc).__name__)
        if isinstance(exc, OperationalError):
            err: KikanError = ServiceUnavailable(
                "データベースに接続できません。しばらくしてから再度お試しください。",
                slug="database-unavailable",
                error_id=error_id,
            )
        else:
            err = KikanError(
                "データベースの処理に失敗しました。", slug="database-error", error_id=error_id
            )
            err.status = 500
        return problem_response(err, request)

    async def pool_timeout(request: Request, exc: Exception) -> JSONResponse:
        # Every connection of the pool stayed busy for KIKAN_DB_POOL_TIMEOUT seconds: the server
        # is overloaded, not broken. Say so, and when to try again, instead of a bare 500.
        error_id = uuid.uuid4().hex[:12]
        log.warning("connection pool exhausted %s", error_id)
        err = ServiceUnavailable(
            "混み合っているため処理できませんでした。しばらくしてから再度お試しください。",
            slug="busy",
            error_id=error_id,
        )
        return problem_response(err, request)

    async def value_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ValueError)
        if hasattr(exc, "code") and hasattr(exc, "message"):
            return problem_response(from_value_error(exc), request)
        return await unexpected(request, exc)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error_response(exc, request.url.path)

    app.add_exception_handler(KikanError, kikan_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, db_error)
    app.add_exception_handler(PoolTimeout, pool_timeout)
    app.add_exception_handler(ValueError, value_error)
    app.add_exception_handler(Exception, unexpected)
