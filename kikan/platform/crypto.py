"""個人番号 (My Number) protection: encryption at rest, blind indexes, masking and log redaction.

The standard requires that the operator of the cloud cannot read data containing My Numbers and
that municipalities keep their own safeguards (DOMAIN.md §9). This module gives every business
module the same small set of tools so nobody improvises:

* :class:`KeyRing` — AES-256-GCM with named keys and one active key. Tokens name the key that
  made them, so rotation is "add a key, make it active, re-encrypt at leisure".
* :meth:`KeyRing.blind_index` — a keyed hash for equality search ("who has this My Number?")
  without decrypting every row. It uses a dedicated, pinned index key so it survives rotation.
* :class:`MyNumber` — a value type whose ``repr``/``str``/``format`` are masked, so an accidental
  ``log.info("%s", person)`` or an f-string in an exception does not leak digits.
* :func:`redact_my_numbers`, :class:`MyNumberRedactingFilter`, :func:`install_log_redaction` — a
  last line of defence that rewrites log records before they reach any handler.

Design notes are in docs/identifiers.md ("Protecting 個人番号").
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kikan.platform.ids import validate_my_number

if TYPE_CHECKING:
    from kikan.platform.settings import Settings

__all__ = [
    "CryptoConfigError",
    "CryptoError",
    "DecryptionError",
    "KeyRing",
    "MyNumber",
    "MyNumberRedactingFilter",
    "install_log_redaction",
    "install_redacting_record_factory",
    "redact_my_numbers",
]

_log = logging.getLogger(__name__)

KEY_LENGTH: Final = 32  # AES-256
NONCE_LENGTH: Final = 12  # the GCM standard nonce; random per message
TOKEN_VERSION: Final = "v1"  # noqa: S105 (a format tag, not a secret)
_TAG_LENGTH: Final = 16
_KEY_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_INDEX_KEY_INFO: Final = b"kikan/blind-index/v1"
REDACTION: Final = "[個人番号]"


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class CryptoError(ValueError):
    """Base of this module's errors: a stable ``code`` and a Japanese ``message``.

    Messages are written so they can be logged: they never contain key material, plaintext or
    tokens.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[CryptoError], tuple[str, str]]:
        return (type(self), (self.code, self.message))


class CryptoConfigError(CryptoError):
    """The key configuration is unusable (missing, malformed, wrong length, unknown key id)."""


class DecryptionError(CryptoError):
    """A token could not be decrypted: tampered, wrong context, unknown key or malformed.

    The reasons are deliberately not distinguished in the message beyond what an operator needs:
    telling an attacker *why* a forged token failed helps the attacker.
    """


# ---------------------------------------------------------------------------------------------
# Key ring
# ---------------------------------------------------------------------------------------------


def _check_key_id(key_id: str, *, where: str) -> None:
    # Key ids appear in tokens ("v1.<kid>.<data>"), in the env format ("kid:key,...") and in the
    # key file ("kid key"), so '.', ':', ',', whitespace and '#' must never be part of one.
    if not isinstance(key_id, str) or not _KEY_ID_RE.fullmatch(key_id):
        raise CryptoConfigError(
            "crypto.key_id",
            f"{where}の鍵IDが不正です（英数字・ハイフン・アンダースコアの1〜64文字で指定してください）。",
        )


def _decode_key(encoded: str, *, where: str) -> bytes:
    """Decode a base64 (standard or URL-safe alphabet) key and check it is 32 bytes."""
    try:
        raw = base64.b64decode(encoded.translate(str.maketrans("-_", "+/")), validate=True)
    except (binascii.Error, ValueError):
        # Never echo the value: it is (a mangled copy of) key material.
        raise CryptoConfigError(
            "crypto.key_encoding", f"{where}の鍵がBase64として解釈できません。"
        ) from None
    if len(raw) != KEY_LENGTH:
        raise CryptoConfigError(
            "crypto.key_length",
            f"{where}の鍵の長さが不正です（{KEY_LENGTH}バイトが必要です。実際は{len(raw)}バイト）。",
        )
    return raw


