"""Register dates: real days, days not on the calendar, and 不詳日 (住民記録 標準仕様 1.1.8).

The spec allows, for 生年月日, 住民となった年月日, 住所を定めた年月日, 外国人住民となった年月日
and the 異動日 of birth, death and disappearance (and a missing 旧外登法による登録年月日):

* days that are not on the calendar, to stay consistent with 戸籍 (例: うるう年でない年の2月29日);
  we accept any month 1–12 with day 1–31, the day need not exist in that month;
* 明治45年7月30日 and 大正15年12月25日 (real days: the era changed during those days);
* the 不詳日 forms of its 【不詳日入力一覧】::

      令和○○年頃                 令和○○年○月頃               令和○○年○月○日頃
      推定令和○○年○月○日          推定令和○○年○月             令和○○年春
      令和○○年○月上旬             令和○○年○月中旬頃           年月日不詳
      令和○○年 月日不詳           令和○○年○○月 日不詳
      令和○○年○○月○日から○○月○日頃までの間
      令和○○年○○月推定○日から○日までの間
      令和○○年○○月○日頃から○日頃までの間

:class:`RegisterDate` models these as one value: a (possibly partial) date plus qualifiers
(頃 ``about``, 推定 ``estimated``, a season, a 旬, and an optional range end). It generalises the
list slightly (推定 on a year, 頃 on any 旬, 夏/秋/冬 as well as 春) because the list is a list of
examples with ○ placeholders, and a 戸籍 can carry any of them.

Internal date (spec: 内部的には日付を保有しておくこと). ``internal_date`` is a real
``datetime.date`` used for sorting and range queries, filled by these rules:

=================================  ====================================================
form                               internal date
=================================  ====================================================
exact / 頃 / 推定 day               that day; a day not on the calendar is clamped to the
                                   month's last day (令和5年2月29日 → 2023-02-28)
month (頃, 推定, 日不詳)             the 1st of the month
上旬 / 中旬 / 下旬                   the 1st / 11th / 21st
year (頃, 推定, 月日不詳)            January 1st
春 / 夏 / 秋 / 冬                    March 1st / June 1st / September 1st / December 1st
range                              the start day
年月日不詳                          ``datetime.date.min`` (sorts first, never a real day)
=================================  ====================================================

Every filled date is then clamped into the era (令和元年頃 → 2019-05-01, the first day of 令和),
so the internal date of a 和暦 value is always a day that can be written in its era.

Storage / linkage string (``to_storage`` / ``from_storage``), ASCII and stable::

    storage  := "?"                                   年月日不詳
              | cal year "-" part "-" part [ "~" part "-" part ] [ "!" flags ]
    cal      := era abbreviation from the era table (M T S H R …) | "AD" (西暦)
    year     := decimal year (era year, 元年 = 1; or the Gregorian year after "AD")
    part     := two digits | "??" (unknown; in the range end, "??" month = same month)
    flags    := flag { "," flag }   in this order: about est spring summer autumn winter
                early mid late end-about end-est

    R1-05-01                 令和元年5月1日
    R5-02-29                 令和5年2月29日 (not on the calendar, allowed)
    R5-??-??!about           令和5年頃
    R5-04-??!about,mid       令和5年4月中旬頃
    R5-??-??                 令和5年 月日不詳
    R5-04-01~05-03!end-about 令和5年4月1日から5月3日頃までの間
    AD1990-??-??             1990年 月日不詳 (西暦, e.g. a foreign resident's birth date)
"""

from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kikan.calendar.eras import Era, EraTable, _before_gregorian_message, default_era_table
from kikan.calendar.errors import DateError
from kikan.calendar.wareki import (
    era_name_pattern,
    normalize_date_text,
    parse_date,
    to_wareki,
    written,
)


class Season(StrEnum):
    """季節. Internal date: the first day of the season's first month (冬 = 12月1日)."""

    SPRING = "春"
    SUMMER = "夏"
    AUTUMN = "秋"
    WINTER = "冬"


class Jun(StrEnum):
    """旬: 上旬 = days 1–10, 中旬 = 11–20, 下旬 = 21–end."""

    EARLY = "上旬"
    MIDDLE = "中旬"
    LATE = "下旬"


_SEASON_MONTH = {Season.SPRING: 3, Season.SUMMER: 6, Season.AUTUMN: 9, Season.WINTER: 12}
_SEASON_FLAG = {Season.SPRING: "spring", Season.SUMMER: "summer", Season.AUTUMN: "autumn",
                Season.WINTER: "winter"}  # fmt: skip
