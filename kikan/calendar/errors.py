"""The one exception type of :mod:`kikan.calendar`.

Every rejection of bad input is a :class:`DateError`, a `kikan.errors.DomainError` of kind
``invalid``: the platform maps it to a 422 problem response, so its attributes are a contract:
``code`` is a stable machine code (listed below), ``message`` is the Japanese text shown to
staff (``str(error)`` returns it), and ``item`` names the input item (e.g. ``"生年月日"``)
when the caller told us which one it was.

Codes
    ``empty``              nothing to parse
    ``unrecognized``       the text matches none of the accepted formats
    ``unknown_era``        era name, letter or code not in the era table
    ``nonexistent_date``   no such day in the Gregorian calendar (2月30日, 令和5年2月29日)
    ``outside_era``        the day exists but not in that era (平成31年5月1日, 昭和64年1月8日)
    ``before_gregorian``   before 1873-01-01 (明治6年1月1日), when Japan used the lunisolar calendar
    ``out_of_range``       a year, month or day number outside any sensible range
    ``not_calendar_date``  a 不詳 (uncertain) register date where a real calendar day is required
    ``invalid_storage``    a RegisterDate storage string that does not follow the format
    ``invalid_era_table``  the era table data file is inconsistent
"""

from __future__ import annotations

from kikan.errors import DomainError, Kind

_WITHOUT_VALUE = {
    "empty": ("が", "入力されていません"),
    "unrecognized": ("を", "日付として読み取れません"),
    "unknown_era": ("の", "元号が正しくありません"),
    "nonexistent_date": ("は", "存在しない日付です"),
    "outside_era": ("は", "存在しない日付です"),
    "before_gregorian": ("は", "明治6年1月1日以降の日付で指定してください"),
    "out_of_range": ("は", "存在しない日付です"),
    "not_calendar_date": ("は", "暦上の日付で指定してください"),
}


class DateError(DomainError, ValueError):
    """Bad date input. ``str(e)`` is the Japanese message; ``code`` is for machines. A
    ``ValueError`` too, so a pydantic validator that meets one reports a validation error."""

    kind = Kind.INVALID

    def public_message(self) -> str:
        return self.without_value() + "。"  # the message may quote the value

    def without_value(self, item: str | None = None) -> str:
        """The message naming the item but not the value (which ``message`` may quote), for
        answers that go back to a client: a problem response never echoes what was sent."""
        particle, predicate = _WITHOUT_VALUE.get(self.code, ("の", "形式が正しくありません"))
        who = item if item is not None else self.item
        return f"{who}{particle}{predicate}" if who else predicate
