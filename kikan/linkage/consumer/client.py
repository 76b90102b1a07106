"""The HTTP side of a linkage consumer, as another vendor's system would write it.

Only the published contract is used (docs/linkage.md, docs/api/openapi.json): an RFC 7523
`client_secret_jwt` assertion (HS256, iss = sub = client id, aud = token endpoint, short exp,
unique jti) made with joserfc, then 全件 and 差分 pages with a Bearer token. Nothing here imports
the provider's code (an import-linter contract keeps it so).

Why the retry lives here and not in each module: the provider is another system that restarts,
throttles (429 with Retry-After) and answers 5xx while it does. Every consumer must then wait,
longer each time and not in step with the others (jitter), and give up after a bounded number of
attempts with its cursor untouched (the sync commits a cursor only with the page it applied).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/api/v1/linkage/token"  # noqa: S105 - a URL path, not a secret
CLIENTS_PATH = "/api/v1/linkage/clients"
CHANGES_PATH = "/api/v1/linkage/changes"
FULL_PATH = "/api/v1/linkage/full/residents"
RECORDS_PATH = "/api/v1/linkage/records/residents"
STAFF_TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 - a URL path, not a secret

#: Problem types (docs/linkage.md) meaning "your position is no longer in the feed: start again
#: from 全件": a 差分 cursor beyond the 団体's head or inside a purged range, a refused 全件 cursor.
RESYNC_PROBLEMS = frozenset({"cursor-out-of-range", "invalid-cursor"})
PROBLEM_PREFIX = "urn:kikan:problem:"
#: Statuses worth another attempt: the provider is busy or restarting, not refusing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: A token is renewed this many seconds before it expires (clock skew, a slow page).
RENEW_MARGIN = 60.0
RECORDS_LIMIT = 100


class LinkageError(RuntimeError):
    """The linkage API refused or could not be reached; `message` is Japanese. `body` is the
    refusal's JSON body when it had one (a provider API's own error shape, e.g. 付番's
    `errors[]`)."""

    def __init__(
        self, message: str, status: int | None = None, slug: str = "", body: Any = None
    ) -> None:
        self.message = message
        self.status = status
        self.slug = slug
        self.body = body
        super().__init__(message)


class ResyncRequired(LinkageError):
    """The stored cursor is not in the provider's feed (another 団体's, ahead of the feed, or in
    a purged range): the consumer must load 全件 again. The sync leaves the cursor as it was, so
    nothing is lost by stopping; re-syncing is the operator's decision (`--resync`)."""


class LinkageUnavailable(LinkageError):
    """The provider stayed unreachable (or busy) through every attempt of the retry policy."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits between half and all of
    `min(cap, base * 2**n)` seconds (never zero, so never a busy loop), or the provider's
    Retry-After when it says so (bounded by `max_retry_after`)."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 300.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.cap, self.base * (2.0**attempt))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def client_assertion(
    client_id: str, secret: str, *, audience: str | list[str], lifetime: int = 120
) -> str:
    """A signed client assertion, made by joserfc (a maintained JOSE library) rather than by
    hand, with the algorithm pinned to the contract's HS256. Wall-clock time: the provider
    checks `iat`/`exp` against its own clock."""
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


def _retry_after(r: httpx.Response) -> float | None:
    value = r.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def problem_error(r: httpx.Response) -> LinkageError:
    """The provider's problem (RFC 9457) as a Japanese error; a refused cursor as ResyncRequired."""
    slug, detail, body = "", "", None
    try:
        body = r.json()
        if isinstance(body, dict):
            slug = str(body.get("type") or "").removeprefix(PROBLEM_PREFIX)
            detail = str(body.get("detail") or "")
    except ValueError:
        pass
    detail = detail or r.text[:200]
    if slug in RESYNC_PROBLEMS:
        return ResyncRequired(
            f"庁内データ連携の反映位置が使えません（{r.status_code}）: {detail}"
            "全件から取り直してください。",
            r.status_code,
            slug,
        )
    return LinkageError(
        f"庁内データ連携 API がエラーを返しました（{r.status_code}）: {detail}",
        r.status_code,
        slug,
        body,
    )