def _parse_env_keys(keys: str) -> list[tuple[str, bytes]]:
    """Parse "kid1:BASE64,kid2:BASE64" (whitespace around entries and a trailing comma allowed)."""
    parsed: list[tuple[str, bytes]] = []
    for position, raw_entry in enumerate(keys.split(","), start=1):
        entry = raw_entry.strip()
        if not entry:
            continue
        where = f"鍵設定の{position}番目の項目"
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            raise CryptoConfigError(
                "crypto.key_syntax", f"{where}が「鍵ID:Base64鍵」の形式になっていません。"
            )
        key_id = key_id.strip()
        _check_key_id(key_id, where=where)
        parsed.append((key_id, _decode_key(encoded.strip(), where=where)))
    return parsed


def _parse_key_file(path: Path) -> list[tuple[str, bytes]]:
    """Parse a key file: one "kid BASE64" per line; blank lines and '#' comments ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CryptoConfigError(
            "crypto.key_file", f"鍵ファイル {path} を読み込めません（{exc.strerror}）。"
        ) from None
    parsed: list[tuple[str, bytes]] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()  # base64 never contains '#'
        if not content:
            continue
        where = f"鍵ファイル {path} の{line_number}行目"
        fields = content.split()
        if len(fields) != 2:
            raise CryptoConfigError(
                "crypto.key_syntax", f"{where}が「鍵ID Base64鍵」の形式になっていません。"
            )
        _check_key_id(fields[0], where=where)
        parsed.append((fields[0], _decode_key(fields[1], where=where)))
    return parsed


def _warn_if_readable_by_others(path: Path) -> None:
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        _log.warning(
            "鍵ファイル %s が所有者以外からも読み取り可能です（権限 %o）。chmod 600 を推奨します。",
            path,
            stat.S_IMODE(mode),
        )


def _length_prefixed(*parts: bytes) -> bytes:
    """Unambiguous concatenation: ("ab", "c") and ("a", "bc") must not collide."""
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyRing:
    """Named AES-256 keys: one *active* key encrypts, every key decrypts its own tokens.

    Token format: ``v1.<key id>.<base64url(nonce || ciphertext || tag)>`` (no padding). The
    version and key id are bound into the associated data together with the caller's
    ``context`` (the tenant code), so a token copied into another tenant's row, or edited to
    name another key, fails authentication.

    Blind indexes use a separate *index key* (``index_key_id``, default: the first key of the
    ring) rather than the active key, because an index that changed on every rotation would
    make every stored index stale at once. The index key is never used directly: a dedicated
    HMAC key is derived from it with HKDF, so the same bytes are never used by two algorithms.
    Consequence for operators: **never remove the index key from the ring** (or pin
    ``index_key_id`` explicitly and keep that one) unless all blind indexes are recomputed.
    """

    __slots__ = ("_active_key_id", "_aead", "_index_key_id", "_index_mac_key", "_keys")

    def __init__(
        self,
        keys: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
        active_key_id: str | None = None,
        *,
        index_key_id: str | None = None,
    ) -> None:
        items = list(keys.items()) if isinstance(keys, Mapping) else list(keys)
        ordered: dict[str, bytes] = {}
        for key_id, key in items:
            _check_key_id(key_id, where="鍵設定")
            if not isinstance(key, bytes) or len(key) != KEY_LENGTH:
                raise CryptoConfigError(
                    "crypto.key_length",
                    f"鍵 {key_id} の長さが不正です（{KEY_LENGTH}バイトが必要です）。",
                )
            if key_id in ordered and not hmac.compare_digest(ordered[key_id], key):
                raise CryptoConfigError(
                    "crypto.duplicate_key_id",
                    f"鍵ID {key_id} が異なる鍵で重複して設定されています。",
                )
            ordered[key_id] = key
        if not ordered:
            raise CryptoConfigError("crypto.no_keys", "暗号鍵が1つも設定されていません。")
        key_ids = list(ordered)
        active = key_ids[-1] if active_key_id is None else active_key_id
        if active not in ordered:
            raise CryptoConfigError(
                "crypto.unknown_active_key", f"有効鍵として指定された鍵ID {active} がありません。"
            )
        index = key_ids[0] if index_key_id is None else index_key_id
        if index not in ordered:
            raise CryptoConfigError(
                "crypto.unknown_index_key",
                f"検索用インデックス鍵として指定された鍵ID {index} がありません。",
            )
        self._keys: dict[str, bytes] = ordered
        self._aead: dict[str, AESGCM] = {kid: AESGCM(key) for kid, key in ordered.items()}
        self._active_key_id: str = active
        self._index_key_id: str = index
        self._index_mac_key: bytes = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_INDEX_KEY_INFO
        ).derive(ordered[index])

    def __reduce__(self) -> tuple[Any, tuple[dict[str, bytes], str, str]]:
        """Rebuild from the keys in another process (the bulk paths' worker processes encrypt
        My Numbers). The key bytes then travel only over the pipe to our own child process;
        the ring is never pickled anywhere else."""
        return (_restore_keyring, (dict(self._keys), self._active_key_id, self._index_key_id))

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        keys: str | None,
        key_file: Path | None,
        active_key_id: str | None,
        *,
        index_key_id: str | None = None,
    ) -> KeyRing:
        """Build a ring from settings: an env-style string, a key file, or both.

        ``keys`` is "kid1:BASE64KEY,kid2:BASE64KEY"; ``key_file`` has one "kid BASE64KEY" per
        line. When both are given the file's keys come first, then the string's (a key id may
        appear in both only with the same key). The active key defaults to the last key listed,
        so appending a key rotates; the index key defaults to the first.
        """
        collected: list[tuple[str, bytes]] = []
        if key_file is not None:
            key_file = Path(key_file)
            collected.extend(_parse_key_file(key_file))
            _warn_if_readable_by_others(key_file)
        if keys is not None and keys.strip():
            collected.extend(_parse_env_keys(keys))
        if not collected:
            raise CryptoConfigError(
                "crypto.no_keys",
                "暗号鍵が設定されていません（鍵文字列または鍵ファイルを指定してください）。",
            )
        active = active_key_id.strip() if active_key_id and active_key_id.strip() else None
        return cls(collected, active, index_key_id=index_key_id)

    @staticmethod
    def generate_key_file(path: Path, key_id: str) -> None:
        """Append a new random 256-bit key named ``key_id`` to ``path`` (created with mode 0600).

        Meant for demo and development setups. Appending to an existing file is how a key is
        rotated: the new key is listed last and so becomes the active key by default, while the
        old keys stay to decrypt existing tokens (and the first one keeps serving blind indexes).
        """
        path = Path(path)
        _check_key_id(key_id, where="生成する鍵")
        existing: list[tuple[str, bytes]] = []
        needs_newline = False
        if path.exists():
            existing = _parse_key_file(path)  # refuse to append to a file we cannot read back
            if any(kid == key_id for kid, _ in existing):
                raise CryptoConfigError(
                    "crypto.duplicate_key_id", f"鍵ID {key_id} は鍵ファイル {path} に既にあります。"
                )
            content = path.read_bytes()
            needs_newline = bool(content) and not content.endswith(b"\n")
        encoded = base64.b64encode(secrets.token_bytes(KEY_LENGTH)).decode("ascii")
        lines = []
        if needs_newline:
            lines.append("")
        if not path.exists():
            lines.append(
                "# Kikan encryption keys: one '<key id> <base64 key>' per line. "
                "The last key is active by default; the first serves blind indexes."
            )
            lines.append("# Keep this file secret (mode 0600) and never delete a key still in use.")
        lines.append(f"{key_id} {encoded}")
        data = ("\n".join(lines) + "\n").encode("ascii")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # tighten a pre-existing file too; umask cannot loosen it
            os.write(fd, data)
        finally:
            os.close(fd)

    # -- introspection (never exposes key material) -----------------------------------------

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    @property
    def index_key_id(self) -> str:
        return self._index_key_id

    def __repr__(self) -> str:
        return (
            f"KeyRing(key_ids={list(self._keys)!r}, active_key_id={self._active_key_id!r}, "
            f"index_key_id={self._index_key_id!r})"
        )

    # -- encryption -------------------------------------------------------------------------

    @staticmethod
    def _associated_data(key_id: str, context: str) -> bytes:
        return _length_prefixed(
            TOKEN_VERSION.encode("ascii"), key_id.encode("ascii"), context.encode("utf-8")
        )

    @staticmethod
    def _check_context(context: str) -> None:
        if not isinstance(context, str) or not context:
            # An empty context would silently drop the tenant binding; treat it as a bug.
            raise CryptoError("crypto.context", "暗号化のコンテキスト（団体コード等）が空です。")

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` with the active key; ``context`` (the tenant code) is bound in.

        Nonces are 96 random bits per message. Keep well under 2**32 messages per key (rotate
        long before that); for a municipal register that bound is far away.
        """
        self._check_context(context)
        key_id = self._active_key_id
        nonce = secrets.token_bytes(NONCE_LENGTH)
        sealed = self._aead[key_id].encrypt(
            nonce, plaintext.encode("utf-8"), self._associated_data(key_id, context)
        )
        return f"{TOKEN_VERSION}.{key_id}.{_b64url_encode(nonce + sealed)}"

    @staticmethod
    def _split_token(token: str) -> tuple[str, str]:
        """Return (key id, payload) of a token, or raise :class:`DecryptionError`."""
        parts = token.split(".") if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != TOKEN_VERSION or not _KEY_ID_RE.fullmatch(parts[1]):
            raise DecryptionError("crypto.token_format", "暗号文の形式が正しくありません。")
        return parts[1], parts[2]

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a token made by :meth:`encrypt` with any key still in the ring."""
        self._check_context(context)
        key_id, payload = self._split_token(token)
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptionError(
                "crypto.unknown_key", f"暗号文の鍵ID {key_id} が鍵リングにありません。"
            )
        try:
            blob = _b64url_decode(payload)
        except (binascii.Error, ValueError):
            raise DecryptionError(
                "crypto.token_format", "暗号文の形式が正しくありません。"
            ) from None
        if len(blob) < NONCE_LENGTH + _TAG_LENGTH:
            raise DecryptionError("crypto.token_format", "暗号文の形式が正しくありません。")
        nonce, sealed = blob[:NONCE_LENGTH], blob[NONCE_LENGTH:]
        try:
            plaintext = aead.decrypt(nonce, sealed, self._associated_data(key_id, context))
        except InvalidTag:
            raise DecryptionError(
                "crypto.authentication",
                "暗号文を復号できません（改ざん、または別の団体のデータの可能性があります）。",
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError(
                "crypto.plaintext_encoding", "復号したデータが文字列として不正です。"
            ) from None

    def needs_rotation(self, token: str) -> bool:
        """True if ``token`` was not made with the active key (re-encrypt it when convenient).

        Raises :class:`DecryptionError` for a string that is not a token at all.
        """
        key_id, _ = self._split_token(token)
        return key_id != self._active_key_id

    def rotate(self, token: str, *, context: str) -> str:
        """Return ``token`` re-encrypted with the active key (unchanged if already current)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def encrypt_my_number(self, number: MyNumber, *, context: str) -> str:
        """Encrypt a :class:`MyNumber` without the caller having to reveal it."""
        return self.encrypt(number.reveal(), context=context)

    def decrypt_my_number(self, token: str, *, context: str) -> MyNumber:
        """Decrypt a token into a :class:`MyNumber` (re-validating its check digit)."""
        return MyNumber(self.decrypt(token, context=context))

    # -- blind index ------------------------------------------------------------------------

    def blind_index(self, value: str, *, context: str) -> str:
        """Keyed hash of ``value`` for equality search, stable across key rotation.

        HMAC-SHA256 over (context, value) with a key derived by HKDF from the index key; result
        as 64 lower-case hex digits. Different contexts (tenants) give unrelated indexes, so the
        same person's number cannot be correlated across tenants from the index column alone.
        Callers must normalise first (e.g. pass ``validate_my_number(...)`` output) so that
        full-width and ASCII input index the same.
        """
        self._check_context(context)
        message = _length_prefixed(context.encode("utf-8"), value.encode("utf-8"))
        return hmac.new(self._index_mac_key, message, sha256).hexdigest()


