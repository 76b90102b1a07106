"""Problem details (RFC 9457) for every error a client can see.

People read `title` and `detail` (Japanese); programs read `type`, a stable URN per problem kind
(`urn:kikan:problem:<slug>`). Domain code raises `kikan.errors.DomainError` and never these
classes; `domain_problem` is the one place that turns a domain error into a problem (ADR 0013).
The classes below stay for the HTTP layer itself and platform authentication. Clients never
see a stack trace or an echo of what they sent (input may hold a My Number);
unexpected errors carry an `error_id` to find the log line.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, get_args, get_origin

from fastapi import FastAPI, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kikan.calendar import DateError
from kikan.errors import DomainError, Kind

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


_DOMAIN_KINDS: dict[Kind, type[KikanError]] = {
    Kind.INVALID: InvalidInput,
    Kind.NOT_FOUND: NotFound,
    Kind.CONFLICT: Conflict,
    Kind.STALE: ConcurrentUpdate,
    Kind.REFUSED: Forbidden,
}


def domain_problem(exc: DomainError) -> KikanError:
    """The one mapping of a domain error to its problem (ADR 0013): the kind gives the status
    and the generic type; an ``invalid`` problem carries the error's `code`, the other kinds are
    typed by it (`urn:kikan:problem:<code>`)."""
    cls = _DOMAIN_KINDS[exc.kind]
    extra = dict(exc.extra)
    slug: str | None = exc.code
    if exc.kind is Kind.INVALID:
        extra["code"] = exc.code
        slug = None
    return cls(exc.public_message(), item=exc.item, slug=slug, title=exc.title, **extra)


def as_problem(exc: KikanError | DomainError) -> KikanError:
    """The problem either kind of error stands for: what a page shows (detail, status) when it
    catches a domain error and an HTTP-layer error alike."""
    return exc if isinstance(exc, KikanError) else domain_problem(exc)


def from_value_error(exc: ValueError) -> KikanError:
    """Turn an input error into a problem: a domain error through `domain_problem`, any other
    error shaped like one (with `code`, `message`, `item`) as invalid input."""
    if isinstance(exc, DomainError):
        return domain_problem(exc)
    message = getattr(exc, "message", None) or str(exc)
    item = getattr(exc, "item", None)
    if isinstance(exc, DateError):
        message = exc.without_value() + "。"  # a DateError's message quotes the value
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
    "string_unicode": "文字列として読み取れません。",
    "int_type": "整数で指定してください。",
    "int_parsing": "整数で指定してください。",
    "int_from_float": "整数で指定してください。",
    "int_parsing_size": "値が大きすぎます。",
    "bool_type": "真偽値で指定してください。",
    "bool_parsing": "真偽値で指定してください。",
    "string_too_short": "文字数が不足しています。",
    "string_too_long": "文字数が多すぎます。",
    "string_pattern_mismatch": "形式が正しくありません。",
    "too_short": "件数が不足しています。",
    "too_long": "件数が多すぎます。",
    "greater_than_equal": "値が小さすぎます。",
    "greater_than": "値が小さすぎます。",
    "less_than_equal": "値が大きすぎます。",
    "less_than": "値が大きすぎます。",
    "json_invalid": "JSON の形式が正しくありません。",
    "json_type": "JSON で指定してください。",
    "model_attributes_type": "オブジェクトで指定してください。",
    "model_type": "オブジェクトで指定してください。",
    "dict_type": "オブジェクトで指定してください。",
    "list_type": "配列で指定してください。",
    "enum": "指定できない値です。",
    "literal_error": "指定できない値です。",
    "date_type": "日付で指定してください。",
    "date_from_datetime_parsing": "日付の形式が正しくありません。",
    "date_from_datetime_inexact": "日付の形式が正しくありません。",
    "date_parsing": "日付の形式が正しくありません。",
    "datetime_type": "日時で指定してください。",
    "datetime_parsing": "日時の形式が正しくありません。",
    "datetime_from_date_parsing": "日時の形式が正しくありません。",
    "datetime_object_invalid": "日時の形式が正しくありません。",
    "timezone_aware": "時差（タイムゾーン）を付けて指定してください。",
    "extra_forbidden": "指定できない項目です。",
    "value_error": "値が正しくありません。",
}
#: Items whose schema names no Japanese label of its own (ids, versions, common dates).
_COMMON_LABELS = {
    "atena_number": "宛名番号",
    "atena_numbers": "宛名番号",
    "household_number": "世帯番号",
    "notified_date": "届出日",
    "expected_version": "版",
    "expected_versions": "版",
    "expected_household_version": "世帯の版",
    "expected_household_versions": "世帯の版",
    "registration_number": "登録番号",
    "measure_id": "支援措置の番号",
    "suppression_id": "抑止番号",
    "review_id": "確認の番号",
    "issue_number": "発行番号",
    "login_id": "ログインID",
    "client_id": "クライアントID",
    "known_at": "記録時点",
    "date": "日付",
    "since": "開始日時",
    "until": "終了日時",
    "before_seq": "番号",
    "page": "ページ",
    "page_size": "1ページの件数",
    "limit": "最大件数",
    "start_date": "開始日",
    "end_date": "終了日",
    "password": "パスワード",
    "current_password": "現在のパスワード",
    "new_password": "新しいパスワード",
    "tenant": "団体コード",
    "note": "備考",
    "reason": "理由",
    "fields": "返す項目",
    "changes": "修正する項目",
    "zokugara": "続柄",
}
_LABEL_END = re.compile(r"[（(。、:：]")


def _head(info: FieldInfo | None, name: str) -> str | None:
    if info is None:
        return None
    if info.title:
        return info.title
    if name in _COMMON_LABELS:
        return _COMMON_LABELS[name]
    if info.description:
        head = _LABEL_END.split(info.description, maxsplit=1)[0].strip()
        if head and len(head) <= 20:
            return head
    return None


def _inner_types(annotation: Any) -> list[Any]:
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin is None:
        return [annotation]
    if origin in (dict,) and len(args) == 2:
        return [args[1]]
    return [t for a in args for t in _inner_types(a)] or [annotation]


def _label_in(annotation: Any, parts: list[Any]) -> str | None:
    """The Japanese label of the deepest named field on ``parts`` below a body model."""
    label: str | None = None
    current = [annotation]
    for part in parts:
        if not isinstance(part, str):
            continue
        models = [t for c in current for t in _inner_types(c) if isinstance(t, type)]
        model = next(
            (m for m in models if issubclass(m, BaseModel) and part in m.model_fields), None
        )
        if model is None:
            current = [t for c in current for t in _inner_types(c)]
            continue
        info = model.model_fields[part]
        label = _head(info, part) or label
        current = [info.annotation]
    return label


def _item_label(request: Request | None, loc: list[Any]) -> str | None:
    """The item's Japanese name from the route's own schema: what staff see on the form."""
    route = request.scope.get("route") if request is not None else None
    if not loc or not isinstance(route, APIRoute):
        return _COMMON_LABELS.get(str(loc[-1])) if loc else None
    where, rest = loc[0], list(loc[1:])
    if where == "body":
        body = route.body_field
        if body is None:
            return None
        label = _label_in(body.field_info.annotation, rest)
        if label is None and rest and isinstance(rest[0], str):
            label = _COMMON_LABELS.get(rest[0])
        return label
    name = str(rest[0]) if rest else ""
    for param in get_flat_params(route.dependant):
        if name in (param.name, param.alias):
            return _head(param.field_info, param.name) or _COMMON_LABELS.get(param.name)
    return _COMMON_LABELS.get(name)


def _validation_problem(
    exc: RequestValidationError, request: Request | None = None
) -> InvalidInput:
    errors = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        where = _LOCATION_JA.get(str(loc[0]), str(loc[0])) if loc else ""
        field = ".".join(str(p) for p in loc[1:])
        kind = str(err.get("type", ""))
        if kind.startswith("kikan_"):
            # our own types (kikan.platform.types) write Japanese messages without the value
            message = str(err.get("msg", ""))
        else:
            message = _MESSAGE_JA.get(kind, "値が正しくありません。")
            ctx_error = (err.get("ctx") or {}).get("error")
            ctx_message = getattr(ctx_error, "message", None)
            if isinstance(ctx_error, DateError):
                message = ctx_error.without_value("") + "。"
            elif isinstance(ctx_error, ValueError) and ctx_message:
                message = str(ctx_message)
        label = _item_label(request, loc) or (field.rsplit(".", 1)[-1] if field else where)
        # The submitted value is deliberately not echoed (it may be a My Number).
        errors.append(
            {"location": where, "field": field, "item": label, "type": kind, "message": message}
        )
    first = errors[0] if errors else None
    detail = f"{first['item']}: {first['message']}" if first else None
    item = first["item"] if first else None
    return InvalidInput(detail, item=item, errors=errors)


BUSY_RETRY_AFTER_SECONDS = 2


def _instance(request: Request | None) -> str | None:
    """The operation, as its path template (`/api/v1/residents/{atena_number}`): the concrete
    path holds what the client sent (a 宛名番号, a login id) and a problem never echoes it."""
    if request is None:
        return None
    # FastAPI records the route as included (with its router's prefix) beside the original route
    fastapi_scope = request.scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    for candidate in (
        context,
        getattr(context, "starlette_route", None),
        request.scope.get("route"),
    ):
        path = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
        if isinstance(path, str) and path.startswith("/"):
            return path
    return None


def problem_response(err: KikanError, request: Request | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
    if err.status == 503:
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
    if isinstance(err, TooManyRequests):
        headers = {"Retry-After": str(err.retry_after)}
    return JSONResponse(
        err.problem(_instance(request)),
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
        return problem_response(_validation_problem(exc, request), request)

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
                "データベースの処理に失敗しました。",
                slug="database-error",
                title="システムエラーが発生しました。",
                error_id=error_id,
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

    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(domain_problem(exc), request)

    async def value_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ValueError)
        if hasattr(exc, "code") and hasattr(exc, "message"):
            return problem_response(from_value_error(exc), request)
        return await unexpected(request, exc)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error_response(exc, request.url.path)

    app.add_exception_handler(KikanError, kikan_error)
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, db_error)
    app.add_exception_handler(PoolTimeout, pool_timeout)
    app.add_exception_handler(ValueError, value_error)
    app.add_exception_handler(Exception, unexpected)
