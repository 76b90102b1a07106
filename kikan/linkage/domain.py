"""Pure rules of the linkage layer: HS256 client assertions (joserfc), scopes, 支援措置 filter.

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
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import OctKey
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/api/v1/linkage/token"  # noqa: S105 - a URL path, not a secret
MAX_ASSERTION_LIFETIME = 300  # seconds: `exp` may be at most 5 minutes ahead
CLOCK_SKEW = 30  # seconds of leeway for `nbf` / `iat` in the future
ACCESS_TOKEN_LIFETIME = 600  # seconds: 10 minutes

#: Data groups (topics) a client may be entitled to, plus the 支援措置 and 個人番号 entitlements.
SUPPORT_MEASURE_SCOPE = "support_measure"
#: 個人番号 in every delivered record: only for systems of the マイナンバー利用事務系
#: (団体内統合宛名, 名寄せ), never for others; the delivery is audited as My Number access.
MY_NUMBER_SCOPE = "my_number"
#: scopes that only widen what another scope grants (alone they grant nothing)
MODIFIER_SCOPES = frozenset({SUPPORT_MEASURE_SCOPE, MY_NUMBER_SCOPE})
TOPIC_SCOPES = {"residents.changed": "住民記録の異動"}
SCOPES = {
    **TOPIC_SCOPES,
    SUPPORT_MEASURE_SCOPE: "支援措置対象者の宛名番号を含めて受け取る",
    MY_NUMBER_SCOPE: "個人番号を含めて受け取る（マイナンバー利用事務のみ）",
}
#: The record item that carries 個人番号 (the standard layout's item code).
MY_NUMBER_ITEM = "my_number"
#: What a module-declared scope may be called: stored comma-separated and sent space-separated
#: (the token's `scope`), so neither separator, and short (the registration body allows 40).
MODULE_SCOPE_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")

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


#: The only signature algorithm accepted (and made): client_secret_jwt with the shared secret.
ALGORITHMS = ("HS256",)
_MALFORMED = "クライアントアサーションの形式が正しくありません。"


def _key(secret: str) -> OctKey:
    with warnings.catch_warnings():
        # a short secret is the client's problem to fix, not a reason to crash the request:
        # the signature check then simply fails or succeeds like any other
        warnings.simplefilter("ignore", SecurityWarning)
        return OctKey.import_key(secret)


def _b64url_decode(part: str) -> bytes:
    """For the 全件 cursor (an HMAC'd blob of our own, not a JWT)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", part):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """An HS256 JWT over `claims` (used by clients and tests; the server only verifies)."""
    return jwt.encode(
        {"alg": "HS256", "typ": "JWT"}, dict(claims), _key(secret), algorithms=list(ALGORITHMS)
    )


def unverified_claims(assertion: str) -> dict[str, Any]:
    """The claims of a JWT before its signature is checked: only to find the client (whose
    secret then verifies it). Parsed by joserfc; anything but HS256 is refused here already."""
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise AssertionRejected("malformed", _MALFORMED) from exc
    if not isinstance(claims, dict):
        raise AssertionRejected("malformed", _MALFORMED)
    if compact.protected.get("alg") not in ALGORITHMS:
        raise AssertionRejected(
            "unsupported_alg", "クライアントアサーションの署名方式は HS256 のみ使用できます。"
        )
    return claims


@dataclass(frozen=True)
class VerifiedAssertion:
    client_id: str
    jti: str
    exp: int


#: claim → (reason, Japanese message) when joserfc finds it missing or invalid, in the order the
#: claims are checked (so a token with several faults always gets the same answer)
_CLAIM_FAULTS: dict[str, tuple[str, str]] = {
    "iss": (
        "bad_issuer",
        "クライアントアサーションの iss と sub はクライアントIDと一致させてください。",
    ),
    "sub": (
        "bad_issuer",
        "クライアントアサーションの iss と sub はクライアントIDと一致させてください。",
    ),
    "aud": (
        "bad_audience",
        "クライアントアサーションの aud がトークンエンドポイントと一致しません。",
    ),
    "exp": ("no_exp", "クライアントアサーションに有効期限（exp）がありません。"),
    "nbf": ("not_yet_valid", "クライアントアサーションはまだ有効ではありません。"),
    "iat": ("bad_iat", "クライアントアサーションの発行時刻（iat）が正しくありません。"),
    "jti": ("no_jti", "クライアントアサーションに jti（128文字以内）がありません。"),
}


def _check_claims(
    claims: dict[str, Any], *, client_id: str, audiences: Iterable[str], now: float
) -> None:
    """joserfc's claim rules, one claim at a time in `_CLAIM_FAULTS` order."""
    options: dict[str, ClaimsOption] = {
        "iss": {"essential": True, "value": client_id},
        "sub": {"essential": True, "value": client_id},
        "aud": {"essential": True, "values": list(audiences)},
        "exp": {"essential": True},
        "nbf": {},
        "iat": {},
        "jti": {"essential": True},
    }
    for name, option in options.items():
        reason, message = _CLAIM_FAULTS[name]
        value = claims.get(name)
        registry = JWTClaimsRegistry(now=int(now), leeway=CLOCK_SKEW, **{name: option})
        try:
            if value is None:
                if option.get("essential"):
                    raise MissingClaimError(name)
                continue
            if isinstance(value, bool):
                raise InvalidClaimError(name)
            registry.validate({name: value})
        except ExpiredTokenError as exc:
            raise AssertionRejected(
                "expired", "クライアントアサーションの有効期限が切れています。"
            ) from exc
        except (ClaimError, OverflowError) as exc:
            raise AssertionRejected(reason, message) from exc


def verify_assertion(
    assertion: str, *, client_id: str, secret: str, audiences: Iterable[str], now: float
) -> VerifiedAssertion:
    """Check an RFC 7523 client assertion with joserfc: HS256 only (`none` and every other
    algorithm refused), the signature, then iss = sub = client id, aud, exp (at most 5 minutes
    ahead), nbf and iat (not in the future), jti (at most 128 characters).

    Single use of `jti` is the caller's job (it needs storage)."""
    unverified_claims(assertion)  # malformed / unsupported_alg, before any key is used
    try:
        token = jwt.decode(assertion, _key(secret), algorithms=list(ALGORITHMS))
    except BadSignatureError as exc:
        raise AssertionRejected(
            "bad_signature", "クライアントアサーションの署名が正しくありません。"
        ) from exc
    except UnsupportedAlgorithmError as exc:
        raise AssertionRejected(
            "unsupported_alg", "クライアントアサーションの署名方式は HS256 のみ使用できます。"
        ) from exc
    except (JoseError, ValueError) as exc:
        raise AssertionRejected("malformed", _MALFORMED) from exc
    claims = dict(token.claims)
    _check_claims(claims, client_id=client_id, audiences=audiences, now=now)
    exp = int(claims["exp"])
    if exp <= now:  # joserfc allows the clock skew after exp; an assertion does not get it
        raise AssertionRejected("expired", "クライアントアサーションの有効期限が切れています。")
    if exp > now + MAX_ASSERTION_LIFETIME:
        raise AssertionRejected(
            "exp_too_far", "クライアントアサーションの有効期限は5分以内にしてください。"
        )
    jti = claims["jti"]
    if not isinstance(jti, str) or not 1 <= len(jti) <= 128:
        raise AssertionRejected(*_CLAIM_FAULTS["jti"])
    return VerifiedAssertion(client_id=client_id, jti=jti, exp=exp)


def check_scopes(scopes: Iterable[str], known: Mapping[str, str] = SCOPES) -> list[str]:
    """The scopes sorted and deduplicated; any not in `known` (the built-in `SCOPES` and those
    the modules declared) refused."""
    result = sorted(set(scopes))
    unknown = [s for s in result if s not in known]
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
    *, tenant: str, client_id: str, after: str, as_of_seq: int, secret: str, as_of: str = ""
) -> str:
    """An opaque, tamper-evident 全件 cursor: the last delivered key and the page-1 outbox seq.

    Signed (HMAC-SHA256) with the client's secret, so a cursor of another tenant or client, a
    made-up or an altered one is refused instead of being trusted; a rotated secret ends
    unfinished 全件 runs (the consumer starts again). It only ever holds a key the client was
    given, never one of a person it may not see. `as_of` (a 全件 as of a valid date) is kept
    only when set, so the cursors of plain 全件 runs are unchanged."""
    data: dict[str, object] = {
        "v": FULL_CURSOR_VERSION,
        "t": tenant,
        "c": client_id,
        "a": after,
        "s": as_of_seq,
    }
    if as_of:
        data["d"] = as_of
    body = json.dumps(
        data,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()[:16]
    return f"{b64url(body)}.{b64url(mac)}"


@dataclass(frozen=True)
class FullCursor:
    after: str
    as_of_seq: int


def decode_full_cursor(
    cursor: str, *, tenant: str, client_id: str, secret: str, as_of: str = ""
) -> FullCursor:
    bad = CursorRejected("カーソルが正しくありません。最初のページから取得し直してください。")
    if len(cursor) > 512 or cursor.count(".") != 1:
        raise bad
    body_b64, mac_b64 = cursor.split(".")
    try:
        body = _b64url_decode(body_b64)
        mac = _b64url_decode(mac_b64)
    except ValueError as exc:
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
        or data.get("d", "") != as_of
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
