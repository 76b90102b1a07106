"""The era (元号) table: loaded from ``data/eras.toml`` so that a new era is a data change.

Why a data file: 住民記録 標準仕様 1.3.6 requires that an era change be handled by parameters, not
a program change. All conversion functions take an optional ``table`` so tests (and a deployment
preparing for a proclaimed era) can load another table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kikan.calendar.errors import DateError


@dataclass(frozen=True, slots=True)
class Era:
    """One era. ``last_day`` is None for the current era."""

    code: int
    name: str
    abbr: str
    start: date
    last_day: date | None

    def gregorian_year(self, era_year: int) -> int:
        """The Gregorian year of year ``era_year`` of this era (元年 = 1)."""
        return self.start.year + era_year - 1

    def era_year(self, gregorian_year: int) -> int:
        """The year number within this era of a Gregorian year."""
        return gregorian_year - self.start.year + 1

    def contains(self, day: date) -> bool:
        """True if ``day`` may be written in this era (overlap days count for both eras)."""
        return self.start <= day and (self.last_day is None or day <= self.last_day)


@dataclass(frozen=True, slots=True)
class EraTable:
    """An ordered, validated list of eras plus the first day we convert at all."""

    version: str
    gregorian_from: date
    eras: tuple[Era, ...]

    def __post_init__(self) -> None:
        _validate(self)

    def for_date(self, day: date) -> Era:
        """The era a day is written in. On an overlap day the *new* era wins (大正元年7月30日)."""
        if day < self.gregorian_from:
            raise DateError("before_gregorian", _before_gregorian_message(self, day.isoformat()))
        for era in reversed(self.eras):
            if era.start <= day:
                if era.last_day is not None and day > era.last_day:
                    break
                return era
        raise DateError("outside_era", f"{day.isoformat()}は元号表のどの元号にも含まれません")

    def by_name(self, name: str) -> Era:
        for era in self.eras:
            if era.name == name or era.name[0] == name:
                return era
        raise DateError("unknown_era", f"元号「{name}」は元号表にありません")

    def by_abbr(self, abbr: str) -> Era:
        upper = abbr.upper()
        for era in self.eras:
            if era.abbr == upper:
                return era
        raise DateError("unknown_era", f"元号の略号「{abbr}」は元号表にありません")

    def by_code(self, code: int) -> Era:
        for era in self.eras:
            if era.code == code:
                return era
        raise DateError("unknown_era", f"元号コード「{code}」は元号表にありません")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.eras)


def _before_gregorian_message(table: EraTable, written: str) -> str:
    g = table.gregorian_from
    return (
        f"{written}は太陽暦採用（{g.year}年{g.month}月{g.day}日＝明治6年1月1日）より前の日付です。"
        "旧暦の日付は西暦に換算できないため扱えません"
    )


def _validate(table: EraTable) -> None:
    """Reject a table that would make conversion ambiguous or leave gaps."""
    if not table.eras:
        raise DateError("invalid_era_table", "元号表に元号がありません")
    for field_name in ("code", "name", "abbr"):
        values = [getattr(e, field_name) for e in table.eras]
        if len(set(values)) != len(values):
            raise DateError("invalid_era_table", f"元号表の{field_name}が重複しています")
    initials = [e.name[0] for e in table.eras]
    if len(set(initials)) != len(initials):
        # 明/大/昭/平/令 alone are accepted as era names on input, so they must be unique.
        raise DateError("invalid_era_table", "元号表の元号名の1文字目が重複しています")
    for era in table.eras:
        if not (len(era.abbr) == 1 and era.abbr.isascii() and era.abbr.isupper()):
            raise DateError("invalid_era_table", f"{era.name}の略号は英大文字1字にしてください")
        if not 1 <= era.code <= 9:
            raise DateError("invalid_era_table", f"{era.name}の元号コードは1〜9にしてください")
        if era.last_day is not None and era.last_day < era.start:
            raise DateError("invalid_era_table", f"{era.name}の終了日が開始日より前です")
    for prev, nxt in zip(table.eras, table.eras[1:], strict=False):
        if prev.last_day is None:
            raise DateError("invalid_era_table", f"{prev.name}の終了日（last_day）がありません")
        # The next era starts on the old era's last day (change during the day) or the day after.
        if nxt.start not in (prev.last_day, prev.last_day + timedelta(days=1)):
            raise DateError(
                "invalid_era_table", f"{prev.name}の終了日と{nxt.name}の開始日が連続していません"
            )


def _as_date(value: Any, what: str) -> date:
    if isinstance(value, date):
        return value
    raise DateError("invalid_era_table", f"元号表の{what}が日付ではありません")


def parse_era_table(data: dict[str, Any]) -> EraTable:
    """Build a table from already-parsed TOML data (the layout of ``data/eras.toml``)."""
    try:
        eras = tuple(
            Era(
                code=int(e["code"]),
                name=str(e["name"]),
                abbr=str(e["abbr"]),
                start=_as_date(e["start"], "start"),
                last_day=_as_date(e["last_day"], "last_day") if "last_day" in e else None,
            )
            for e in data["era"]
        )
        return EraTable(
            version=str(data["version"]),
            gregorian_from=_as_date(data["gregorian_from"], "gregorian_from"),
            eras=tuple(sorted(eras, key=lambda e: e.start)),
        )
    except (KeyError, TypeError) as exc:
        raise DateError("invalid_era_table", f"元号表の形式が正しくありません（{exc}）") from exc


def load_era_table(path: str | Path) -> EraTable:
    """Load an era table from a TOML file."""
    with open(path, "rb") as fh:
        return parse_era_table(tomllib.load(fh))


@cache
def default_era_table() -> EraTable:
    """The bundled table (kikan/calendar/data/eras.toml), loaded once."""
    text = resources.files("kikan.calendar").joinpath("data/eras.toml").read_text("utf-8")
    return parse_era_table(tomllib.loads(text))
