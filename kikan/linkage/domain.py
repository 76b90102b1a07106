"""Pure rules of the linkage layer: HS256 client assertions, scopes and the 支援措置 filter.

No database, no framework: everything here is a function of its arguments (and a clock value).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/api/v1/linkage/token"  # noqa: S105 - a URL path, not a secret
MAX_ASSERTION_LIFETIME = 300  # seconds: `exp` may be at most 5 minutes ahead
CLOCK_SKEW = 30  # seconds of leeway for `nbf` / `iat` in the future
ACCESS_TOKEN_LIFETIME = 600  # seconds: 10 minutes

#: Data groups (topics) a client may be entitled to, plus the 支援措置 entitlement.
SUPPORT_MEASURE_SCOPE = "support_measure"
TOPIC_SCOPES = {"residents.changed": "住民記録の異動"}
SCOPES = {**TOPIC_SCOPES, SUPPORT_MEASURE_SCOPE: "支援措置対象者の宛名番号を含めて受け取る"}

CLIENT_ID_RE = re.compile(r"^[0-9]{6}[0-9a-f]{26}$")


class AssertionRejected(ValueError):
    """The client assertion is not acceptable; `reason` is a stable code, `message` Japanese."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message
        super().__init__(message)


def tenant_of_client(client_id: str) -> str | None:
    """Client ids are `<団体コード 6 digits><26 hex>`: no global table needed."""
    if not CLIENT_ID_RE.match(client_id):
        return None
    return client_id[:6]


def tenant_of_token(token: str) -> str | None:
    scope, sep, rest = token.partition(".")
    if sep and rest and len(scope) == 6 and scope.isdigit():
        return scope
    return None


