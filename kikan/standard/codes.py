"""Versioned code tables (異動事由, 性別, 在留資格, 国名 …) loaded from data files.

Why data files: ARCHITECTURE.md principle 3 ("the standard is data"). A revision of the standard,
a new status of residence or a renamed country should be a change to one TOML file under
``kikan/standard/data/codes/`` plus tests, never a code change. Each file records where its values
come from (``source``) and how sure we are of them (``confidence``), because several tables use
codes of our own where no official public code list was found.

File layout (one table per file, the file stem is the table name)::

    name = "idou_jiyu"              # must equal the file stem
    title = "異動事由"               # Japanese item name, used in messages
    version = "2024.1"              # bump on every change of entries
    source = "..."                  # where the codes and labels come from
    confidence = "medium"           # high | medium | low
    confidence_note = "..."         # why
    code_pattern = '^[1-9][1-9]$'   # optional: every code must match (re.fullmatch)

    [[entry]]
    code = "11"                     # always a TOML string, so leading zeros survive
    label = "国内転入"               # Japanese, unique within the table
    group = "記載"                   # any further keys are attributes (str, int, bool, date)
    valid_from = 2027-04-01         # optional: first day the code may be used
    valid_to = 2030-03-31           # optional: last day the code may be used

Errors are :class:`CodeError` with the same contract as the rest of Kikan: ``code`` (machine code
``code.<problem>``), ``item`` (Japanese item name when the caller gave one) and ``message``
(Japanese; ``str(e)``). Problems: ``empty``, ``format``, ``unknown``, ``not_in_force``,
``unknown_label``, ``unknown_table``, ``invalid_table``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from kikan.errors import DomainError, Kind

__all__ = [
    "AttributeValue",
    "CodeEntry",
    "CodeError",
    "CodeTable",
    "Confidence",
    "available_tables",
    "code_table",
    "parse_code_table",
]

AttributeValue: TypeAlias = str | int | bool | date
Confidence: TypeAlias = Literal["high", "medium", "low"]

_DATA_PACKAGE = "kikan.standard"
_DATA_DIR = "data/codes"
_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CONFIDENCE: frozenset[str] = frozenset({"high", "medium", "low"})
_HEADER_KEYS = frozenset(
    {"name", "title", "version", "source", "confidence", "confidence_note", "code_pattern", "entry"}
)
_ENTRY_KEYS = frozenset({"code", "label", "valid_from", "valid_to"})
# Staff type codes with a Japanese IME; full-width digits and letters mean the same code.
_FULLWIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF5B) if chr(c - 0xFEE0).isalnum()}
)


class CodeError(DomainError, ValueError):
    """A code (or label, or table) that is not in a code table. ``str(e)`` is the message."""

    kind = Kind.INVALID


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code with its Japanese label and table-specific attributes (read-only mapping)."""

    code: str
    label: str
    # hash=False: a read-only mapping is not hashable, but code and label identify the entry.
    attributes: Mapping[str, AttributeValue] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    valid_from: date | None = None
    valid_to: date | None = None

    def attr(self, name: str, default: AttributeValue | None = None) -> AttributeValue | None:
        """An attribute such as ``group`` or ``applies_to``; ``default`` when the entry lacks it."""
        return self.attributes.get(name, default)

    def in_force(self, day: date) -> bool:
        """True if the code may be used for a fact on ``day`` (育成就労: from 2027-04-01)."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return not (self.valid_to is not None and day > self.valid_to)


@dataclass(frozen=True, slots=True)
class CodeTable:
    """One versioned code table. Lookups are dictionary-based; build with :func:`code_table`."""

    name: str
    title: str
    version: str
    source: str
    confidence: Confidence
    entries: tuple[CodeEntry, ...]
    confidence_note: str = ""
    code_pattern: str | None = None
    _by_code: Mapping[str, CodeEntry] = field(init=False, repr=False, compare=False)
    _by_label: Mapping[str, CodeEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_table(self)
        object.__setattr__(self, "_by_code", MappingProxyType({e.code: e for e in self.entries}))
        object.__setattr__(self, "_by_label", MappingProxyType({e.label: e for e in self.entries}))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[CodeEntry]:
        return iter(self.entries)

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes in file order."""
        return tuple(e.code for e in self.entries)

    def has(self, code: str) -> bool:
        """True if ``code`` is defined (exact match; no normalisation, no date check)."""
        return code in self._by_code

    def has_label(self, label: str) -> bool:
        """True if some entry's label is exactly ``label``."""
        return label in self._by_label

    def entry(self, code: str) -> CodeEntry:
        """The entry for ``code``; raises :class:`CodeError` (``code.unknown``) if undefined."""
        found = self._by_code.get(code)
        if found is None:
            raise CodeError("code.unknown", self._unknown_message(code, None))
        return found

    def label(self, code: str) -> str:
        """The Japanese label of ``code``; raises :class:`CodeError` if undefined."""
        return self.entry(code).label

    def by_label(self, label: str) -> str:
        """The code whose label is exactly ``label`` (e.g. 国内転入 → 11).

        Used by data migration and by screens that show labels. Labels are unique per table, so
        the answer is never ambiguous.
        """
        found = self._by_label.get(label)
        if found is None:
            raise CodeError(
                "code.unknown_label", f"{self.title}「{label}」は{self.title}表にありません。"
            )
        return found.code

    def validate(self, code: str, *, item: str | None = None, on: date | None = None) -> str:
        """Check an input code and return its canonical form.

        Full-width digits and letters (typed with a Japanese IME) are folded to ASCII before the
        lookup, as for identifiers. ``item`` names the input item in the message (default: the
        table title). With ``on``, a code outside its ``valid_from``/``valid_to`` period is refused
        (``code.not_in_force``) so that, for example, 育成就労 cannot be recorded before 2027.
        """
        if not isinstance(code, str):
            raise CodeError(
                "code.format", f"{item or self.title}コードは文字列で指定してください。", item
            )
        if code == "":
            raise CodeError("code.empty", f"{item or self.title}コードが入力されていません。", item)
        canonical = code.translate(_FULLWIDTH)
        found = self._by_code.get(canonical)
        if found is None:
            raise CodeError("code.unknown", self._unknown_message(code, item), item)
        if on is not None and not found.in_force(on):
            raise CodeError(
                "code.not_in_force",
                f"{item or self.title}コード「{canonical}」（{found.label}）は"
                f"{on.year}年{on.month}月{on.day}日の時点では使用できません。",
                item,
            )
        return canonical

    def where(self, **attributes: AttributeValue) -> tuple[CodeEntry, ...]:
        """Entries whose attributes equal all the given values, e.g. ``where(group="消除")``."""
        return tuple(
            e
            for e in self.entries
            if all(
                name in e.attributes and e.attributes[name] == value
                for name, value in attributes.items()
            )
        )

    def _unknown_message(self, code: str, item: str | None) -> str:
        return f"{item or self.title}コード「{code}」は定義されていません。"