# ---------------------------------------------------------------------------------------------
# Masked value type
# ---------------------------------------------------------------------------------------------

_MASK: Final = "*" * 12


class MyNumber:
    """A validated 個人番号 that does not show its digits unless asked with :meth:`reveal`.

    ``repr``, ``str`` and ``format`` (so f-strings, ``%s`` in log calls, tracebacks showing
    locals, debuggers) all give ``MyNumber(************)``. Immutable and hashable; equality
    compares the digits. Construction normalises full-width digits and checks the check digit.
    """

    __slots__ = ("_digits",)
    _digits: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_digits", validate_my_number(value))

    def reveal(self) -> str:
        """The 12 ASCII digits. Call only where the number is really needed (display, export)."""
        return self._digits

    def masked(self) -> str:
        """The mask alone: ``************``."""
        return _MASK

    def __repr__(self) -> str:
        return f"MyNumber({_MASK})"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, format_spec: str) -> str:
        return format(self.__repr__(), format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MyNumber):
            return NotImplemented
        return hmac.compare_digest(self._digits, other._digits)

    def __hash__(self) -> int:
        return hash((MyNumber, self._digits))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("MyNumber is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("MyNumber is immutable")

    def __reduce__(self) -> tuple[type[MyNumber], tuple[str]]:
        return (MyNumber, (self._digits,))


# ---------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------

_DIGIT: Final = "[0-9０-９]"
_GROUP_SEPARATORS: Final = "- －　"  # hyphen, space and their full-width forms
# Exactly 12 digits not touching other digits on either side, either as one run or written in
# the usual 4-4-4 grouping with the same separator twice ("1234-5678-9012", "1234 5678 9012").
_MY_NUMBER_CANDIDATE_RE: Final = re.compile(
    rf"(?<!{_DIGIT})"
    rf"(?:{_DIGIT}{{12}}|{_DIGIT}{{4}}(?P<sep>[{_GROUP_SEPARATORS}]){_DIGIT}{{4}}(?P=sep){_DIGIT}{{4}})"
    rf"(?!{_DIGIT})"
)
_NORMALISE: Final = str.maketrans("０１２３４５６７８９", "0123456789", _GROUP_SEPARATORS)


def _redact_match(match: re.Match[str]) -> str:
    candidate = match.group(0).translate(_NORMALISE)
    body, check = candidate[:11], int(candidate[11])
    # Inline the check rather than calling validate_my_number: this runs on every log line.
    r = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(body), 1)) % 11
    return REDACTION if check == (0 if r <= 1 else 11 - r) else match.group(0)


