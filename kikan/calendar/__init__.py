"""kikan.calendar: 和暦 conversion, parsing of real-world date texts and register dates (不詳日).

Pure library: no database, no I/O except reading the bundled era table (data/eras.toml).
Every rejection raises :class:`DateError` (``code``, Japanese ``message``, optional ``item``).

Public API::

    parse_date(text, *, table=None, item=None) -> datetime.date
    format_wareki(day, *, numerals="arabic"|"kanji", zero_pad=False, table=None) -> str
    format_wareki_abbr(day) -> "R06.04.01"     format_era_code(day) -> "5060401"
    format_seireki(day) -> "2024年4月1日"
    to_wareki(day) -> Wareki                   from_wareki(era, year, month, day) -> date
    RegisterDate (parse / display / to_storage / from_storage / internal_date / to_date)
    load_era_table(path) -> EraTable           default_era_table() -> EraTable
"""

from kikan.calendar.eras import Era, EraTable, default_era_table, load_era_table, parse_era_table
from kikan.calendar.errors import DateError
from kikan.calendar.numerals import int_to_kanji, kanji_to_int
from kikan.calendar.register_date import Jun, RangeEnd, RegisterDate, Season
from kikan.calendar.wareki import (
    Wareki,
    format_era_code,
    format_seireki,
    format_wareki,
    format_wareki_abbr,
    from_wareki,
    parse_date,
    to_wareki,
)

__all__ = [
    "DateError",
    "Era",
    "EraTable",
    "Jun",
    "RangeEnd",
    "RegisterDate",
    "Season",
    "Wareki",
    "default_era_table",
    "format_era_code",
    "format_seireki",
    "format_wareki",
    "format_wareki_abbr",
    "from_wareki",
    "int_to_kanji",
    "kanji_to_int",
    "load_era_table",
    "parse_date",
    "parse_era_table",
    "to_wareki",
]