def _b64url_decode(part: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", part):
        raise AssertionRejected("malformed", "クライアントアサーションの形式が正しくありません。")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """An HS256 JWT over `claims` (used by clients and tests; the server only verifies)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode("ascii")
    sig = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(sig)}"


def unverified_claims(assertion: str) -> dict[str, Any]:
    """The claims of a JWT before its signature is checked: only to find the client."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise AssertionRejected("malformed", "クライアントアサーションの形式が正しくありません。")
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssertionRejected(
            "malformed", "クライアントアサーションの形式が正しくありません。"
        ) from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AssertionRejected("malformed", "クライアントアサーションの形式が正しくありません。")
    if header.get("alg") != "HS256":
        raise AssertionRejected(
            "unsupported_alg", "クライアントアサーションの署名方式は HS256 のみ使用できます。"
        )
    return claims


@dataclass(frozen=True)
class VerifiedAssertion:
    client_id: str
    jti: str
    exp: int


def verify_assertion(
    assertion: str, *, client_id: str, secret: str, audiences: Iterable[str], now: float
) -> VerifiedAssertion:
    """Check an RFC 7523 client assertion: HS256 signature, iss = sub = client id, aud, exp, jti.

    Single use of `jti` is the caller's job (it needs storage)."""
    claims = unverified_claims(assertion)
    header_b64, body_b64, sig_b64 = assertion.split(".")
    expected = hmac.new(
        secret.encode("utf-8"), f"{header_b64}.{body_b64}".encode("ascii"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(expected, _b64url_decode(sig_b64)):
        raise AssertionRejected(
            "bad_signature", "クライアントアサーションの署名が正しくありません。"
        )
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRejected(
            "bad_issuer",
            "クライアントアサーションの iss と sub はクライアントIDと一致させてください。",
        )
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not set(audiences) & {a for a in auds if isinstance(a, str)}:
        raise AssertionRejected(
            "bad_audience",
            "クライアントアサーションの aud がトークンエンドポイントと一致しません。",
        )
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise AssertionRejected("no_exp", "クライアントアサーションに有効期限（exp）がありません。")
    if exp <= now:
        raise AssertionRejected("expired", "クライアントアサーションの有効期限が切れています。")
    if exp > now + MAX_ASSERTION_LIFETIME:
        raise AssertionRejected(
            "exp_too_far", "クライアントアサーションの有効期限は5分以内にしてください。"
        )
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now + CLOCK_SKEW:
        raise AssertionRejected(
            "not_yet_valid", "クライアントアサーションはまだ有効ではありません。"
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 128:
        raise AssertionRejected(
            "no_jti", "クライアントアサーションに jti（128文字以内）がありません。"
        )
    return VerifiedAssertion(client_id=client_id, jti=jti, exp=exp)


def check_scopes(scopes: Iterable[str]) -> list[str]:
    result = sorted(set(scopes))
    unknown = [s for s in result if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes {unknown}")
    return result


def filter_payload(
    topic: str, payload: Mapping[str, Any], scopes: frozenset[str]
) -> dict[str, Any] | None:
    """What a client may see of one event; None when nothing of it is left to deliver.

    Persons under 支援措置 (`support_measure`) reach only clients with the `support_measure`
    scope. Others get the event without those persons' 宛名番号 (and an empty `support_measure`);
    an event that is only about protected persons is withheld (its seq still advances the cursor,
    so the feed stays gap-free without telling that someone became protected)."""
    data = dict(payload)
    protected = {str(a) for a in data.get("support_measure") or []}
    if not protected or SUPPORT_MEASURE_SCOPE in scopes:
        return data
    kept = [a for a in data.get("atena_numbers") or [] if str(a) not in protected]
    if not kept:
        return None
    data["atena_numbers"] = kept
    data["support_measure"] = []
    return data


#: The item every record delivered to a `support_measure` client carries: "1" when a 支援措置
#: (or 仮支援措置) protects the person at pull time, else "0". Not a standard-layout item code,
#: so it cannot collide with one; other clients never get it (they never see protected persons).
SUPPORT_MEASURE_ITEM = "support_measure"


def deliverable(
    record: Mapping[str, str], protected: bool, scopes: frozenset[str]
) -> dict[str, str] | None:
    """The record as this client receives it, or None when the client may not see the person.

    An entitled client gets every person, each record flagged (`SUPPORT_MEASURE_ITEM`), so a
    replica learns who is protected from 全件 alone and follows the flag in 差分 records (a
    measure that lapses or starts shows on the person's next record). Anyone else never sees a
    protected person, so for them a flag would carry no information: none is added."""
    if SUPPORT_MEASURE_SCOPE in scopes:
        return {**record, SUPPORT_MEASURE_ITEM: "1" if protected else "0"}
    return None if protected else dict(record)


# ---------------------------------------------------------------- 全件 cursors

FULL_CURSOR_VERSION = 1


class CursorRejected(ValueError):
    """A 全件 cursor that this client did not get from this server (or that was altered)."""


def encode_full_cursor(
    *, tenant: str, client_id: str, after: str, as_of_seq: int, secret: str
) -> str:
    """An opaque, tamper-evident 全件 cursor: the last delivered key and the page-1 outbox seq.

    Signed (HMAC-SHA256) with the client's secret, so a cursor of another tenant or client, a
    made-up or an altered one is refused instead of being trusted; a rotated secret ends
    unfinished 全件 runs (the consumer starts again). It only ever holds a key the client was
    given, never one of a person it may not see."""
    body = json.dumps(
        {"v": FULL_CURSOR_VERSION, "t": tenant, "c": client_id, "a": after, "s": as_of_seq},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()[:16]
    return f"{b64url(body)}.{b64url(mac)}"


@dataclass(frozen=True)
class FullCursor:
    after: str
    as_of_seq: int


def decode_full_cursor(cursor: str, *, tenant: str, client_id: str, secret: str) -> FullCursor:
    bad = CursorRejected("カーソルが正しくありません。最初のページから取得し直してください。")
    if len(cursor) > 512 or cursor.count(".") != 1:
        raise bad
    body_b64, mac_b64 = cursor.split(".")
    try:
        body = _b64url_decode(body_b64)
        mac = _b64url_decode(mac_b64)
    except (AssertionRejected, ValueError) as exc:
        raise bad from exc
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(expected, mac):
        raise bad
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise bad from exc
    if (
        not isinstance(data, dict)
        or data.get("v") != FULL_CURSOR_VERSION
        or data.get("t") != tenant
        or data.get("c") != client_id
        or not isinstance(data.get("a"), str)
        or not isinstance(data.get("s"), int)
    ):
        raise bad
    return FullCursor(after=data["a"], as_of_seq=data["s"])


def client_assertion(
    client_id: str, secret: str, *, audience: str = TOKEN_PATH, lifetime: int = 120
) -> str:
    """A fresh client assertion (RFC 7523) as a client would make it: for Kikan's own tools,
    benchmarks and as the reference for other vendors (docs/linkage.md)."""
    now = int(time.time())
    return sign_hs256(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_hex(16),
        },
        secret,
    )
