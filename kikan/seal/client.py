"""The HTTP client side of 庁内データ連携, as any other vendor's system would write it.

印鑑登録 may not import the linkage module (import-linter keeps them apart: they could come from
different vendors), so the RFC 7523 `client_secret_jwt` assertion is built here from the
published contract (HS256, iss = sub = client id, aud = token endpoint, short exp, unique jti)
with joserfc.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/api/v1/linkage/token"  # noqa: S105 - a URL path, not a secret
CLIENTS_PATH = "/api/v1/linkage/clients"
CHANGES_PATH = "/api/v1/linkage/changes"
FULL_PATH = "/api/v1/linkage/full/residents"
SCOPES = ["residents.changed", "support_measure"]
CLIENT_NAME = "印鑑登録システム"


class LinkageError(RuntimeError):
    """The linkage API refused or could not be reached; `message` is Japanese."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


def client_assertion(
    client_id: str, secret: str, *, audience: str | list[str], lifetime: int = 120
) -> str:
    """A signed client assertion, made by joserfc (a maintained JOSE library) rather than by
    hand, with the algorithm pinned to the contract's HS256."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    key = OctKey.import_key(secret)
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key, algorithms=["HS256"])


@dataclass(frozen=True)
class ChangeItem:
    seq: int
    topic: str
    payload: dict[str, Any] | None
    records: list[dict[str, str]] | None  # None: the server sent ids only (older contract)


@dataclass(frozen=True)
class ChangesPage:
    changes: list[ChangeItem]
    next_cursor: int
    has_more: bool


@dataclass(frozen=True)
class FullPage:
    records: list[dict[str, str]]
    next_cursor: str | None
    as_of_seq: int


def _problem(r: httpx.Response) -> LinkageError:
    try:
        detail = str(r.json().get("detail") or r.text[:200])
    except ValueError:
        detail = r.text[:200]
    return LinkageError(
        f"庁内データ連携 API がエラーを返しました（{r.status_code}）: {detail}", r.status_code
    )


@dataclass
class LinkageClient:
    """Pulls one tenant's 宛名 over HTTP. Re-authenticates when the 10-minute token expires."""

    base_url: str
    client_id: str
    client_secret: str
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None
    _token: str | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    def __enter__(self) -> LinkageClient:
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"), timeout=self.timeout, transport=self.transport
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError("LinkageClient used outside `with`")
        return self._http

    def authenticate(self) -> None:
        # the absolute endpoint URL (RFC 7523) and its path, in case a proxy rewrites the host
        audience = [f"{self.base_url.rstrip('/')}{TOKEN_PATH}", TOKEN_PATH]
        try:
            r = self.http.post(
                TOKEN_PATH,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": client_assertion(
                        self.client_id, self.client_secret, audience=audience
                    ),
                },
            )
        except httpx.HTTPError as exc:
            raise LinkageError(
                f"庁内データ連携 API に接続できません: {type(exc).__name__}"
            ) from exc
        if r.status_code != 200:
            raise _problem(r)
        self._token = str(r.json()["access_token"])

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(2):
            if self._token is None:
                self.authenticate()
            try:
                r = self.http.get(
                    path, params=params, headers={"Authorization": f"Bearer {self._token}"}
                )
            except httpx.HTTPError as exc:
                raise LinkageError(
                    f"庁内データ連携 API に接続できません: {type(exc).__name__}"
                ) from exc
            if r.status_code == 401 and attempt == 0:
                self._token = None  # expired: one fresh token, then give up
                continue
            if r.status_code != 200:
                raise _problem(r)
            body = r.json()
            if not isinstance(body, dict):
                raise LinkageError("庁内データ連携 API の応答の形式が正しくありません。")
            return body
        raise LinkageError("庁内データ連携 API の認証に失敗しました。", 401)

    def changes(self, after: int, limit: int = 100) -> ChangesPage:
        body = self._get(CHANGES_PATH, {"after": after, "limit": limit})
        items = []
        for c in body.get("changes") or []:
            records = c.get("records")
            items.append(
                ChangeItem(
                    seq=int(c["seq"]),
                    topic=str(c.get("topic", "")),
                    payload=c.get("payload"),
                    records=[dict(r) for r in records] if isinstance(records, list) else None,
                )
            )
        return ChangesPage(items, int(body["next_cursor"]), bool(body.get("has_more")))

    def full(self, cursor: str | None, limit: int = 500) -> FullPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = self._get(FULL_PATH, params)
        return FullPage(
            records=[dict(r) for r in body.get("records") or []],
            next_cursor=body.get("next_cursor"),
            as_of_seq=int(body.get("as_of_seq") or 0),
        )


def register_client(
    base_url: str,
    staff_token: str,
    *,
    transport: httpx.BaseTransport | None = None,
    name: str = CLIENT_NAME,
) -> tuple[str, str]:
    """Register 印鑑登録 as a linkage client of the staff member's tenant (needs 管理者)."""
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0, transport=transport) as http:
        try:
            r = http.post(
                CLIENTS_PATH,
                json={"name": name, "scopes": SCOPES},
                headers={"Authorization": f"Bearer {staff_token}"},
            )
        except httpx.HTTPError as exc:
            raise LinkageError(
                f"庁内データ連携 API に接続できません: {type(exc).__name__}"
            ) from exc
    if r.status_code != 201:
        raise _problem(r)
    body = r.json()
    return str(body["client_id"]), str(body["client_secret"])


def staff_login(
    base_url: str,
    tenant: str,
    login_id: str,
    password: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> str:
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0, transport=transport) as http:
        try:
            r = http.post(
                "/api/v1/auth/token",
                json={"tenant": tenant, "login_id": login_id, "password": password},
            )
        except httpx.HTTPError as exc:
            raise LinkageError(f"サーバーに接続できません: {type(exc).__name__}") from exc
    if r.status_code != 200:
        raise _problem(r)
    return str(r.json()["access_token"])