_JUN_DAY = {Jun.EARLY: 1, Jun.MIDDLE: 11, Jun.LATE: 21}
_JUN_FLAG = {Jun.EARLY: "early", Jun.MIDDLE: "mid", Jun.LATE: "late"}
_FLAG_ORDER = ("about", "est", "spring", "summer", "autumn", "winter", "early", "mid", "late",
               "end-about", "end-est")  # fmt: skip


@dataclass(frozen=True, slots=True)
class RangeEnd:
    """The end of a 「…から…までの間」 range: ``month`` None means the start's month."""

    day: int
    month: int | None = None
    about: bool = False
    estimated: bool = False


def _last_dom(year: int, month: int) -> int:
    return _cal.monthrange(year, month)[1]


def _clamped(year: int, month: int, day: int) -> date:
    """The day, or the month's last day for days not on the calendar (2月29日 of 2023)."""
    return date(year, month, min(day, _last_dom(year, month)))


@dataclass(frozen=True)
class RegisterDate:
    """A date as the register may hold it: real, not on the calendar, or 不詳.

    ``era`` is the era name for a 和暦 value, or None for a 西暦 value (``year`` then is the
    Gregorian year); ``year`` None means 年月日不詳. Build with the constructor, :meth:`of`,
    :meth:`from_date`, :meth:`parse` (display text) or :meth:`from_storage`. Invalid
    combinations raise :class:`DateError`.
    """

    era: str | None
    year: int | None
    month: int | None = None
    day: int | None = None
    about: bool = False
    estimated: bool = False
    season: Season | None = None
    jun: Jun | None = None
    until: RangeEnd | None = None
    table: EraTable = field(default_factory=default_era_table, compare=False, repr=False)

    # ------------------------------------------------------------------ construction

    def __post_init__(self) -> None:
        self._check_shape()
        self._internal_span()  # validates era membership and the 1873 limit

    def _fail(self, code: str, message: str) -> DateError:
        return DateError(code, message)

    def _check_shape(self) -> None:
        if self.year is None:
            parts = (self.era, self.month, self.day, self.season, self.jun, self.until)
            if any(p is not None for p in parts) or self.about or self.estimated:
                raise self._fail("out_of_range", "年月日不詳には年月日や「頃」等を付けられません")
            return
        if self.era is not None:
            # Unknown eras raise; 令 is accepted and stored as 令和.
            object.__setattr__(self, "era", self.table.by_name(self.era).name)
        if self.year < 1 or (self.era is None and not 1 <= self.year <= 9999):
            raise self._fail("out_of_range", f"年（{self.year}）が正しくありません")
        if self.about and self.estimated:
            raise self._fail("out_of_range", "「頃」と「推定」は同時に指定できません")
        if self.month is None:
            self._check_year_level()
        elif self.day is None:
            self._check_month_level(self.month)
        else:
            self._check_day_level(self.month, self.day)

    def _check_year_level(self) -> None:
        if self.day is not None or self.jun is not None or self.until is not None:
            raise self._fail("out_of_range", "月が不詳のときは日・旬・期間を指定できません")
        if self.season is not None and (self.about or self.estimated):
            raise self._fail("out_of_range", "季節に「頃」「推定」は付けられません")

    def _check_month_level(self, month: int) -> None:
        if self.season is not None:
            raise self._fail("out_of_range", "月を指定したときは季節を指定できません")
        if not 1 <= month <= 12:
            raise self._fail("out_of_range", f"月（{month}）は1〜12で指定してください")
        if self.until is not None:
            raise self._fail("out_of_range", "期間の開始日がありません")
        if self.jun is not None and self.estimated:
            raise self._fail("out_of_range", "旬に「推定」は付けられません")

    def _check_day_level(self, month: int, day: int) -> None:
        if self.season is not None or self.jun is not None:
            raise self._fail("out_of_range", "日を指定したときは季節・旬を指定できません")
        if not 1 <= month <= 12:
            raise self._fail("out_of_range", f"月（{month}）は1〜12で指定してください")
        if not 1 <= day <= 31:
            raise self._fail("out_of_range", f"日（{day}）は1〜31で指定してください")
        end = self.until
        if end is None:
            return
        if end.about and end.estimated:
            raise self._fail("out_of_range", "終了日に「頃」と「推定」は同時に指定できません")
        end_month = month if end.month is None else end.month
        if not 1 <= end_month <= 12 or not 1 <= end.day <= 31:
            raise self._fail("out_of_range", "期間の終了日が正しくありません")
        if (end_month, end.day) <= (month, day):
            raise self._fail("out_of_range", "期間の終了日は開始日より後にしてください")

    @classmethod
    def of(cls, era: str | None, year: int, month: int, day: int,
           *, table: EraTable | None = None) -> RegisterDate:  # fmt: skip
        """An exact day, which may be a day not on the calendar (令和5年2月29日)."""
        return cls(era, year, month, day, table=table or default_era_table())

    @classmethod
    def unknown(cls, *, table: EraTable | None = None) -> RegisterDate:
        """年月日不詳."""
        return cls(None, None, table=table or default_era_table())

    @classmethod
    def from_date(cls, day: date, *, seireki: bool = False,
                  table: EraTable | None = None) -> RegisterDate:  # fmt: skip
        """A real day, in 和暦 (default) or 西暦."""
        tbl = table or default_era_table()
        if seireki:
            return cls(None, day.year, day.month, day.day, table=tbl)
        w = to_wareki(day, table=tbl)
        return cls(w.era.name, w.year, w.month, w.day, table=tbl)

    # ------------------------------------------------------------------ properties

    @property
    def is_unknown(self) -> bool:
        """年月日不詳."""
        return self.year is None

    @property
    def is_exact(self) -> bool:
        """A single day without 頃/推定/range (it may still be a day not on the calendar)."""
        return self.day is not None and not self.about and not self.estimated and self.until is None

    @property
    def is_uncertain(self) -> bool:
        """True for every 不詳日 form (anything but an exact day)."""
        return not self.is_exact

    @property
    def is_calendar_day(self) -> bool:
        """An exact day that exists (so :meth:`to_date` works)."""
        if not self.is_exact or self.year is None or self.month is None or self.day is None:
            return False
        return self.day <= _last_dom(self._gregorian_year(), self.month)

    def _era(self) -> Era | None:
        return None if self.era is None else self.table.by_name(self.era)

    def _gregorian_year(self) -> int:
        assert self.year is not None
        era = self._era()
        return self.year if era is None else era.gregorian_year(self.year)

    def _internal_span(self) -> tuple[date, date] | None:
        """(internal date, last day the value may mean), validated against era and 1873."""
        if self.year is None:
            return None
        gy = self._gregorian_year()
        if not 1 <= gy <= 9999:
            raise self._fail("out_of_range", f"年（{self.year}）が正しくありません")
        first, lo, hi = self._period(gy)
        era = self._era()
        label = self.display()
        if hi < self.table.gregorian_from:
            raise self._fail("before_gregorian", _before_gregorian_message(self.table, label))
        if self.day is not None and lo < self.table.gregorian_from:
            raise self._fail("before_gregorian", _before_gregorian_message(self.table, label))
        first = max(first, self.table.gregorian_from)
        if era is not None:
            era_last = era.last_day or date.max
            whole_days = self.day is not None  # a day or a range must lie wholly in the era
            if (
                hi < era.start
                or lo > era_last
                or (whole_days and not (era.contains(lo) and era.contains(hi)))
            ):
                raise self._fail("outside_era", f"「{label}」は{era.name}の期間外の日付です")
            first = min(max(first, era.start), era_last)
        return first, hi

    def _period(self, gy: int) -> tuple[date, date, date]:
        """(internal date before clamping, earliest and latest day the value may mean)."""
        if self.month is None:
            if self.season is None:
                return date(gy, 1, 1), date(gy, 1, 1), date(gy, 12, 31)
            if self.season is Season.WINTER:
                # 冬 straddles the year: it may mean January–February or December.
                return date(gy, 12, 1), date(gy, 1, 1), date(gy, 12, 31)
            m0 = _SEASON_MONTH[self.season]
            return date(gy, m0, 1), date(gy, m0, 1), date(gy, m0 + 2, _last_dom(gy, m0 + 2))
        if self.day is None:
            start_day = _JUN_DAY[self.jun] if self.jun else 1
            end_day = {None: 31, Jun.EARLY: 10, Jun.MIDDLE: 20, Jun.LATE: 31}[self.jun]
            first = date(gy, self.month, start_day)
            return first, first, _clamped(gy, self.month, end_day)
        first = _clamped(gy, self.month, self.day)
        if self.until is None:
            return first, first, first
        end_month = self.month if self.until.month is None else self.until.month
        return first, first, _clamped(gy, end_month, self.until.day)

    def possible_days(self) -> tuple[date, date] | None:
        """(earliest, latest) real day the value may mean; None for 年月日不詳.

        Why public: 名寄せ compares a 不詳日 with another date by whether the two can mean the
        same day, not by their sortable internal dates (令和5年冬 may be January or December).
        頃 and 推定 are not widened here: how far "about" reaches is the caller's rule.
        """
        if self.year is None:
            return None
        self._internal_span()  # validates era and 1873 like every other reading
        _first, lo, hi = self._period(self._gregorian_year())
        return max(lo, self.table.gregorian_from), hi

    @property
    def internal_date(self) -> date:
        """Sortable internal day (rules in the module docstring); date.min for 年月日不詳."""
        span = self._internal_span()
        return date.min if span is None else span[0]

    def to_date(self) -> date:
        """The real day, or DateError(code="not_calendar_date") for every other form."""
        if self.is_calendar_day:
            return self.internal_date
        raise DateError("not_calendar_date", f"「{self.display()}」は暦上の日付ではありません")

    # ------------------------------------------------------------------ display

    def display(self) -> str:
        """Japanese display text as the spec writes it (和暦, or 西暦 when ``era`` is None)."""
        if self.year is None:
            return "年月日不詳"
        text = written(self.era, self.year, None, None) if self.era else f"{self.year}年"
        if self.month is not None:
            text += f"{self.month}月"
        if self.until is not None:
            return text + self._range_text()
        if self.day is not None:
            text += f"{self.day}日"
        if self.estimated:
            return "推定" + text
        if self.season is not None:
            text += self.season.value
        elif self.jun is not None:
            text += self.jun.value
        elif not self.about and self.day is None:
            # The spec writes the missing parts as blanks: 「令和○○年 月日不詳」.
            text += " 月日不詳" if self.month is None else " 日不詳"
        return text + ("頃" if self.about else "")

    def _range_text(self) -> str:
        assert self.until is not None
        end = self.until
        return (
            f"{'推定' if self.estimated else ''}{self.day}日{'頃' if self.about else ''}から"
            f"{'' if end.month is None else f'{end.month}月'}"
            f"{'推定' if end.estimated else ''}{end.day}日{'頃' if end.about else ''}までの間"
        )

    def __str__(self) -> str:
        return self.display()

    # ------------------------------------------------------------------ storage

    def to_storage(self) -> str:
        """The stable ASCII storage/linkage string (grammar in the module docstring)."""
        if self.year is None:
            return "?"
        era = self._era()
        cal = "AD" if era is None else era.abbr
        out = f"{cal}{self.year}-{_part(self.month)}-{_part(self.day)}"
        if self.until is not None:
            out += f"~{_part(self.until.month)}-{_part(self.until.day)}"
        flags = set()
        if self.about:
            flags.add("about")
        if self.estimated:
            flags.add("est")
        if self.season is not None:
            flags.add(_SEASON_FLAG[self.season])
        if self.jun is not None:
            flags.add(_JUN_FLAG[self.jun])
        if self.until is not None and self.until.about:
            flags.add("end-about")
        if self.until is not None and self.until.estimated:
            flags.add("end-est")
        if flags:
            out += "!" + ",".join(f for f in _FLAG_ORDER if f in flags)
        return out

    @classmethod
    def from_storage(cls, text: str, *, table: EraTable | None = None) -> RegisterDate:
        """Inverse of :meth:`to_storage`; rejects anything not in the canonical form."""
        tbl = table or default_era_table()
        if text == "?":
            return cls.unknown(table=tbl)
        m = _STORAGE_RE.fullmatch(text)
        if not m:
            raise DateError("invalid_storage", f"保存形式の日付「{text}」が正しくありません")
        cal, year, month, day, end_month, end_day, flag_text = m.groups()
        flags = flag_text.split(",") if flag_text else []
        if any(f not in _FLAG_ORDER for f in flags) or flags != [
            f for f in _FLAG_ORDER if f in flags
        ]:
            raise DateError("invalid_storage", f"保存形式の日付「{text}」の区分が正しくありません")
        era = None if cal == "AD" else tbl.by_abbr(cal).name
        until = None
        if end_day is not None:
            if end_day == "??":
                raise DateError("invalid_storage", f"保存形式の日付「{text}」の終了日がありません")
            until = RangeEnd(
                day=int(end_day),
                month=_unpart(end_month),
                about="end-about" in flags,
                estimated="end-est" in flags,
            )
        season = next((s for s, f in _SEASON_FLAG.items() if f in flags), None)
        jun = next((j for j, f in _JUN_FLAG.items() if f in flags), None)
        value = cls(
            era,
            int(year),
            _unpart(month),
            _unpart(day),
            about="about" in flags,
            estimated="est" in flags,
            season=season,
            jun=jun,
            until=until,
            table=tbl,
        )
        if value.to_storage() != text:
            raise DateError("invalid_storage", f"保存形式の日付「{text}」が正規形ではありません")
        return value

    # ------------------------------------------------------------------ parsing

    @classmethod
    def parse(cls, text: str, *, table: EraTable | None = None,
              item: str | None = None) -> RegisterDate:  # fmt: skip
        """Parse display text (the spec's forms, full-width or kanji numerals too) or any
        real-day text :func:`kikan.calendar.parse_date` accepts."""
        tbl = table or default_era_table()
        if not text or not text.strip():
            raise DateError("empty", "日付が入力されていません", item)
        s = normalize_date_text(text)
        if s in ("年月日不詳", "不詳"):
            return cls.unknown(table=tbl)
        m = _display_re(tbl).fullmatch(s)
        if m is None:
            try:
                return cls.from_date(parse_date(text, table=tbl, item=item), table=tbl)
            except DateError as exc:
                if exc.code in ("unrecognized", "not_calendar_date"):
                    raise DateError(
                        "unrecognized", f"「{text}」は日付として読み取れません", item
                    ) from None
                raise
        g = m.groupdict()
        if g["era"] is not None:
            era: str | None = tbl.by_name(g["era"]).name
            year = 1 if g["eyear"] == "元" else int(g["eyear"])
        else:
            era, year = None, int(g["gyear"])
        tail_about = g["about"] is not None
        until = None
        if g["eday"] is not None:
            until = RangeEnd(
                day=int(g["eday"]),
                month=None if g["emonth"] is None else int(g["emonth"]),
                about=g["eabout"] is not None,
                estimated=g["eest"] is not None,
            )
        try:
            value = cls(
                era,
                year,
                None if g["month"] is None else int(g["month"]),
                None if g["day"] is None else int(g["day"]),
                about=tail_about or g["dabout"] is not None,
                estimated=g["est"] is not None or g["dest"] is not None,
                season=None if g["season"] is None else Season(g["season"]),
                jun=None if g["jun"] is None else Jun(g["jun"]),
                until=until,
                table=tbl,
            )
        except DateError as exc:
            raise DateError(exc.code, exc.message, item) from None
        explicit = (
            g["mdunknown"] or g["dunknown"] or g["season"] or g["jun"] or g["day"]
            or value.about or value.estimated
        )  # fmt: skip
        if (
            not explicit
            or ((g["mdunknown"] or g["dunknown"]) and (value.about or value.estimated))
            or (g["about"] and g["day"])
            or (g["est"] and g["dest"])
        ):
            raise DateError("unrecognized", f"「{text}」は日付として読み取れません", item)
        return value