def redact_my_numbers(text: str) -> str:
    """Replace every run of exactly 12 digits (ASCII or full-width) with a valid check digit.

    The 4-4-4 grouping people write on forms ("1234-5678-9012", "1234 5678 9012", also with
    full-width separators) is treated the same way. Runs with an invalid check digit (order
    ids, timestamps…) and longer digit runs are left alone, so ordinary numbers keep their
    diagnostic value; about one random 12-digit number in ten passes the check and is
    redacted too, which is the safe side to err on.

    Text that only shows a number once normalised — percent-encoded as in a logged URL
    (``%EF%BC%99…``), or in other digit forms NFKC folds to ASCII (mathematical, circled…) —
    is returned normalised and redacted; text without a number comes back unchanged.
    """
    redacted = _MY_NUMBER_CANDIDATE_RE.sub(_redact_match, text)
    if text.isascii() and "%" not in text:
        return redacted  # the common case: nothing to normalise
    normalised = unicodedata.normalize("NFKC", unquote(redacted) if "%" in redacted else redacted)
    if normalised == redacted:
        return redacted
    again = _MY_NUMBER_CANDIDATE_RE.sub(_redact_match, normalised)
    return again if again != normalised else redacted


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_RECORD_ATTRS: Final = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime"}


def _contains_my_number(text: str) -> bool:
    return redact_my_numbers(text) != text


