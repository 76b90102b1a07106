"""Gregorian ⇄ 和暦 conversion, parsing of real-world date texts, and certificate formatting.

Decisions (see docs/text-and-dates.md and docs/adr/0002-own-text-and-date-rules.md):

* **Overlap days.** 明治→大正 and 大正→昭和 changed during the day, so 1912-07-30 is both 明治45年
  7月30日 and 大正元年7月30日 (likewise 1926-12-25). Both spellings parse; formatting uses the new
  era. 昭和→平成 and 平成→令和 changed at midnight, so 昭和64年1月8日 and 平成31年5月1日 never
  existed and are rejected.
* **Before 1873-01-01** (明治6年1月1日) Japan used the lunisolar calendar; converting 明治1–5 dates
  to Gregorian would give a day that is not the one written on the documents, so every function
  here raises ``DateError(code="before_gregorian")`` for them instead of guessing.
* **元年** is written for year 1; "1年" and "01" are accepted on input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from kikan.calendar.eras import Era, EraTable, _before_gregorian_message, default_era_table
from kikan.calendar.errors import DateError
from kikan.calendar.numerals import int_to_kanji, replace_kanji_numbers


@dataclass(frozen=True, slots=True)
class Wareki:
    """A day written in an era: ``era`` year ``year`` (1 = 元年), ``month`` 月 ``day`` 日."""

    era: Era
    year: int
    month: int
    day: int


def to_wareki(day: date, *, table: EraTable | None = None) -> Wareki:
    """The 和暦 of a Gregorian day (the new era on overlap days)."""
    era = (table or default_era_table()).for_date(day)
    return Wareki(era, era.era_year(day.year), day.month, day.day)


def written(era_name: str, year: int | None, month: int | None, day: int | None) -> str:
    """The Japanese text of a (possibly partial) era date, for messages: 令和元年5月1日."""
    out = era_name + ("" if year is None else ("元" if year == 1 else str(year)) + "年")
    if month is not None:
        out += f"{month}月"
    if day is not None:
        out += f"{day}日"
    return out


def check_day_exists(year: int, month: int, day: int, label: str, item: str | None) -> date:
    """``date(year, month, day)`` or a DateError saying in Japanese why that day does not exist."""
    if not 1 <= month <= 12:
        raise DateError("out_of_range", f"{label}の月（{month}）は1〜12で指定してください", item)
    if not 1 <= day <= 31:
        raise DateError("out_of_range", f"{label}の日（{day}）は1〜31で指定してください", item)
    try:
        return date(year, month, day)
    except ValueError:
        if month == 2 and day == 29:
            reason = f"{year}年は閏年ではないため2月29日はありません"
        else:
            reason = f"{month}月に{day}日はありません"
        raise DateError(
            "nonexistent_date", f"{label}は存在しない日付です（{reason}）", item
        ) from None


def from_wareki(
    era: Era | str,
    year: int,
    month: int,
    day: int,
    *,
    table: EraTable | None = None,
    item: str | None = None,
) -> date:
    """The Gregorian day of an era date, or DateError if that day was never written in that era."""
    tbl = table or default_era_table()
    e = tbl.by_name(era) if isinstance(era, str) else era
    label = written(e.name, year, month, day)
    if not 1 <= year <= 9999 - e.start.year:
        raise DateError("out_of_range", f"{label}の年は1以上で指定してください", item)
    d = check_day_exists(e.gregorian_year(year), month, day, label, item)
    if d < tbl.gregorian_from:
        raise DateError("before_gregorian", _before_gregorian_message(tbl, label), item)
    if not e.contains(d):
        if d < e.start:
            first = e.start
            bound = f"{e.name}は{written(e.name, 1, first.month, first.day)}から"
        else:
            assert e.last_day is not None
            last = e.last_day
            bound = f"{e.name}は{written(e.name, e.era_year(last.year), last.month, last.day)}まで"
        raise DateError("outside_era", f"{label}は存在しない日付です（{bound}）", item)
    return d


# --------------------------------------------------------------------------- formatting


def _num(value: int, numerals: Literal["arabic", "kanji"], pad: bool) -> str:
    if numerals == "kanji":
        return int_to_kanji(value)
    return f"{value:02d}" if pad else str(value)


def format_wareki(
    day: date,
    *,
    numerals: Literal["arabic", "kanji"] = "arabic",
    zero_pad: bool = False,
    table: EraTable | None = None,
) -> str:
    """Certificate form: ``令和元年5月1日``; ``numerals="kanji"`` gives ``令和元年五月一日``;
    ``zero_pad=True`` gives ``令和06年04月01日`` (year 1 is always 元年)."""
    w = to_wareki(day, table=table)
    year = "元" if w.year == 1 else _num(w.year, numerals, zero_pad)
    month, day_ = _num(w.month, numerals, zero_pad), _num(w.day, numerals, zero_pad)
    return f"{w.era.name}{year}年{month}月{day_}日"


def format_wareki_abbr(day: date, *, table: EraTable | None = None) -> str:
    """Form and file style: ``R06.04.01``."""
    w = to_wareki(day, table=table)
    return f"{w.era.abbr}{w.year:02d}.{w.month:02d}.{w.day:02d}"


def format_era_code(day: date, *, table: EraTable | None = None) -> str:
    """Legacy file style: era code + YYMMDD, ``5060401`` (years ≥ 100 do not fit and raise)."""
    w = to_wareki(day, table=table)
    if w.year > 99:
        raise DateError("out_of_range", f"{w.era.name}{w.year}年は元号コード形式で表せません")
    return f"{w.era.code}{w.year:02d}{w.month:02d}{w.day:02d}"


def format_seireki(day: date) -> str:
    """西暦 form for the items the spec shows in Gregorian (foreign residents): ``2024年4月1日``."""
    return f"{day.year}年{day.month}月{day.day}日"


# --------------------------------------------------------------------------- parsing

_SEPARATOR = r"[./\-]"
_CODE_RE = re.compile(r"(\d)(\d{2})(\d{2})(\d{2})")
_YMD8_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_WESTERN_RE = re.compile(
    rf"(\d{{4}})(?:{_SEPARATOR}(\d{{1,2}}){_SEPARATOR}|年(\d{{1,2}})月)(\d{{1,2}})日?"
)
_ABBR_RE = re.compile(rf"([A-Za-z])(\d{{1,3}}|元){_SEPARATOR}(\d{{1,2}}){_SEPARATOR}(\d{{1,2}})")
_UNCERTAIN_RE = re.compile("頃|推定|不詳|上旬|中旬|下旬|春|夏|秋|冬|から|までの間")
_SPACE_RE = re.compile(r"\s+")


def _era_name_re(table: EraTable) -> re.Pattern[str]:
    names = "|".join(sorted({*table.names, *(n[0] for n in table.names)}, key=len, reverse=True))
    return re.compile(
        rf"({names})(\d{{1,3}}|元)(?:年(\d{{1,2}})月(\d{{1,2}})日|{_SEPARATOR}(\d{{1,2}}){_SEPARATOR}(\d{{1,2}}))"
    )


_ERA_RE_CACHE: dict[int, re.Pattern[str]] = {}


def era_name_pattern(table: EraTable) -> re.Pattern[str]:
    """Compiled pattern for ``<era name>YY年MM月DD日`` / ``<era>YY.MM.DD`` over ``table``."""
    key = id(table)
    pattern = _ERA_RE_CACHE.get(key)
    if pattern is None:
        pattern = _ERA_RE_CACHE[key] = _era_name_re(table)
    return pattern


def normalize_date_text(text: str) -> str:
    """NFKC (full-width digits, ㋿ → 令和), no whitespace, kanji numerals as digits."""
    s = unicodedata.normalize("NFKC", text)
    s = _SPACE_RE.sub("", s)
    return replace_kanji_numbers(s)


def _year(digits: str) -> int:
    return 1 if digits == "元" else int(digits)


def parse_date(text: str, *, table: EraTable | None = None, item: str | None = None) -> date:
    """Parse a real calendar day from what files and forms contain.

    Accepted: ``5060401`` (era code + YYMMDD), ``R06.04.01`` / ``H31.4.30``, ``平成31年4月30日``,
    ``令和元年5月1日``, ``令和六年四月一日``, full-width digits, ``2024-04-01``, ``2024/4/1``,
    ``2024年4月1日`` and ``20240401``. Raises :class:`DateError` for anything else, including
    不詳 forms (use :class:`kikan.calendar.RegisterDate` for those) and days that never existed.
    """
    try:
        return _parse_date(text, table or default_era_table(), item)
    except DateError as exc:
        if exc.item is None and item is not None:
            raise DateError(exc.code, exc.message, item) from None
        raise


def _parse_date(text: str, tbl: EraTable, item: str | None) -> date:
    if not text or not text.strip():
        raise DateError("empty", "日付が入力されていません", item)
    s = normalize_date_text(text)
    m = _CODE_RE.fullmatch(s)
    if m:
        era = tbl.by_code(int(m.group(1)))
        return from_wareki(
            era, int(m.group(2)), int(m.group(3)), int(m.group(4)), table=tbl, item=item
        )
    ymd: tuple[int, int, int] | None = None
    m = _YMD8_RE.fullmatch(s)
    if m:
        ymd = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif m := _WESTERN_RE.fullmatch(s):
        ymd = (int(m.group(1)), int(m.group(2) or m.group(3)), int(m.group(4)))
    if ymd is not None:
        y, mo, d = ymd
        day = check_day_exists(y, mo, d, f"{y}年{mo}月{d}日", item)
        if day < tbl.gregorian_from:
            raise DateError(
                "before_gregorian", _before_gregorian_message(tbl, day.isoformat()), item
            )
        return day
    m = _ABBR_RE.fullmatch(s)
    if m:
        era = tbl.by_abbr(m.group(1))
        return from_wareki(
            era, _year(m.group(2)), int(m.group(3)), int(m.group(4)), table=tbl, item=item
        )
    m = era_name_pattern(tbl).fullmatch(s)
    if m:
        era = tbl.by_name(m.group(1))
        month = int(m.group(3) or m.group(5))
        day_ = int(m.group(4) or m.group(6))
        return from_wareki(era, _year(m.group(2)), month, day_, table=tbl, item=item)
    if _UNCERTAIN_RE.search(s):
        raise DateError(
            "not_calendar_date",
            f"「{text}」は不詳日です。ここには暦上の日付を入力してください",
            item,
        )
    raise DateError("unrecognized", f"「{text}」は日付として読み取れません", item)
