"""Identifiers used across Kikan and their check digits (pure functions, no I/O).

Every identifier a municipality exchanges carries a check digit so that a mistyped or misread
number is caught at the counter instead of silently pointing at another resident. The rules are
described in docs/identifiers.md; this module is the single implementation every business module
must use, so that a number accepted in one place is accepted everywhere.

Input handling is deliberately strict: ASCII digits and full-width digits (０-９, which Japanese
input methods produce) are accepted and normalised to ASCII; anything else (spaces, hyphens,
other scripts' digits that ``str.isdigit`` would accept) is rejected. Callers that want to accept
"1234-5678-9012" style input strip the separators themselves, visibly, before validating.

Errors are :class:`IdentifierError` with a stable machine ``code`` and a Japanese message. The
message never contains the offending value: a 個人番号 in an error message tends to end up in logs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import lru_cache

from kikan.errors import DomainError, Kind

__all__ = [
    "IdentifierError",
    "atena_check_digit",
    "is_valid_atena_number",
    "is_valid_juminhyo_code",
    "is_valid_local_government_code",
    "is_valid_my_number",
    "juminhyo_code_check_digit",
    "local_government_code_check_digit",
    "make_atena_number",
    "my_number_check_digit",
    "normalise_digits",
    "validate_atena_number",
    "validate_juminhyo_code",
    "validate_local_government_code",
    "validate_my_number",
]

MY_NUMBER_LENGTH = 12
JUMINHYO_CODE_LENGTH = 11
LOCAL_GOVERNMENT_CODE_LENGTH = 6
DEFAULT_ATENA_WIDTH = 15

_FULLWIDTH_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_DIGITS = frozenset("0123456789")

# Machine-code prefixes per item. 宛名番号 and 世帯番号 share one check-digit scheme but a client
# mapping an error to a form field wants to know which of the two failed.
_ATENA_CODE_PREFIX = {"宛名番号": "atena_number", "世帯番号": "setai_number"}


class IdentifierError(DomainError, ValueError):
    """An identifier failed validation.

    ``code`` is stable and meant for programs (API problem details, tests); ``message`` is the
    Japanese text shown to staff and names the item; ``item`` is the Japanese item name so a
    form can attach the error to the right field.
    """

    kind = Kind.INVALID
    item: str

    def __init__(self, code: str, item: str, message: str) -> None:
        super().__init__(code, message, item)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[IdentifierError], tuple[str, str, str]]:
        # The default pickling calls cls(*args) with only the message; keep all three fields so
        # the error survives multiprocessing / task queues intact.
        return (type(self), (self.code, self.item, self.message))


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def normalise_digits(s: str, *, item: str, code_prefix: str) -> str:
    """Return ``s`` with full-width digits turned into ASCII, or raise if anything else is there.

    Only 0-9 and ０-９ are accepted. ``str.isdigit`` is not used on purpose: it also accepts
    superscripts and other scripts' digits, which ``int()`` would then happily interpret.
    """
    if not isinstance(s, str):
        raise IdentifierError(f"{code_prefix}.format", item, f"{item}は文字列で指定してください。")
    normalised = s.translate(_FULLWIDTH_TO_ASCII)
    if not set(normalised) <= _ASCII_DIGITS:
        raise IdentifierError(
            f"{code_prefix}.format", item, f"{item}に数字以外の文字が含まれています。"
        )
    return normalised


def _fixed_length_digits(s: str, *, length: int, item: str, code_prefix: str) -> str:
    digits = normalise_digits(s, item=item, code_prefix=code_prefix)
    if len(digits) != length:
        # The length of the input is safe to show; the input itself is not (see module doc).
        raise IdentifierError(
            f"{code_prefix}.length",
            item,
            f"{item}は{length}桁の数字で入力してください（入力は{len(digits)}桁です）。",
        )
    return digits


def _weighted_sum(digits: str, weight: Callable[[int], int]) -> int:
    """Σ digit·weight(n), where n counts positions from the right starting at 1."""
    return sum(map(operator.mul, map(int, digits), _weights(weight, len(digits))))


@lru_cache(maxsize=64)
def _weights(weight: Callable[[int], int], length: int) -> tuple[int, ...]:
    """The weights of `length` digits read from the left (a bulk load checks millions)."""
    return tuple(weight(n) for n in range(length, 0, -1))


def _my_number_weight(n: int) -> int:
    # Q(n) = n + 1 for n = 1..6, n − 5 for n = 7..11: i.e. 2..7 then 2..6.
    return n + 1 if n <= 6 else n - 5


def _m11_low_remainder_check(remainder: int) -> int:
    # Remainders 0 and 1 both give 0 (11 − 1 = 10 is not a digit); otherwise 11 − r.
    return 0 if remainder <= 1 else 11 - remainder


def _check_digit_error(item: str, code_prefix: str) -> IdentifierError:
    return IdentifierError(
        f"{code_prefix}.check_digit", item, f"{item}の検査数字が正しくありません。"
    )


# ---------------------------------------------------------------------------------------------
# 個人番号 (My Number), 12 digits
# ---------------------------------------------------------------------------------------------

_MY_NUMBER_ITEM = "個人番号"
_MY_NUMBER_CODE = "mynumber"


def my_number_check_digit(first11: str) -> int:
    """Check digit of a 個人番号 from its first 11 digits (番号法施行令 rule)."""
    body = _fixed_length_digits(
        first11, length=MY_NUMBER_LENGTH - 1, item=_MY_NUMBER_ITEM, code_prefix=_MY_NUMBER_CODE
    )
    return _m11_low_remainder_check(_weighted_sum(body, _my_number_weight) % 11)


def validate_my_number(s: str) -> str:
    """Return the 12-digit ASCII form of a 個人番号, or raise :class:`IdentifierError`."""
    digits = _fixed_length_digits(
        s, length=MY_NUMBER_LENGTH, item=_MY_NUMBER_ITEM, code_prefix=_MY_NUMBER_CODE
    )
    if my_number_check_digit(digits[:-1]) != int(digits[-1]):
        raise _check_digit_error(_MY_NUMBER_ITEM, _MY_NUMBER_CODE)
    return digits


def is_valid_my_number(s: str) -> bool:
    """True if ``s`` is a well-formed 個人番号 (full-width digits allowed). Never raises."""
    try:
        validate_my_number(s)
    except IdentifierError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 住民票コード, 11 digits
# ---------------------------------------------------------------------------------------------

_JUMINHYO_ITEM = "住民票コード"
_JUMINHYO_CODE = "juminhyo_code"


def juminhyo_code_check_digit(first10: str) -> int:
    """Check digit of a 住民票コード: the 個人番号 scheme applied to the first 10 digits."""
    body = _fixed_length_digits(
        first10, length=JUMINHYO_CODE_LENGTH - 1, item=_JUMINHYO_ITEM, code_prefix=_JUMINHYO_CODE
    )
    return _m11_low_remainder_check(_weighted_sum(body, _my_number_weight) % 11)


def validate_juminhyo_code(s: str) -> str:
    """Return the 11-digit ASCII form of a 住民票コード, or raise :class:`IdentifierError`."""
    digits = _fixed_length_digits(
        s, length=JUMINHYO_CODE_LENGTH, item=_JUMINHYO_ITEM, code_prefix=_JUMINHYO_CODE
    )
    if juminhyo_code_check_digit(digits[:-1]) != int(digits[-1]):
        raise _check_digit_error(_JUMINHYO_ITEM, _JUMINHYO_CODE)
    return digits


def is_valid_juminhyo_code(s: str) -> bool:
    """True if ``s`` is a well-formed 住民票コード. Never raises."""
    try:
        validate_juminhyo_code(s)
    except IdentifierError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 宛名番号 / 世帯番号: modulus 11, weights 2..7 cycling from the right (M11W2〜7)
# ---------------------------------------------------------------------------------------------

_ATENA_ITEM = "宛名番号"


def _atena_code_prefix(item: str) -> str:
    return _ATENA_CODE_PREFIX.get(item, "atena_number")


def _atena_weight(n: int) -> int:
    return 2 + (n - 1) % 6


def atena_check_digit(body: str, *, item: str = _ATENA_ITEM) -> int:
    """Check digit for a 宛名番号 / 世帯番号 body of any length ≥ 1.

    Remainder 0 gives 0 (the usual M11 rule). Remainder 1 would give 10, which is not a digit;
    the standard leaves this open and Kikan's rule is **0** — the same convention as 個人番号 — so
    every serial has a number and allocation never needs to skip. The cost (remainders 0 and 1
    collide, so a few substitutions go undetected) is documented in docs/identifiers.md.
    """
    code_prefix = _atena_code_prefix(item)
    digits = normalise_digits(body, item=item, code_prefix=code_prefix)
    if not digits:
        raise IdentifierError(
            f"{code_prefix}.length", item, f"{item}の本体が空です（1桁以上が必要です）。"
        )
    return _m11_low_remainder_check(_weighted_sum(digits, _atena_weight) % 11)


def make_atena_number(
    serial: int, width: int = DEFAULT_ATENA_WIDTH, *, item: str = _ATENA_ITEM
) -> str:
    """Build a 宛名番号 (or 世帯番号) from a sequential serial: zero-padded body + check digit.

    ``width`` is the total length including the check digit. Serial 0 is refused: an all-zero
    number is the classic "not set" placeholder in legacy files and must never be a real person.
    """
    code_prefix = _atena_code_prefix(item)
    if isinstance(width, bool) or not isinstance(width, int) or width < 2:
        raise IdentifierError(
            f"{code_prefix}.width", item, f"{item}の桁数は2桁以上で指定してください。"
        )
    body_width = width - 1
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial < 10**body_width:
        raise IdentifierError(
            f"{code_prefix}.serial_out_of_range",
            item,
            f"{item}の連番が範囲外です（1以上{body_width}桁以内で指定してください）。",
        )
    body = str(serial).zfill(body_width)
    return body + str(atena_check_digit(body, item=item))


def validate_atena_number(
    s: str, item: str = _ATENA_ITEM, *, width: int = DEFAULT_ATENA_WIDTH
) -> str:
    """Return the ASCII form of a 宛名番号 / 世帯番号 of ``width`` digits, or raise.

    Pass ``item="世帯番号"`` for household numbers: the message and the error code follow it.
    """
    code_prefix = _atena_code_prefix(item)
    digits = _fixed_length_digits(s, length=width, item=item, code_prefix=code_prefix)
    if atena_check_digit(digits[:-1], item=item) != int(digits[-1]):
        raise _check_digit_error(item, code_prefix)
    return digits


def is_valid_atena_number(s: str, *, width: int = DEFAULT_ATENA_WIDTH) -> bool:
    """True if ``s`` is a well-formed 宛名番号 / 世帯番号 of ``width`` digits. Never raises."""
    try:
        validate_atena_number(s, width=width)
    except IdentifierError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 地方公共団体コード, 6 digits (JIS X 0401/0402 + check digit)
# ---------------------------------------------------------------------------------------------

_LG_ITEM = "地方公共団体コード"
_LG_CODE = "local_government_code"


def local_government_code_check_digit(first5: str) -> int:
    """Check digit of a 地方公共団体コード: weights 6,5,4,3,2; (11 − s mod 11) mod 10.

    Unlike the 個人番号 rule, remainder 0 maps to 1 and remainder 1 to 0 here (the ``mod 10``
    folds 11 and 10 onto 1 and 0), so it is a different function and is kept separate.
    """
    body = _fixed_length_digits(
        first5, length=LOCAL_GOVERNMENT_CODE_LENGTH - 1, item=_LG_ITEM, code_prefix=_LG_CODE
    )
    # Weights 6,5,4,3,2 left to right are n + 1 for n counted from the right.
    s = _weighted_sum(body, lambda n: n + 1)
    return (11 - s % 11) % 10


def validate_local_government_code(s: str) -> str:
    """Return the 6-digit ASCII form of a 地方公共団体コード, or raise :class:`IdentifierError`."""
    digits = _fixed_length_digits(
        s, length=LOCAL_GOVERNMENT_CODE_LENGTH, item=_LG_ITEM, code_prefix=_LG_CODE
    )
    if local_government_code_check_digit(digits[:-1]) != int(digits[-1]):
        raise _check_digit_error(_LG_ITEM, _LG_CODE)
    return digits


def is_valid_local_government_code(s: str) -> bool:
    """True if ``s`` is a well-formed 地方公共団体コード. Never raises."""
    try:
        validate_local_government_code(s)
    except IdentifierError:
        return False
    return True