def _redact_arg(arg: object) -> object:
    """Redact one format argument, keeping it as it is when it shows no My Number."""
    try:
        text = arg if isinstance(arg, str) else str(arg)
    except Exception:  # an object whose __str__ fails cannot leak through %s either
        return arg
    redacted = redact_my_numbers(text)
    return arg if redacted == text else redacted


def _redact_message(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        # A broken format string: logging's handleError would print msg and args to stderr.
        record.msg = redact_my_numbers(f"{record.msg!s} {record.args!r}")
        record.args = ()
        return
    if not _contains_my_number(message):
        return  # the common case: the record is not touched at all
    # First try redacting the template and each argument separately, which keeps ``args`` with
    # the same shape for formatters that unpack it (uvicorn's access log formatter does).
    original_msg, original_args = record.msg, record.args
    record.msg = redact_my_numbers(original_msg) if isinstance(original_msg, str) else message
    if isinstance(original_args, tuple):
        record.args = tuple(_redact_arg(arg) for arg in original_args)
    elif isinstance(original_args, Mapping):
        record.args = {key: _redact_arg(value) for key, value in original_args.items()}
    try:
        clean = not _contains_my_number(record.getMessage())
    except Exception:  # e.g. a My Number passed as int to %d, now a string
        clean = False
    if not clean:
        # The number was assembled across arguments or hidden in an object: fall back to the
        # fully formatted message.
        record.msg = redact_my_numbers(message)
        record.args = ()


def _redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so no formatter or handler can see a My Number in it.

    Records that contain no My Number are left exactly as they are. Otherwise: the message (see
    :func:`_redact_message`), the rendered traceback, the stack info and string ``extra=``
    attributes are redacted. When the traceback mentions a My Number it is rendered here and
    ``exc_info`` is dropped, so no formatter can render the raw exception again (formatters
    that only look at ``exc_info`` then show no traceback: the price of not leaking).
    """
    _redact_message(record)
    if record.exc_info and not record.exc_text:
        rendered = logging.Formatter().formatException(record.exc_info)
        if _contains_my_number(rendered):
            record.exc_text = rendered
    if record.exc_text and _contains_my_number(record.exc_text):
        record.exc_text = redact_my_numbers(record.exc_text)
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact_my_numbers(record.stack_info)
    for name, value in list(vars(record).items()):
        if name not in _STANDARD_RECORD_ATTRS and isinstance(value, str):
            redacted = redact_my_numbers(value)
            if redacted != value:
                setattr(record, name, redacted)


class MyNumberRedactingFilter(logging.Filter):
    """Logging filter that redacts My Numbers from the formatted message, traceback and extras.

    When the fully formatted message (``record.getMessage()``) contains a My Number, the
    template and arguments are redacted one by one if that is enough, otherwise ``msg`` becomes
    the redacted formatted text and ``args`` becomes ``()``.

    Attach it to **handlers**, not loggers: a logger's filters only see records logged on that
    very logger, not records propagated from child loggers. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


class _RedactingRecordFactory:
    """Wraps the previous record factory; records are redacted the moment they are created."""

    __slots__ = ("inner",)

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        _redact_record(record)
        return record


def install_redacting_record_factory() -> None:
    """Make every LogRecord created anywhere in the process redacted at creation (idempotent).

    This is the robust layer: it covers loggers with ``propagate=False`` and their own handlers
    (uvicorn's access log, for example), handlers added after start-up and third-party code.
    It chains to the factory in place, so other libraries' factories keep working. It does not
    see records built by ``logging.makeLogRecord`` (e.g. received from a socket), which is why
    :func:`install_log_redaction` also puts the filter on handlers.
    """
    current = logging.getLogRecordFactory()
    if isinstance(current, _RedactingRecordFactory):
        return
    logging.setLogRecordFactory(_RedactingRecordFactory(current))


def install_log_redaction(
    logger: logging.Logger | None = None, *, record_factory: bool = True
) -> None:
    """Install My Number redaction; call once at start-up, after logging is configured.

    Attaches :class:`MyNumberRedactingFilter` to every handler of ``logger`` (default: the
    root logger) — handlers, because logger filters do not apply to propagated records — and,
    unless ``record_factory=False``, also installs the process-wide record factory (see
    :func:`install_redacting_record_factory`), which covers handlers added later and loggers
    that do not propagate. Idempotent.
    """
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MyNumberRedactingFilter) for f in handler.filters):
            handler.addFilter(MyNumberRedactingFilter())
    if record_factory:
        install_redacting_record_factory()


def load_keyring(settings: Settings) -> KeyRing | None:
    """The My Number key ring, if one is configured (a key file or KIKAN_MYNUMBER_KEYS).

    Without one the server still runs, but refuses to store a My Number (clear 422 problem).
    Every entry point (server, CLI verbs of each module) loads it through here."""
    key_file = settings.effective_key_file
    if not settings.mynumber_keys and not key_file.exists():
        return None
    return KeyRing.from_config(
        settings.mynumber_keys,
        key_file if key_file.exists() else None,
        settings.mynumber_active_key_id,
    )


def _restore_keyring(keys: dict[str, bytes], active: str, index: str) -> KeyRing:
    """Counterpart of `KeyRing.__reduce__`."""
    return KeyRing(keys, active, index_key_id=index)
