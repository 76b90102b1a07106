"""The input model: bounded types for every value a client can send (ADR 0010).

Why: an unbounded `int` reaches the database as a BIGINT overflow, an unchecked `str` as a NUL
byte PostgreSQL refuses, a surrogate the driver cannot encode or a name longer than its column —
each a 500 instead of a problem naming the item. Every schema field and every path/query
parameter of every router uses a type from here (tests/platform/test_input_model.py walks the
OpenAPI and fails on an unbounded one), so the rule is in one place:

* integers: `Id` (a database id or sequence number: 1 … INTEGER max, as every id column of the
  schema is a PostgreSQL INTEGER), `Cursor` (0 … INTEGER max), `Version` and `Count`
  (0 … INTEGER max), `PageNumber` and `PageSize`;
* text: ``Annotated[str, Chars(max_length, ItemClass.X)]`` — length, and the characters allowed
  for that class of item (:mod:`kikan.moji.items`: names and addresses take the MJ repertoire;
  every class refuses NUL, control and format characters and lone surrogates);
* `LegalDate`: a calendar day in any form the counter uses (和暦, 西暦, 元号コード, full-width
  digits — what :func:`kikan.calendar.parse_date` reads), the same for every date item;
* `UtcDateTime`: an instant, normalised to aware UTC. A value without an offset (date-only or
  naive) is read as Japan Standard Time, the register's clock, so ``since=2026-01-01`` means
  midnight in Japan; instants outside 1900–9998 are refused.

Values stored by Kikan itself are re-read through the same models (a snapshot): validation with
``context=TRUSTED`` skips the character and length checks, which were applied when the value
entered, so a rule made stricter later cannot make stored entries unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from kikan.calendar import DateError, parse_date
from kikan.moji.items import ItemClass, unsafe_character

__all__ = [
    "BIGINT_MAX",
    "INTEGER_MAX",
    "TRUSTED",
    "Base64Image",
    "Chars",
    "Count",
    "Cursor",
    "Id",
    "ItemClass",
    "LegalDate",
    "PageNumber",
    "PageSize",
    "UtcDateTime",
    "Version",
]

#: PostgreSQL BIGINT / SQLite INTEGER and PostgreSQL INTEGER.
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1
#: Pages beyond this are never useful (search counts stop far earlier) and keep OFFSET small.
MAX_PAGE = 10_000

# Every id and sequence column is INTEGER (32-bit on PostgreSQL): a larger value could never
# name a row, and PostgreSQL refuses it as a parameter of a write (DataError, a 500).
Id = Annotated[int, Ge(1), Le(INTEGER_MAX)]
Cursor = Annotated[int, Ge(0), Le(INTEGER_MAX)]
Version = Annotated[int, Ge(0), Le(INTEGER_MAX)]
Count = Annotated[int, Ge(0), Le(INTEGER_MAX)]
PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]
PageSize = Annotated[int, Ge(1), Le(200)]

#: An uploaded image as Base64 (公印, 印影): the only large text a JSON body carries. Its
#: characters are checked where it is decoded (which says 「Base64 で指定」 in Japanese).
Base64Image = Annotated[str, StringConstraints(max_length=4_000_000)]

#: Validation context for values Kikan stored itself (see the module docstring).
TRUSTED: dict[str, Any] = {"kikan_trusted": True}


def _trusted(info: ValidationInfo) -> bool:
    ctx = info.context
    return isinstance(ctx, dict) and bool(ctx.get("kikan_trusted"))


@dataclass(frozen=True, slots=True)
class Chars:
    """A text item: at most ``max_length`` characters of the class ``cls``.

    Lengths come from the standard data layout (names, addresses) or from the column the value
    is stored in; the class decides the repertoire (:mod:`kikan.moji.items`)."""

    max_length: int
    cls: ItemClass = ItemClass.LINE
    min_length: int = 0

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        # `Annotated[str | None, Chars(...)]`: the bound belongs on the string branch
        for branch in out.get("anyOf", [out]):
            if branch.get("type") == "string":
                branch["maxLength"] = self.max_length
                if self.min_length:
                    branch["minLength"] = self.min_length
        return out

    def _check(self, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or _trusted(info):
            return value
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "kikan_too_long",
                "{max_length}文字以内で入力してください。",
                {"max_length": self.max_length},
            )
        if len(value) < self.min_length:
            raise PydanticCustomError(
                "kikan_too_short",
                "{min_length}文字以上で入力してください。",
                {"min_length": self.min_length},
            )
        bad = unsafe_character(value, self.cls)
        if bad is not None:
            raise PydanticCustomError(
                f"kikan_{bad.reason}", bad.message, {"codepoint": bad.codepoint}
            )
        return value


def _legal_date(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, date):
        if len(value) > 40:
            raise PydanticCustomError("kikan_date", "日付の形式が正しくありません。")
        try:
            return parse_date(value)
        except DateError as exc:
            raise PydanticCustomError("kikan_date", exc.without_value("") + "。") from None
    return value


#: A calendar day, read the way every date item of the register is read.
LegalDate = Annotated[date, BeforeValidator(_legal_date)]

JST = ZoneInfo("Asia/Tokyo")
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    try:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=JST)
        out = aware.astimezone(UTC)
    except (OverflowError, ValueError):
        out = None
    if out is None or not _EARLIEST <= out <= _LATEST:
        raise PydanticCustomError(
            "kikan_datetime_range", "日時は1900年から9998年までで指定してください。"
        )
    return out


#: An instant, always aware UTC after validation (see the module docstring for the rule).
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
