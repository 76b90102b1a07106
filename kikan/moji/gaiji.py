"""Legacy 外字: decoding CP932 (Shift_JIS as Windows writes it) with a per-vendor 外字 table.

Why our own: Python's ``cp932`` codec already decodes the user-defined area F040–F9FC to the
BMP Private Use Area (F040 → U+E000, row by row, 188 cells per lead byte), but what each of those
cells *means* differs per vendor and per municipality. Only a table made during migration
(同定: each 外字 matched to an MJ character) can say, and no library holds such tables.

Table format (TOML, one file per vendor; see ``data/gaiji/example.toml``)::

    vendor = "example"          # free text
    version = "1"               # bump whenever a mapping changes
    [[gaiji]]
    sjis = "F040"               # the CP932 bytes (hex) of the 外字 … or:  pua = "U+E000"
    to = "U+20BB7"              # target as code points, space separated (IVS allowed)
    mj = "MJ000000"             # optional, for the record
    note = "つちよし"            # optional

Targets are written as code points so that IVS selectors and look-alike characters are visible
in review. A target may not itself be a PUA character. An unmapped 外字 is never dropped: it stays
in the text as its PUA character and is listed in :attr:`DecodeResult.unmapped` (or, with
``strict=True``, raises ``MojiError(code="unmapped_gaiji")``), so the migration worklist sees it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kikan.moji.errors import MojiError
from kikan.moji.repertoire import pua_area

_USER_AREA_LEADS = range(0xF0, 0xFA)


@dataclass(frozen=True, slots=True)
class GaijiEntry:
    pua: str
    to: str
    sjis: str | None = None
    mj: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class GaijiTable:
    """A vendor's 外字 mapping: PUA character → target text."""

    vendor: str
    version: str
    entries: dict[str, GaijiEntry] = field(default_factory=dict)

    def get(self, pua_char: str) -> str | None:
        entry = self.entries.get(pua_char)
        return None if entry is None else entry.to


def _codepoints(spec: str, where: str) -> str:
    try:
        chars = [chr(int(part.removeprefix("U+").removeprefix("u+"), 16)) for part in spec.split()]
    except ValueError:
        chars = []
    if not chars:
        raise MojiError("invalid_gaiji_table", f"外字表の{where}は「U+XXXX」形式で書いてください")
    return "".join(chars)


def _sjis_to_pua(sjis: str) -> str:
    try:
        raw = bytes.fromhex(sjis)
        if len(raw) != 2 or raw[0] not in _USER_AREA_LEADS:
            raise ValueError(sjis)
        ch = raw.decode("cp932")
    except (ValueError, UnicodeDecodeError):
        raise MojiError(
            "invalid_gaiji_table",
            f"外字表のsjis「{sjis}」はCP932の外字領域（F040〜F9FC）ではありません",
        ) from None
    return ch


def parse_gaiji_table(data: dict[str, Any]) -> GaijiTable:
    """Validate and build a table from parsed TOML."""
    try:
        vendor, version, rows = str(data["vendor"]), str(data["version"]), data.get("gaiji", [])
    except KeyError as exc:
        raise MojiError("invalid_gaiji_table", f"外字表に{exc.args[0]}がありません") from None
    entries: dict[str, GaijiEntry] = {}
    for row in rows:
        if ("sjis" in row) == ("pua" in row) or "to" not in row:
            raise MojiError(
                "invalid_gaiji_table", "外字表の各行にはsjisかpuaの一方と、toが必要です"
            )
        sjis = str(row["sjis"]).upper() if "sjis" in row else None
        pua = _sjis_to_pua(sjis) if sjis else _codepoints(str(row["pua"]), "pua")
        if len(pua) != 1 or pua_area(ord(pua)) is None:
            raise MojiError(
                "invalid_gaiji_table", f"外字表のpua「{row.get('pua')}」は私用領域ではありません"
            )
        target = _codepoints(str(row["to"]), "to")
        if any(pua_area(ord(c)) for c in target):
            raise MojiError(
                "invalid_gaiji_table", f"外字 U+{ord(pua):04X} の変換先が私用領域の文字です"
            )
        if pua in entries:
            raise MojiError(
                "invalid_gaiji_table", f"外字 U+{ord(pua):04X} が外字表で重複しています"
            )
        entries[pua] = GaijiEntry(pua, target, sjis, row.get("mj"), row.get("note"))
    return GaijiTable(vendor, version, entries)


def load_gaiji_table(path: str | Path) -> GaijiTable:
    with open(path, "rb") as fh:
        return parse_gaiji_table(tomllib.load(fh))


@cache
def example_gaiji_table() -> GaijiTable:
    """The bundled example table (data/gaiji/example.toml), for tests and documentation."""
    text = resources.files("kikan.moji").joinpath("data/gaiji/example.toml").read_text("utf-8")
    return parse_gaiji_table(tomllib.loads(text))


@dataclass(frozen=True, slots=True)
class UnmappedGaiji:
    """A 外字 without a table entry: where it is in the decoded text, and what it was."""

    index: int
    char: str
    sjis: str | None

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"


@dataclass(frozen=True, slots=True)
class DecodeResult:
    text: str
    unmapped: tuple[UnmappedGaiji, ...]
    mapped: int

    @property
    def complete(self) -> bool:
        return not self.unmapped


#: The three Private Use Areas of `pua_area`, for the no-外字 fast path.
_PUA = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")


def contains_pua(text: str) -> bool:
    """Whether `text` holds any Private Use Area character (a 外字 to map). One regex scan:
    callers test a whole record before mapping field by field."""
    return _PUA.search(text) is not None


def _sjis_of(ch: str) -> str | None:
    try:
        return ch.encode("cp932").hex().upper()
    except UnicodeEncodeError:
        return None


def map_gaiji(
    text: str, table: GaijiTable, *, strict: bool = False, item: str | None = None
) -> DecodeResult:
    """Replace the PUA characters of already-decoded text through ``table``."""
    if _PUA.search(text) is None:  # nearly every field of a legacy file: nothing to map
        return DecodeResult(text, (), 0)
    out: list[str] = []
    unmapped: list[UnmappedGaiji] = []
    mapped = 0
    pos = 0
    for ch in text:
        if pua_area(ord(ch)) is None:
            out.append(ch)
            pos += 1
            continue
        target = table.get(ch)
        if target is None:
            unmapped.append(UnmappedGaiji(pos, ch, _sjis_of(ch)))
            out.append(ch)
            pos += 1
        else:
            out.append(target)
            pos += len(target)
            mapped += 1
    if strict and unmapped:
        first = unmapped[0]
        where = f"（CP932 {first.sjis}）" if first.sjis else ""
        raise MojiError(
            "unmapped_gaiji",
            f"外字表「{table.vendor}」にない外字 {first.codepoint}{where}が"
            f"{len(unmapped)}文字あります",
            item,
        )
    return DecodeResult("".join(out), tuple(unmapped), mapped)


def decode_cp932(
    data: bytes, table: GaijiTable, *, strict: bool = False, item: str | None = None
) -> DecodeResult:
    """Decode CP932 bytes and map their 外字 through a vendor table.

    Invalid byte sequences raise ``MojiError(code="invalid_bytes")`` with the byte offset;
    unmapped 外字 are reported (or raise with ``strict=True``), never dropped.
    """
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.end].hex().upper()
        raise MojiError(
            "invalid_bytes",
            f"CP932として読めないバイト列があります（{exc.start}バイト目: {bad}）",
            item,
        ) from None
    return map_gaiji(text, table, strict=strict, item=item)
