"""Checks of one value against its layout item: characters, type, length, code, date, check digit.

Each item is compiled once into a closure (:func:`compile_item`) that returns ``None`` for a good
value or one :data:`Problem`. One value yields at most one problem, the first in this order:
characters → type → length → code / date / 続柄 → check digit. Why only one: a wrong 住民票コード
of 4 digits would otherwise be reported for its length *and* its check digit, and the vendor
needs the first cause, not a cascade.

Speed matters (millions of rows × dozens of items), so the common good case is short: ASCII
values skip the MJ lookup, other values are compared as a set with the characters already
known to be good, and ISO dates are read with ``date.fromisoformat`` before the full parser.
The libraries (kikan.moji, kikan.calendar, kikan.standard.codes, kikan.platform.ids) are only
called when the fast path cannot decide, so their messages are the ones the vendor sees.

Privacy: messages show a code or a date value (they identify nobody) but never a name or an
address (character problems are shown as code points and positions) and never the value of an
item marked ``sensitive`` (個人番号).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Literal, TypeAlias

from kikan.calendar import DateError, RegisterDate, parse_date
from kikan.moji import CharClass, check_repertoire
from kikan.platform import ids
from kikan.standard.codes import code_table
from kikan.standard.layouts import Item
from kikan.standard.zokugara import ZokugaraError, from_code, parse_zokugara

__all__ = ["CellCheck", "Problem", "Severity", "compile_item", "display_length"]

Severity: TypeAlias = Literal["error", "warning"]
#: (rule id, Japanese message, severity)
Problem: TypeAlias = tuple[str, str, Severity]
CellCheck: TypeAlias = Callable[[str], Problem | None]

#: Values already found good are remembered per item, up to this many: codes, common dates,
#: frequent family names and the 世帯番号 shared by a household's members then cost one set
#: lookup. The checks are pure functions of the value, so the cache cannot change a verdict;
#: the cap keeps it to a few MB whatever the file size.
GOOD_VALUES_PER_ITEM = 4096

# Characters already classified as MJ / JIS non-kanji. Grows only with distinct good characters
# (bounded by the MJ repertoire, ~60k), so it is a cache, not per-row state.
_GOOD_CHARS: set[str] = set()
_HALFWIDTH = re.compile(r"[\x00-\x7f\uff61-\uff9f]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RegisterDate storage strings: "?" or a calendar letter (AD, R, H …), a year and a dash.
_STORAGE_DATE = re.compile(r"\?$|(?:AD|[A-Z])[0-9]+-")


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def display_length(value: str) -> int:
    """Length in characters as a reader counts them: code points, except that a variation
    selector (IVS) belongs to the character before it (渡邉 + U+E0101 is 2 characters)."""
    if value.isascii():
        return len(value)
    return sum(1 for ch in value if not _is_variation_selector(ch))


def _codepoints(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def _char_problem(value: str, item: Item) -> Problem | None:
    """MJ repertoire, 外字 and control characters; None when every character is acceptable."""
    if value.isascii():
        if value.isprintable():
            return None
        bad = next(c for c in value if not c.isprintable())
        return (
            "chars.control",
            f"{item.name}に制御文字（{_codepoints(bad)}）が含まれています。",
            "error",
        )
    if set(value) <= _GOOD_CHARS:
        return None
    first: Problem | None = None
    count = 0
    for report in check_repertoire(value):
        if report.cls in (CharClass.MJ, CharClass.JIS):
            _GOOD_CHARS.add(report.text)
            continue
        if report.cls is CharClass.MJ_IVS:
            continue
        count += 1
        if first is None:
            first = _char_message(report.cls, report.text, report.index + 1, item)
    if first is None:
        return None
    if count > 1:
        rule, message, severity = first
        first = (rule, message.removesuffix("。") + f"（ほか{count - 1}文字）。", severity)
    return first


def _char_message(cls: CharClass, text: str, position: int, item: Item) -> Problem:
    where = f"{item.name}の{position}文字目"
    cps = _codepoints(text)
    if cls is CharClass.PUA_GAIJI:
        return (
            "chars.gaiji",
            f"{where}は外字（私用領域の文字 {cps}）です。"
            "文字情報基盤（MJ）の文字に同定してください。",
            "error",
        )
    if cls is CharClass.GJ_CANDIDATE:
        return (
            "chars.gj",
            f"{where}（{cps}）は行政事務標準文字（GJ）の可能性がありますが、確認できません。",
            "warning",
        )
    if cls is CharClass.IVS_NOT_MJ:
        return (
            "chars.ivs",
            f"{where}（{cps}）は文字情報基盤（MJ）に登録されていない異体字シーケンスです。",
            "error",
        )
    if len(text) == 1 and 0xFF61 <= ord(text) <= 0xFF9F:
        return ("chars.halfwidth_kana", f"{where}が半角カタカナ（{cps}）です。", "error")
    return (
        "chars.outside_mj",
        f"{where}（{cps}）は文字情報基盤（MJ）の範囲外の文字です。",
        "error",
    )


def _type_check(item: Item) -> CellCheck | None:
    name = item.name
    if item.type == "9":

        def digits(value: str) -> Problem | None:
            if value.isascii() and value.isdigit():
                return None
            return ("type.digits", f"{name}は半角数字で記録してください。", "error")

        return digits
    if item.type == "Ｎ":

        def zenkaku(value: str) -> Problem | None:
            found = _HALFWIDTH.search(value)
            if found is None:
                return None
            return (
                "type.zenkaku",
                f"{name}は全角文字で記録してください（{found.start() + 1}文字目が半角です）。",
                "error",
            )

        return zenkaku
    return None


def _length_check(item: Item) -> CellCheck | None:
    length = item.length
    if length is None:
        return None
    name = item.name
    if item.exact:

        def exact(value: str) -> Problem | None:
            n = display_length(value)
            if n == length:
                return None
            return ("length", f"{name}は{length}桁で記録してください（{n}桁です）。", "error")

        return exact

    def at_most(value: str) -> Problem | None:
        if len(value) <= length:
            return None
        n = display_length(value)
        if n <= length:
            return None
        return ("length", f"{name}は{length}文字以内です（{n}文字あります）。", "error")

    return at_most


def _code_check(item: Item) -> CellCheck | None:
    name = item.name
    if item.code_table is not None:
        table = code_table(item.code_table)
        has = table.has

        def in_table(value: str) -> Problem | None:
            if has(value):
                return None
            return (
                "code",
                f"{name}のコード「{value}」は{table.title}のコード表（{table.name}）にありません。",
                "error",
            )

        return in_table
    if item.values:
        allowed = dict(item.values)
        listing = "、".join(f"{code} {label}" for code, label in allowed.items())

        def in_values(value: str) -> Problem | None:
            if value in allowed:
                return None
            return (
                "code",
                f"{name}のコード「{value}」は定義されていません（{listing}）。",
                "error",
            )

        return in_values
    return None


def _date_check(item: Item) -> CellCheck:
    name = item.name

    def fail(exc: DateError) -> Problem:
        return ("date", f"{name}：{exc.message}。".replace("。。", "。"), "error")

    def unknown_allowed(value: str) -> Problem | None:
        if _ISO_DATE.fullmatch(value):
            try:
                date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return None
        if value.isascii() and _STORAGE_DATE.match(value):
            try:
                RegisterDate.from_storage(value)
            except DateError:
                pass  # not storage after all; the display parser gives the better message
            else:
                return None
        try:
            RegisterDate.parse(value)
        except DateError as exc:
            return fail(exc)
        return None

    def real_day(value: str) -> Problem | None:
        if _ISO_DATE.fullmatch(value):
            try:
                date.fromisoformat(value)
            except ValueError:
                pass
            else:
                return None
        try:
            parse_date(value)
        except DateError as exc:
            if exc.code == "not_calendar_date" or _is_uncertain_storage(value):
                return (
                    "date.unknown_not_allowed",
                    f"{name}には不詳の日付（「{value}」）を記録できません。暦上の日付にしてください。",
                    "error",
                )
            return fail(exc)
        return (
            "date.format",
            f"{name}は YYYY-MM-DD 形式で記録してください（「{value}」）。",
            "warning",
        )

    return unknown_allowed if item.unknown_allowed else real_day


def _is_uncertain_storage(value: str) -> bool:
    """True for a RegisterDate storage string of a 不詳 form (R5-??-??!about, ?)."""
    if not (value.isascii() and _STORAGE_DATE.match(value)):
        return False
    try:
        return RegisterDate.from_storage(value).is_uncertain
    except DateError:
        return False


def _validator_check(item: Item) -> CellCheck | None:
    if item.validator is None:
        return None
    parse = parse_zokugara if item.validator == "zokugara" else from_code

    def zokugara(value: str) -> Problem | None:
        try:
            parse(value)
        except ZokugaraError as exc:
            return ("zokugara", exc.message, "error")
        return None

    return zokugara


def _check_digit_check(item: Item) -> CellCheck | None:
    kind = item.check_digit
    if kind is None:
        return None
    validate: Callable[[str], str]
    if kind == "個人番号":
        validate = ids.validate_my_number
    elif kind == "住民票コード":
        validate = ids.validate_juminhyo_code
    elif kind == "団体コード":
        validate = ids.validate_local_government_code
    else:
        # 宛名番号 / 世帯番号: the width is the value's own (vendors pad differently); the
        # layout's length rule has already limited it.
        def validate(value: str, _item: str = kind) -> str:
            return ids.validate_atena_number(value, _item, width=max(len(value), 2))

    def check_digit(value: str) -> Problem | None:
        try:
            validate(value)
        except ids.IdentifierError as exc:
            rule = "check_digit" if exc.code.endswith(".check_digit") else "identifier"
            return (rule, exc.message, "error")
        return None

    return check_digit


def compile_item(item: Item) -> CellCheck:
    """One closure that checks a non-empty value of ``item`` (emptiness is the row's job)."""
    steps = [
        s
        for s in (
            _type_check(item),
            _length_check(item),
            _code_check(item),
            _date_check(item) if item.type == "DATE" else None,
            _validator_check(item),
            _check_digit_check(item),
        )
        if s is not None
    ]

    good: set[str] = set()
    last_good = [""]  # the previous good value: a household's members share its 世帯番号

    def check(value: str) -> Problem | None:
        if value in good or value == last_good[0]:
            return None
        problem = _char_problem(value, item)
        if problem is not None and problem[2] == "error":
            return problem
        for step in steps:
            found = step(value)
            if found is not None:
                return found
        if problem is None:
            last_good[0] = value
            if len(good) < GOOD_VALUES_PER_ITEM:
                good.add(value)
        return problem

    return check