def _invalid(name: str, detail: str) -> CodeError:
    return CodeError(
        "code.invalid_table", f"コード表「{name}」の形式が正しくありません（{detail}）。"
    )


def _check_table(table: CodeTable) -> None:
    """Reject a table that would make lookups ambiguous; run on every load."""
    if table.confidence not in _CONFIDENCE:
        raise _invalid(table.name, f"confidence は high/medium/low のいずれか: {table.confidence}")
    if not table.entries:
        raise _invalid(table.name, "entry がありません")
    pattern = re.compile(table.code_pattern) if table.code_pattern is not None else None
    seen_codes: set[str] = set()
    seen_labels: set[str] = set()
    for entry in table.entries:
        if not entry.code or not entry.label:
            raise _invalid(table.name, "code と label は空にできません")
        if entry.code in seen_codes:
            raise _invalid(table.name, f"code「{entry.code}」が重複しています")
        if entry.label in seen_labels:
            raise _invalid(table.name, f"label「{entry.label}」が重複しています")
        if pattern is not None and not pattern.fullmatch(entry.code):
            raise _invalid(table.name, f"code「{entry.code}」が code_pattern に合いません")
        if (
            entry.valid_from is not None
            and entry.valid_to is not None
            and entry.valid_to < entry.valid_from
        ):
            raise _invalid(table.name, f"code「{entry.code}」の valid_to が valid_from より前です")
        seen_codes.add(entry.code)
        seen_labels.add(entry.label)