@dataclass
class LinkageClient:
    """Pulls one tenant's 宛名 over HTTP for one consumer (one linkage client).

    The access token is cached and renewed `RENEW_MARGIN` seconds before it expires, and once
    more when the provider answers 401 anyway (revoked, or expired in the middle of a run): the
    page is then asked again with the new token. `sleep`, `clock` and `rng` are injectable so
    tests can count attempts and waits instead of waiting."""

    base_url: str
    client_id: str
    client_secret: str
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    _token: str | None = field(default=None, repr=False)
    _expires_at: float = field(default=0.0, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)
    #: what the client did (for reports and tests): token requests, retries, seconds waited
    tokens_issued: int = 0
    retries: int = 0
    waited: float = 0.0

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

    # ------------------------------------------------------------ transport with retry

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on connection errors, 5xx and 429 with backoff."""
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                r = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                failure = f"庁内データ連携 API に接続できません: {type(exc).__name__}"
            else:
                if r.status_code not in RETRY_STATUSES:
                    return r
                failure = f"庁内データ連携 API が応答できません（{r.status_code}）"
                retry_after = _retry_after(r)
            attempt += 1
            if attempt >= self.retry.attempts:
                raise LinkageUnavailable(
                    f"{failure}。{attempt}回試みました。反映位置はそのままです（次回は続きから）。"
                )
            pause = self.retry.delay(attempt - 1, retry_after, self.rng)
            self.retries += 1
            self.waited += pause
            self.sleep(pause)

    # ------------------------------------------------------------ token

    def authenticate(self) -> None:
        # the absolute endpoint URL (RFC 7523) and its path, in case a proxy rewrites the host
        audience = [f"{self.base_url.rstrip('/')}{TOKEN_PATH}", TOKEN_PATH]
        r = self._send(
            "POST",
            TOKEN_PATH,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(
                    self.client_id, self.client_secret, audience=audience
                ),
            },
        )
        if r.status_code != 200:
            raise problem_error(r)
        body = r.json()
        self._token = str(body["access_token"])
        self._expires_at = self.clock() + float(body.get("expires_in") or 600)
        self.tokens_issued += 1

    def _token_fresh(self) -> bool:
        return self._token is not None and self.clock() < self._expires_at - RENEW_MARGIN

    def get(self, path: str, params: Any) -> dict[str, Any]:
        """GET with a valid token: renewed before expiry, and once on a 401."""
        body = self.call("GET", path, params=params)
        if not isinstance(body, dict):
            raise LinkageError("庁内データ連携 API の応答の形式が正しくありません。")
        return body

    def call(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any:
        """One call of a provider API with a valid token (renewed before expiry, and once on
        a 401); the JSON answer, or a `LinkageError` made of the problem."""
        for attempt in range(2):
            if not self._token_fresh():
                self.authenticate()
            r = self._send(
                method,
                path,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {self._token}"},
            )
            if r.status_code == 401 and attempt == 0:
                self._token = None  # expired or revoked under us: one fresh token, then give up
                continue
            if r.status_code != 200:
                raise problem_error(r)
            return r.json()
        raise LinkageError("庁内データ連携 API の認証に失敗しました。", 401)

    # ------------------------------------------------------------ the feed

    def changes(self, after: int, limit: int = 100) -> ChangesPage:
        """差分 (連携区分 2) after `after`. A cursor the provider does not know raises
        ResyncRequired."""
        body = self.get(CHANGES_PATH, {"after": after, "limit": limit})
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

    def full(self, cursor: str | None, limit: int = 500, *, as_of: date | None = None) -> FullPage:
        """One 全件 (連携区分 1) page; `as_of` asks for the register as it stood on that day
        (the entry in force per person, as the register knows it now)."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        if as_of is not None:
            params["as_of"] = as_of.isoformat()
        body = self.get(FULL_PATH, params)
        return FullPage(
            records=[dict(r) for r in body.get("records") or []],
            next_cursor=body.get("next_cursor"),
            as_of_seq=int(body.get("as_of_seq") or 0),
        )

    def full_pages(self, *, as_of: date | None = None, limit: int = 500) -> Iterator[FullPage]:
        """Every 全件 page in order (e.g. the register as of 1月1日 for a tax run)."""
        cursor: str | None = None
        while True:
            page = self.full(cursor, limit, as_of=as_of)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def records(self, atena_numbers: Sequence[str]) -> list[dict[str, str]]:
        """The current records of these persons (ones the client may not see, or unknown ones,
        are left out): how a consumer learns about a person a change names without a record."""
        out: list[dict[str, str]] = []
        wanted = sorted(set(atena_numbers))
        for start in range(0, len(wanted), RECORDS_LIMIT):
            chunk = wanted[start : start + RECORDS_LIMIT]
            body = self.get(RECORDS_PATH, [("atena_number", a) for a in chunk])
            out += [dict(r) for r in body.get("records") or []]
        return out


def register_client(
    base_url: str,
    staff_token: str,
    *,
    name: str,
    scopes: Sequence[str],
    transport: httpx.BaseTransport | None = None,
) -> tuple[str, str]:
    """Register a consumer as a linkage client of the staff member's tenant (needs 管理者)."""
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=30.0, transport=transport) as http:
        try:
            r = http.post(
                CLIENTS_PATH,
                json={"name": name, "scopes": list(scopes)},
                headers={"Authorization": f"Bearer {staff_token}"},
            )
        except httpx.HTTPError as exc:
            raise LinkageError(
                f"庁内データ連携 API に接続できません: {type(exc).__name__}"
            ) from exc
    if r.status_code != 201:
        raise problem_error(r)
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
                STAFF_TOKEN_PATH,
                json={"tenant": tenant, "login_id": login_id, "password": password},
            )
        except httpx.HTTPError as exc:
            raise LinkageError(f"サーバーに接続できません: {type(exc).__name__}") from exc
    if r.status_code != 200:
        raise problem_error(r)
    return str(r.json()["access_token"])
