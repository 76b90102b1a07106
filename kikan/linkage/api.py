"""Linkage endpoints: client registration (staff), token (clients), 差分 pull (clients)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from kikan.linkage import domain, service
from kikan.linkage.provider import ClientCaller, ClientCallerDep
from kikan.linkage.store import LinkageClientRow
from kikan.platform.crypto import KeyRing
from kikan.platform.deps import DbDep, KeyRingDep, StaffContextDep, StaffDep, client_uses, uses
from kikan.platform.errors import InvalidInput, NotFound, Unauthenticated
from kikan.platform.functions import Function
from kikan.platform.openapi import problem_responses
from kikan.platform.types import Chars, Cursor
from kikan.platform.uow import Database

router = APIRouter(prefix="/api/v1/linkage", tags=["庁内データ連携"])


ClientIdPath = Annotated[str, Chars(64), Path(description="クライアントID")]


class ClientCreate(BaseModel):
    name: Annotated[str, Chars(100, min_length=1)] = Field(description="連携先システムの名称")
    scopes: list[Annotated[str, Chars(40)]] = Field(
        min_length=1,
        max_length=10,
        description="連携範囲: データの種類（residents.changed）、支援措置対象者を含めて"
        "受け取る場合は support_measure、個人番号を含めて受け取る場合（マイナンバー利用事務系の"
        "システムのみ）は my_number、ほかに各業務が提供する API の連携範囲"
        "（kikan linkage client scopes で一覧）",
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
    scope_labels: dict[str, str] = Field(description="連携範囲ごとの説明")
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
    records: list[dict[str, str]] = Field(
        default_factory=list,
        description="payload の宛名番号の現在の標準レイアウト行（個人データ群、取得時点）。"
        "支援措置対象者の行は support_measure の連携範囲を持つクライアントにのみ含めます。"
        'そのクライアントには各行に support_measure（現在支援措置の対象なら "1"、'
        'それ以外は "0"）を付けます。個人番号（my_number）は my_number の連携範囲を持つ'
        "クライアントにのみ入れ、それ以外には空です。",
    )


class ChangesOut(BaseModel):
    kind: str = Field(default="2", description="連携区分（2 差分）")
    changes: list[ChangeOut]
    next_cursor: int = Field(description="次回の after に指定する値")
    has_more: bool


def _client_out(row: LinkageClientRow) -> ClientOut:
    scopes = row.scopes.split(",")
    return ClientOut(
        client_id=row.client_id,
        name=row.name,
        scopes=scopes,
        scope_labels={s: service.scope_label(s) for s in scopes},
        active=row.active,
        created_at=row.created_at,
    )


@router.post(
    "/clients", response_model=ClientCreated, status_code=201, summary="連携クライアントの登録"
)
def create_client(
    body: ClientCreate,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("linkage.client_create")],
    db: DbDep,
) -> ClientCreated:
    with db.unit_of_work(staff.scope) as uow:
        command = service.RegisterClient(name=body.name, scopes=tuple(body.scopes))
        created = service.register_client(uow, ctx, command)
        uow.commit()
    return ClientCreated(
        client_id=created.client_id,
        client_secret=created.client_secret,
        name=created.name,
        scopes=created.scopes,
    )


@router.get("/clients", response_model=list[ClientOut], summary="連携クライアントの一覧")
def get_clients(
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("linkage.client_list")],
    db: DbDep,
) -> list[ClientOut]:
    with db.unit_of_work(staff.scope) as uow:
        return [_client_out(r) for r in service.list_clients(uow, ctx, service.ListClients())]


@router.post(
    "/clients/{client_id}/rotate-secret",
    response_model=ClientCreated,
    summary="連携クライアントの共有鍵の更新（旧い鍵と発行済みトークンは無効）",
)
def rotate_client_secret(
    client_id: ClientIdPath,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("linkage.client_rotate")],
    db: DbDep,
) -> ClientCreated:
    with db.unit_of_work(staff.scope) as uow:
        rotated = service.rotate_secret(uow, ctx, service.ClientRef(client_id))
        uow.commit()
    return ClientCreated(
        client_id=rotated.client_id,
        client_secret=rotated.client_secret,
        name=rotated.name,
        scopes=rotated.scopes,
    )


@router.post(
    "/clients/{client_id}/disable",
    response_model=ClientOut,
    summary="連携クライアントの利用停止（発行済みトークンも無効）",
)
def disable_client(
    client_id: ClientIdPath,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("linkage.client_disable")],
    db: DbDep,
) -> ClientOut:
    with db.unit_of_work(staff.scope) as uow:
        row = service.disable_client(uow, ctx, service.ClientRef(client_id))
        out = _client_out(row)
        uow.commit()
    return out


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
                        "client_assertion": {"type": "string", "maxLength": 4096},
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
    responses=problem_responses(401),
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


#: the answer a `my_number` client gets when the server has no key (or cannot decrypt)
_MY_NUMBER_409: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "連携範囲 my_number のクライアントに個人番号を渡せません：暗号鍵が設定"
        "されていない（問題詳細 urn:kikan:problem:keyring-missing）か、復号できない"
        "（urn:kikan:problem:my-number-undecryptable）。"
    }
}


def _pull(
    db: Database, caller: ClientCaller, after: int, limit: int, keyring: KeyRing | None
) -> ChangesOut:
    with db.unit_of_work(caller.tenant) as uow:
        page = service.changes(uow, caller, after=after, limit=limit, keyring=keyring)
        uow.commit()
    return ChangesOut(
        changes=[
            ChangeOut(
                seq=c.seq,
                topic=c.topic,
                created_at=c.created_at,
                payload=c.payload,
                records=c.records,
            )
            for c in page.changes
        ],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get(
    "/changes",
    response_model=ChangesOut,
    summary="差分の取得（連携区分 2）",
    responses={
        410: {
            "description": "after がこの団体の差分の位置ではありません（別の団体のカーソル、"
            "または削除済みの範囲）。全件から取り直してください（問題詳細 "
            "urn:kikan:problem:cursor-out-of-range）。"
        },
        **_MY_NUMBER_409,
    },
    dependencies=[client_uses("linkage.changes")],
)
def changes(
    caller: ClientCallerDep,
    db: DbDep,
    keyring: KeyRingDep,
    after: Annotated[Cursor, Query(description="前回の next_cursor（初回は 0）")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="最大件数")] = 100,
) -> ChangesOut:
    return _pull(db, caller, after, limit, keyring)


class FullOut(BaseModel):
    kind: str = Field(default="1", description="連携区分（1 全件）")
    records: list[dict[str, str]] = Field(
        description="標準レイアウトの個人データ群の行に現住所の項目を加えたもの"
        "（項目コード → 値）。個人番号（my_number）は my_number の連携範囲を持つ"
        "クライアントにのみ現在の番号を入れ、それ以外には空です。"
        "support_measure の連携範囲を持つクライアントには支援措置対象者も含め、"
        "各行に support_measure（現在支援措置の対象なら "
        '"1"、それ以外は "0"）を付けます。'
    )
    next_cursor: str | None = Field(
        description="次のページの cursor に指定する値。null なら最後のページです。"
    )
    as_of_seq: int = Field(
        description="最初のページを読む直前の差分の位置。全件の取得後、after にこの値を指定して"
        "差分を取得すると、取得中の異動も反映されます。"
    )


@router.get(
    "/full/residents",
    response_model=FullOut,
    summary="住民記録の全件取得（連携区分 1）",
    responses=_MY_NUMBER_409,
    dependencies=[client_uses("linkage.full")],
)
def full_residents(
    caller: ClientCallerDep,
    db: DbDep,
    keyring: KeyRingDep,
    *,
    cursor: Annotated[
        str | None, Chars(512), Query(description="前のページの next_cursor（初回は省略）")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="最大件数")] = 1000,
    as_of: Annotated[
        date | None,
        Query(
            description="基準日（YYYY-MM-DD）。指定すると各人のその日に有効だった記録"
            "（現在記録されている履歴による）を返します。例: 課税の基準日 1月1日。"
            "続くページにも同じ値を指定してください。"
        ),
    ] = None,
) -> Response:
    group = service.group_for_resource("residents")
    if group is None:
        raise NotFound("住民記録の全件連携は提供されていません。")
    with db.unit_of_work(caller.tenant) as uow:
        page = service.full(
            uow, caller, group, cursor=cursor or None, limit=limit, as_of=as_of, keyring=keyring
        )
        uow.commit()
    # thousands of flat string dicts per page: serialised directly (the shape is FullOut's, and
    # the records are already plain str → str), which keeps 全件 bound by the database read
    body = {
        "kind": "1",
        "records": page.records,
        "next_cursor": page.next_cursor,
        "as_of_seq": page.as_of_seq,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        media_type="application/json",
    )


class RecordsOut(BaseModel):
    records: list[dict[str, str]] = Field(
        description="指定した宛名番号のうち、このクライアントが受け取れる者の現在の記録"
        "（全件と同じ形）。該当しない番号は黙って除きます。"
    )


@router.get(
    "/records/residents",
    response_model=RecordsOut,
    summary="住民記録の個別取得（宛名番号を指定）",
    responses=_MY_NUMBER_409,
    dependencies=[client_uses("linkage.records")],
)
def records_residents(
    caller: ClientCallerDep,
    db: DbDep,
    keyring: KeyRingDep,
    atena_number: Annotated[
        list[Annotated[str, Chars(15, min_length=1)]],
        Query(min_length=1, max_length=100, description="宛名番号（繰り返し指定、100件まで）"),
    ],
) -> RecordsOut:
    group = service.group_for_resource("residents")
    if group is None:
        raise NotFound("住民記録の連携は提供されていません。")
    with db.unit_of_work(caller.tenant) as uow:
        found = service.records(uow, caller, group, atena_number, keyring)
        uow.commit()
    return RecordsOut(records=found)