def _str(data: Mapping[str, Any], key: str, table: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _invalid(table, f"{key} は空でない文字列にしてください")
    return value


def _optional_date(data: Mapping[str, Any], key: str, table: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, date):
        raise _invalid(table, f"{key} は日付にしてください")
    return value


def _entry(raw: Any, table: str) -> CodeEntry:
    if not isinstance(raw, dict):
        raise _invalid(table, "entry は表にしてください")
    attributes: dict[str, AttributeValue] = {}
    for key, value in raw.items():
        if key in _ENTRY_KEYS:
            continue
        # bool is a subclass of int; both are allowed, lists and tables are not.
        if not isinstance(value, str | int | date):
            raise _invalid(
                table, f"属性 {key} は文字列・整数・真偽値・日付のいずれかにしてください"
            )
        attributes[key] = value
    return CodeEntry(
        code=_str(raw, "code", table),
        label=_str(raw, "label", table),
        attributes=MappingProxyType(attributes),
        valid_from=_optional_date(raw, "valid_from", table),
        valid_to=_optional_date(raw, "valid_to", table),
    )


def parse_code_table(data: Mapping[str, Any], *, expected_name: str | None = None) -> CodeTable:
    """Build a table from parsed TOML (the layout described in the module docstring).

    Public so that tests and tools can check a candidate table before it replaces a bundled one.
    """
    name = _str(data, "name", expected_name or "?")
    if expected_name is not None and name != expected_name:
        raise _invalid(expected_name, f"name「{name}」がファイル名と一致しません")
    unknown = set(data) - _HEADER_KEYS
    if unknown:
        raise _invalid(name, f"未知の見出し項目 {sorted(unknown)}")
    raw_entries = data.get("entry")
    if not isinstance(raw_entries, list):
        raise _invalid(name, "[[entry]] がありません")
    pattern = data.get("code_pattern")
    if pattern is not None and not isinstance(pattern, str):
        raise _invalid(name, "code_pattern は文字列にしてください")
    confidence = _str(data, "confidence", name)
    if confidence not in _CONFIDENCE:
        raise _invalid(name, f"confidence は high/medium/low のいずれか: {confidence}")
    return CodeTable(
        name=name,
        title=_str(data, "title", name),
        version=_str(data, "version", name),
        source=_str(data, "source", name),
        confidence=confidence,  # type: ignore[arg-type]  # checked against _CONFIDENCE above
        confidence_note=str(data.get("confidence_note", "")),
        code_pattern=pattern,
        entries=tuple(_entry(raw, name) for raw in raw_entries),
    )


def available_tables() -> list[str]:
    """Names of the bundled tables, sorted (the TOML file stems)."""
    folder = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR)
    return sorted(
        item.name.removesuffix(".toml")
        for item in folder.iterdir()
        if item.is_file() and item.name.endswith(".toml")
    )


@cache
def code_table(name: str) -> CodeTable:
    """The bundled table ``name`` (e.g. ``"idou_jiyu"``), parsed and validated once per process."""
    if not _TABLE_NAME.fullmatch(name) or name not in available_tables():
        raise CodeError("code.unknown_table", f"コード表「{name}」はありません。")
    text = resources.files(_DATA_PACKAGE).joinpath(f"{_DATA_DIR}/{name}.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _invalid(name, f"TOML の構文エラー: {exc}") from exc
    return parse_code_table(data, expected_name=name)
