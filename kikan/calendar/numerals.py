"""Kanji numerals as written in dates (令和六年四月一日, 二〇二四年, 三十一日).

Why our own: the forms on certificates are a small closed set (〇一二…九, 十, 百, 千 and 元 for the
first era year); a general library would add a dependency for twenty lines.
"""

from __future__ import annotations

import re

_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_UNITS = {"十": 10, "百": 100, "千": 1000}

#: A run of kanji numerals (○ U+25CB is often typed for 〇).
KANJI_NUMBER_RE = re.compile("[〇○零一二三四五六七八九十百千]+")


def kanji_to_int(text: str) -> int | None:
    """Value of a kanji numeral run, or None if it is not well formed.

    Two styles: positional digits (二〇二四 = 2024) and multiplicative (二千二十四 = 2024,
    三十一 = 31, 十 = 10). Units must appear in decreasing order (十十 and 十百 are rejected).
    """
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if not any(ch in _UNITS for ch in text):
        value = 0
        for ch in text:
            value = value * 10 + _DIGITS[ch]
        return value
    return _multiplicative(text)


def _multiplicative(text: str) -> int | None:
    total = 0
    current: int | None = None
    last_unit = 10_000
    for ch in text:
        if ch in _DIGITS:
            if current is not None:
                return None
            current = _DIGITS[ch]
            continue
        unit = _UNITS[ch]
        if unit >= last_unit or current == 0:
            return None
        total += (1 if current is None else current) * unit
        current = None
        last_unit = unit
    return total + (current or 0)


_KANJI_DIGITS = "〇一二三四五六七八九"


def int_to_kanji(value: int) -> str:
    """Multiplicative kanji form used on certificates.

    1 → 一, 10 → 十, 31 → 三十一, 2024 → 二千二十四.
    """
    if not 0 <= value < 10_000:
        raise ValueError("only 0..9999 have a kanji form here")
    if value == 0:
        return "〇"
    out = []
    for unit, char in ((1000, "千"), (100, "百"), (10, "十")):
        n, value = divmod(value, unit)
        if n:
            out.append(("" if n == 1 else _KANJI_DIGITS[n]) + char)
    if value:
        out.append(_KANJI_DIGITS[value])
    return "".join(out)


def replace_kanji_numbers(text: str) -> str:
    """Replace every well-formed kanji numeral run by its decimal digits; leave the rest."""

    def repl(m: re.Match[str]) -> str:
        value = kanji_to_int(m.group(0))
        return m.group(0) if value is None else str(value)

    return KANJI_NUMBER_RE.sub(repl, text)
