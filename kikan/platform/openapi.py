"""The API contract tells the truth about errors: every problem each operation can answer.

FastAPI documents one error, 422 as its own `HTTPValidationError` in `application/json`. Kikan
answers every 4xx/5xx as an RFC 9457 problem in `application/problem+json` (kikan.platform.errors),
so other vendors' generated clients and the schemathesis run in CI would both be misled. The
statuses an operation can answer follow from what the route is made of, so they are derived from
it here, in one place, rather than written by hand on 78 endpoints (where they would drift):

- every operation: 500 (unexpected, with `error_id`) and 503 (database down or pool busy);
- parameters or a body: 422 (validation, with `errors[]`); a body: 400 (not readable as
  JSON at all) and 413 (request too large);
- authentication (the operation reads the `Authorization` header): 401 and 403;
- a path parameter or a body: 404 (a person, household or record the request names does not
  exist or is not visible to the caller);
- a writing method: 409 (concurrency, duplicates and business refusals that conflict with state).

Routes that can answer more (429 throttling, 423) declare it with `problem_responses(...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from kikan.platform.errors import PROBLEM_JSON, TYPE_PREFIX

PROBLEM_SCHEMA_NAME = "Problem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 の問題詳細。`title`・`detail` は日本語、`type` は問題の種類ごとに"
    "不変の URN。入力値そのものは返しません（個人番号を含み得るため）。",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": f"問題の種類（`{TYPE_PREFIX}<slug>`）",
            "examples": [f"{TYPE_PREFIX}invalid-input"],
        },
        "title": {"type": "string", "description": "問題の見出し（日本語）"},
        "status": {"type": "integer", "description": "HTTP ステータスコード"},
        "detail": {"type": "string", "description": "問題の説明（日本語）"},
        "instance": {"type": "string", "description": "要求のパス"},
        "item": {"type": "string", "description": "問題のある項目名"},
        "code": {"type": "string", "description": "業務上の理由コード"},
        "error_id": {
            "type": "string",
            "description": "サーバーのログと照合するための識別子（500・503）",
        },
        "errors": {
            "type": "array",
            "description": "項目ごとの誤り（422。宛名管理の付番・照会の 400 では標準の"
            " `code`（E0001〜E0004）と `message`）",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "field": {"type": "string"},
                    "item": {"type": "string", "description": "項目名（日本語）"},
                    "type": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "additionalProperties": True,
            },
        },
    },
    "additionalProperties": True,
}

#: What each status means to a caller of Kikan (the OpenAPI `description` of the response).
PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "要求が正しくありません（問題詳細）。",
    401: "認証が必要です。トークンがない、期限切れ、または取り消されています（問題詳細）。",
    403: "この操作を行う権限がありません（問題詳細）。",
    404: "対象が見つからないか、参照できません（問題詳細）。",
    409: "現在の状態と競合するため処理できません（問題詳細）。",
    413: "要求の本文が大きすぎます（問題詳細）。",
    415: "本文の形式に対応していません（問題詳細）。",
    422: "入力内容に誤りがあります。項目ごとの誤りは errors にあります（問題詳細）。",
    423: "アカウントが利用できない状態です（問題詳細）。",
    429: "要求が多すぎます。Retry-After 秒後に再度お試しください（問題詳細）。",
    500: "システムエラー。error_id をお問い合わせください（問題詳細）。",
    503: "一時的に利用できません（データベース停止・混雑）。Retry-After 秒後に再度お試しください"
    "（問題詳細）。",
}

WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HEADER_RETRY_AFTER = {
    "Retry-After": {
        "description": "再試行までの秒数",
        "schema": {"type": "integer"},
    }
}


_PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can answer problems beyond the derived ones (e.g. 429)."""
    return {status: _problem_response(status) for status in statuses}


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": PROBLEM_DESCRIPTIONS.get(status, "問題詳細"),
        "content": _PROBLEM_CONTENT,
    }
    if status in (429, 503):
        response["headers"] = dict(_HEADER_RETRY_AFTER)
    return response


def derived_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses an operation can answer, read off its documented parameters."""
    statuses = {500, 503}
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if parameters or has_body:
        statuses.add(422)
    if has_body:
        statuses |= {400, 413}  # a body that is not even JSON / UTF-8; a body over the limit
    if any(p.get("in") == "header" and p.get("name") == "authorization" for p in parameters):
        # Every authenticated dependency (staff, operator, linkage client) reads this header.
        statuses |= {401, 403}
    if has_body or any(p.get("in") == "path" for p in parameters):
        statuses.add(404)  # the person, household or record the request names does not exist
    if method.upper() in WRITING_METHODS:
        statuses.add(409)
    return statuses


def document_problems(app: FastAPI) -> None:
    """Replace `app.openapi` by one that documents every problem response of every operation."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})[PROBLEM_SCHEMA_NAME] = (
            PROBLEM_SCHEMA
        )
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in derived_statuses(method, operation):
                    current = responses.get(str(status))
                    if current is None or _is_fastapi_validation(current):
                        responses[str(status)] = _problem_response(status)
                for status, response in responses.items():
                    # a route's own wording of an error status keeps its description
                    if int(status) >= 400 and "content" not in response:
                        response["content"] = _PROBLEM_CONTENT
                operation["responses"] = dict(sorted(responses.items()))
        _drop_unused_validation_schemas(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    content = response.get("content", {})
    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    return str(ref).endswith("/HTTPValidationError")


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    schemas = schema.get("components", {}).get("schemas", {})
    text = repr(schema.get("paths", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        if f"/{name}'" not in text:
            schemas.pop(name, None)
    if "HTTPValidationError" not in schemas:
        schemas.pop("ValidationError", None)
