"""Linkage endpoints: client registration (staff), token (clients), 差分 pull (clients)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from kikan.linkage import domain, service
from kikan.platform import auth
from kikan.platform.api import DbDep, StaffDep
from kikan.platform.errors import InvalidInput, Unauthenticated
from kikan.platform.uow import Database

router = APIRouter(prefix="/api/v1/linkage", tags=["庁内データ連携"])


class ClientCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="連携先システムの名称")
    scopes: list[str] = Field(
        min_length=1,
        description="連携範囲: データの種類（residents.changed）と、支援措置対象者を含めて"
        "受け取る場合は support_measure",
        examples=[["residents.changed"]],
    )


class ClientCreated(BaseModel):
    client_id: str
    client_secret: str = Field(description="HS256 の共有鍵。この応答でのみ表示します。")
    name: str
    scopes: list[str]
    token_endpoint: str = domain.TOKEN_PATH


class ClientOut(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    active: bool
    created_at: datetime


class LinkageToken(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type name, not a secret
    expires_in: int
    scope: str


class ChangeOut(BaseModel):
    seq: int
    topic: str
    created_at: datetime
    payload: dict[str, Any] | None = Field(
        description="連携範囲外、または支援措置対象者のみに関する事象は null"
    )


class ChangesOut(BaseModel):
    kind: str = Field(default="2", description="連携区分（2 差分）")
    changes: list[ChangeOut]
    next_cursor: int = Field(description="次回の after に指定する値")
    has_more: bool


@router.post(
    "/clients", response_model=ClientCreated, status_code=201, summary="連携クライアントの登録"
)
def create_client(body: ClientCreate, staff: StaffDep, db: DbDep) -> ClientCreated:
    auth.require_roles(db, staff, auth.Role.SYSADMIN, function="連携クライアント登録")
    with db.unit_of_work(staff.scope) as uow:
        created = service.register_client(uow, staff.actor(), name=body.name, scopes=body.scopes)
        uow.commit()
    return ClientCreated(
        client_id=created.client_id,
        client_secret=created.client_secret,
        name=created.name,
        scopes=created.scopes,
    )


@router.get("/clients", response_model=list[ClientOut], summary="連携クライアントの一覧")
def get_clients(staff: StaffDep, db: DbDep) -> list[ClientOut]:
    auth.require_roles(db, staff, auth.Role.SYSADMIN, function="連携クライアント一覧")
    with db.unit_of_work(staff.scope) as uow:
        return [
            ClientOut(
                client_id=r.client_id,
                name=r.name,
                scopes=r.scopes.split(","),
                active=r.active,
                created_at=r.created_at,
            )
            for r in service.list_clients(uow)
        ]


async def _token_params(request: Request) -> dict[str, str]:
    raw = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if ctype == "application/json":
            data = json.loads(raw or b"{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return {str(k): v for k, v in data.items() if isinstance(v, str)}
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("要求の本文を読み取れません。") from exc
    return {k: v[0] for k, v in parsed.items()}


_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": ["client_assertion_type", "client_assertion"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_assertion_type": {
                            "type": "string",
                            "enum": [domain.ASSERTION_TYPE],
                        },
                        "client_assertion": {"type": "string"},
                    },
                }
            }
            for media in ("application/x-www-form-urlencoded", "application/json")
        },
    }
}


@router.post(
    "/token",
    response_model=LinkageToken,
    summary="アクセストークンの発行（client_secret_jwt, RFC 7523）",
    openapi_extra=_TOKEN_BODY,
)
async def token(request: Request, db: DbDep) -> LinkageToken:
    params = await _token_params(request)
    grant = params.get("grant_type")
    if grant is not None and grant != "client_credentials":
        raise InvalidInput("grant_type は client_credentials を指定してください。")
    if params.get("client_assertion_type") != domain.ASSERTION_TYPE:
        raise Unauthenticated(
            f"client_assertion_type は {domain.ASSERTION_TYPE} を指定してください。",
            slug="invalid-client",
        )
    assertion = params.get("client_assertion", "")
    if not assertion or len(assertion) > 4096:
        raise Unauthenticated("client_assertion を指定してください。", slug="invalid-client")
    # the path, or the absolute URL the client reached (behind a proxy: as forwarded to us)
    audiences = {domain.TOKEN_PATH, str(request.url.replace(query="", fragment=""))}
    issued = service.issue_token(db, assertion=assertion, audiences=audiences)
    return LinkageToken(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        scope=" ".join(issued.scopes),
    )


def get_caller(
    db: DbDep, authorization: Annotated[str | None, Header()] = None
) -> service.LinkageCaller:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("アクセストークンを Bearer 形式で指定してください。")
    return service.authenticate(db, value.strip())


CallerDep = Annotated[service.LinkageCaller, Depends(get_caller)]


def _pull(db: Database, caller: service.LinkageCaller, after: int, limit: int) -> ChangesOut:
    with db.unit_of_work(caller.tenant) as uow:
        page = service.changes(uow, caller, after=after, limit=limit)
        uow.commit()
    return ChangesOut(
        changes=[
            ChangeOut(seq=c.seq, topic=c.topic, created_at=c.created_at, payload=c.payload)
            for c in page.changes
        ],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get("/changes", response_model=ChangesOut, summary="差分の取得（連携区分 2）")
def changes(
    caller: CallerDep,
    db: DbDep,
    after: Annotated[int, Query(ge=0, description="前回の next_cursor（初回は 0）")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="最大件数")] = 100,
) -> ChangesOut:
    return _pull(db, caller, after, limit)