def _part(value: int | None) -> str:
    return "??" if value is None else f"{value:02d}"


def _unpart(text: str | None) -> int | None:
    return None if text is None or text == "??" else int(text)


_STORAGE_RE = re.compile(
    r"(AD|[A-Z])(\d{1,4})-(\d{2}|\?\?)-(\d{2}|\?\?)(?:~(\d{2}|\?\?)-(\d{2}|\?\?))?(?:!([a-z,\-]+))?"
)

_DISPLAY_CACHE: dict[int, re.Pattern[str]] = {}


def _display_re(table: EraTable) -> re.Pattern[str]:
    """Pattern for the display forms, over normalized text (no spaces, digits for numerals)."""
    pattern = _DISPLAY_CACHE.get(id(table))
    if pattern is None:
        era_alt = era_name_pattern(table).pattern.split(")", 1)[0].lstrip("(")
        pattern = re.compile(
            rf"(?P<est>推定)?(?:(?P<era>{era_alt})(?P<eyear>\d{{1,3}}|元)|(?P<gyear>\d{{4}}))年"
            r"(?:(?P<mdunknown>月日不詳)|(?P<season>[春夏秋冬])"
            r"|(?P<month>\d{1,2})月(?:(?P<dunknown>日不詳)|(?P<jun>上旬|中旬|下旬)"
            r"|(?P<dest>推定)?(?P<day>\d{1,2})日(?P<dabout>頃)?"
            r"(?:から(?:(?P<emonth>\d{1,2})月)?(?P<eest>推定)?(?P<eday>\d{1,2})日(?P<eabout>頃)?"
            r"までの間)?)?)?(?P<about>頃)?"
        )
        _DISPLAY_CACHE[id(table)] = pattern
    return pattern
