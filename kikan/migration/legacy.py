"""Legacy files: the mapping file (which column is which item), reading rows out of CP932 or
UTF-8, fixed-width or CSV exports with vendor 外字, and writing such files (for `kikan synth`).

Rows are read as bytes, one physical line each, so a bad byte sequence or a truncated last line
rejects that row only. Fixed-width offsets are in bytes, as legacy record layouts define them.
See docs/migration.md for the mapping format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Literal

from kikan.migration.records import (
    COMBINED,
    ITEMS,
    KANA_ITEMS,
    Cleansing,
    RowReject,
    full_width_kana_text,
    full_width_katakana,
    needs_widening,
    split_name,
)
from kikan.moji import (
    CharClass,
    GaijiTable,
    MojiError,
    check_repertoire,
    contains_pua,
    in_mj_repertoire,
    kanji_key_char,
    load_gaiji_table,
    map_gaiji,
    parse_gaiji_table,
)
from kikan.moji.repertoire import mj_repertoire
from kikan.moji.variants import curated_variants

KANA_OF = {
    "family_name": "family_name_kana",
    "given_name": "given_name_kana",
    "hittousha_family": "family_name_kana",
    "hittousha_given": "given_name_kana",
    "full_name": "family_name_kana",
}
#: `[numbers]` choices: keep the legacy number as the Kikan number, or renumber and keep a
#: cross-reference table legacy → new (docs/migration.md).
NUMBER_POLICIES = ("keep", "renumber")
#: Prefix of the record keys that carry an item's text as the file had it, when a cleansing
#: rule changed it (フリガナ widened, names split): kept beside the imported person.
ORIGINAL = "original:"


class MappingError(ValueError):
    """The mapping file is unusable (Japanese message); nothing is imported."""


@dataclass(frozen=True)
class FieldSpec:
    item: str
    start: int = 0  # fixed: byte offset
    length: int = 0  # fixed: bytes
    column: int = -1  # csv: 0-based index (resolved from the header name if given)
    header: str = ""  # csv: header name


@dataclass(frozen=True)
class Mapping:
    format: Literal["fixed", "csv"]
    encoding: Literal["cp932", "utf-8"]
    gaiji: GaijiTable
    fields: dict[str, FieldSpec]
    record_length: int = 0
    header: bool = True
    delimiter: str = ","
    batch_size: int = 2000
    defaults: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    sha256: str = ""
    numbers: dict[str, str] = field(default_factory=dict)  # item → keep | renumber
    check_digits: bool = True  # legacy numbers carry an M11 check digit (verified)

    def keeps(self, item: str) -> bool:
        """True when the legacy number of `item` becomes the Kikan number."""
        return item in self.fields and self.numbers.get(item, "keep") == "keep"

    @property
    def household_item(self) -> str:
        """The item whose value groups rows into households."""
        return "household_key" if "household_key" in self.fields else "household_number"


def bundled_mapping(name: str) -> Path:
    """Path of a mapping shipped in kikan/migration/data (e.g. `legacy_cp932_fixed.toml`)."""
    return Path(str(resources.files("kikan.migration").joinpath(f"data/{name}")))


def _gaiji_table(spec: str, base: Path) -> GaijiTable:
    if spec == "example":
        data = resources.files("kikan.moji").joinpath("data/gaiji/example.toml").read_text("utf-8")
        return parse_gaiji_table(tomllib.loads(data))
    path = Path(spec)
    if not path.is_absolute():
        path = base / path
    try:
        return load_gaiji_table(path)
    except OSError as exc:
        raise MappingError(f"外字表 {path} を読めません（{exc.strerror}）。") from None


_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


def _items_named_twice(text: str) -> None:
    """A TOML file naming an item twice fails to parse with a message about "overwriting";
    find it first and say which item and where, in Japanese."""
    seen: dict[str, int] = {}
    section = ""
    for no, line in enumerate(text.splitlines(), 1):
        if m := _TABLE.match(line):
            section = m.group(1).strip()
            if section.startswith("fields."):
                item = section.removeprefix("fields.").strip('"')
                if item in seen:
                    raise MappingError(
                        f"対応表で項目「{item}」が二度指定されています（{seen[item]}行目と{no}行目）。"
                    )
                seen[item] = no
            continue
        if section == "fields" and (m := _KEY.match(line)):
            item = m.group(1).strip('"')
            if item in seen:
                raise MappingError(
                    f"対応表で項目「{item}」が二度指定されています（{seen[item]}行目と{no}行目）。"
                )
            seen[item] = no


def _check_overlaps(fields: dict[str, FieldSpec]) -> None:
    """Fixed-width items must not share bytes: each pair that does is named with its ranges."""
    spans = sorted(fields.values(), key=lambda f: (f.start, f.length))
    clashes = []
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if b.start >= a.start + a.length:
                break
            clashes.append(
                f"「{a.item}」（{a.start}〜{a.start + a.length - 1}バイト）と"
                f"「{b.item}」（{b.start}〜{b.start + b.length - 1}バイト）"
            )
    if clashes:
        raise MappingError(
            "固定長の項目の位置が重なっています: " + "、".join(clashes) + "。"
            "同じバイトを二つの項目に割り当てることはできません。"
        )


def _fields(data: dict[str, Any], fmt: str) -> dict[str, FieldSpec]:
    fields: dict[str, FieldSpec] = {}
    for item, spec in data.get("fields", {}).items():
        if item not in ITEMS:
            raise MappingError(f"対応表の項目「{item}」は取込項目にありません。")
        if not isinstance(spec, dict):
            raise MappingError(f"対応表の項目「{item}」の指定が正しくありません。")
        if fmt == "fixed":
            start, length = spec.get("start"), spec.get("length")
            if not isinstance(start, int) or not isinstance(length, int):
                raise MappingError(f"固定長の項目「{item}」には start と length が必要です。")
            if start < 0 or length < 1:
                raise MappingError(
                    f"固定長の項目「{item}」の start は0以上、length は1以上にしてください。"
                )
            fields[item] = FieldSpec(item, start=start, length=length)
        else:
            fields[item] = FieldSpec(
                item, column=int(spec.get("index", -1)), header=str(spec.get("column", ""))
            )
    for combined, (first, second) in COMBINED.items():
        both = [i for i in (first, second) if i in fields]
        if combined in fields and both:
            raise MappingError(
                f"対応表で「{combined}」（{ITEMS[combined]}）と「{both[0]}」（{ITEMS[both[0]]}）が"
                f"両方指定されています。{ITEMS[combined]}を分割するか、別々の列を使うかのどちらかに"
                "してください。"
            )
    if "household_key" not in fields and "household_number" not in fields:
        raise MappingError(
            "対応表に household_key（旧世帯番号）または household_number（世帯番号）の列が"
            "ありません。"
        )
    if "family_name" not in fields and "full_name" not in fields:
        raise MappingError("対応表に family_name（氏）または full_name（氏名）の列がありません。")
    if fmt == "fixed":
        _check_overlaps(fields)
    return fields


def _numbers(data: dict[str, Any]) -> tuple[dict[str, str], bool]:
    raw = data.get("numbers", {})
    numbers: dict[str, str] = {}
    for item in ("atena_number", "household_number"):
        choice = str(raw.get(item, "keep"))
        if choice not in NUMBER_POLICIES:
            raise MappingError(
                f"対応表の numbers.{item} は keep（旧番号を引き継ぐ）か renumber"
                "（新しく採番し新旧対照表に残す）を指定してください。"
            )
        numbers[item] = choice
    unknown = set(raw) - {"atena_number", "household_number", "check_digits"}
    if unknown:
        raise MappingError(f"対応表の numbers に不明な指定「{sorted(unknown)[0]}」があります。")
    return numbers, bool(raw.get("check_digits", True))


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file: everything that can be wrong with it is refused here,
    before any row is read (items unknown or named twice, overlapping fixed-width ranges,
    a combined name beside its parts, unknown number policies)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise MappingError(f"対応表 {path} を読めません（{exc.strerror}）。") from None
    except UnicodeDecodeError:
        raise MappingError(f"対応表 {path} はUTF-8で書いてください。") from None
    _items_named_twice(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"対応表 {path} の書式が正しくありません（{exc}）。") from None
    src = data.get("source", {})
    fmt = src.get("format")
    enc = src.get("encoding")
    if fmt not in ("fixed", "csv"):
        raise MappingError("対応表の source.format は fixed か csv を指定してください。")
    if enc not in ("cp932", "utf-8"):
        raise MappingError("対応表の source.encoding は cp932 か utf-8 を指定してください。")
    fields = _fields(data, fmt)
    numbers, check_digits = _numbers(data)
    record_length = int(src.get("record_length", 0))
    if fmt == "fixed":
        needed = max(f.start + f.length for f in fields.values())
        record_length = record_length or needed
        if record_length < needed:
            raise MappingError("対応表の record_length が項目の位置より短くなっています。")
    try:
        gaiji = _gaiji_table(str(src.get("gaiji_table", "example")), path.parent)
    except MojiError as exc:
        raise MappingError(exc.message) from None
    return Mapping(
        format=fmt,
        encoding=enc,
        gaiji=gaiji,
        fields=fields,
        record_length=record_length,
        header=bool(src.get("header", fmt == "csv")),
        delimiter=str(src.get("delimiter", ",")),
        batch_size=int(data.get("batch", {}).get("size", 2000)),
        defaults={k: str(v) for k, v in data.get("defaults", {}).items()},
        codes={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("codes", {}).items()},
        sha256=hashlib.sha256(raw).hexdigest(),
        numbers=numbers,
        check_digits=check_digits,
    )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def count_lines(path: Path) -> int:
    n = 0
    last = b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class RawRow:
    row_no: int  # 1-based data row (the header is not counted)
    data: bytes
    complete: bool  # ended with a line break (False: the file's last line was cut short?)


class Reader:
    """Iterates the data rows of one file and decodes them into item → text records."""

    def __init__(self, path: Path, mapping: Mapping) -> None:
        self.path = path
        self.mapping = mapping
        self.columns: dict[str, int] = {}

    def rows(self) -> Iterator[RawRow]:
        m = self.mapping
        with self.path.open("rb") as fh:
            first = True
            row_no = 0
            for line in fh:
                complete = line.endswith(b"\n")
                data = line.rstrip(b"\r\n")
                if first and m.format == "csv":
                    first = False
                    if m.header:
                        self._read_header(data)
                        continue
                    self._resolve_columns({})
                first = False
                if not data and complete:
                    continue  # blank line
                row_no += 1
                yield RawRow(row_no, data, complete)

    def _read_header(self, data: bytes) -> None:
        text = data.decode(self.mapping.encoding, errors="replace").lstrip("\ufeff")
        names = next(csv.reader([text], delimiter=self.mapping.delimiter))
        self._resolve_columns({n.strip(): i for i, n in enumerate(names)})

    def _resolve_columns(self, header: dict[str, int]) -> None:
        for item, spec in self.mapping.fields.items():
            if spec.header:
                if spec.header not in header:
                    raise MappingError(f"見出し行に列「{spec.header}」がありません（{item}）。")
                self.columns[item] = header[spec.header]
            elif spec.column >= 0:
                self.columns[item] = spec.column
            else:
                raise MappingError(f"CSVの項目「{item}」には column か index が必要です。")

    def household_key(self, raw: RawRow) -> bytes:
        """The raw household key, for batch boundaries (no decoding, never fails)."""
        item = self.mapping.household_item
        if self.mapping.format == "fixed":
            spec = self.mapping.fields[item]
            return raw.data[spec.start : spec.start + spec.length]
        parts = raw.data.split(self.mapping.delimiter.encode())
        idx = self.columns.get(item, 0)
        return parts[idx] if idx < len(parts) else b""

    def field_text(self, raw: RawRow, item: str) -> str:
        """One item's text, read leniently (undecodable bytes replaced; a short row gives
        what is there): for the number scan before the import, never for the register."""
        m = self.mapping
        if item not in m.fields:
            return ""
        if m.format == "fixed":
            spec = m.fields[item]
            return raw.data[spec.start : spec.start + spec.length].decode(
                m.encoding, errors="replace"
            )
        line = raw.data.decode(m.encoding, errors="replace")
        parts = next(csv.reader([line], delimiter=m.delimiter), [])
        idx = self.columns.get(item, -1)
        return parts[idx] if 0 <= idx < len(parts) else ""

    def _decode(self, data: bytes, item: str) -> str:
        m = self.mapping
        try:
            text = data.decode(m.encoding)
        except UnicodeDecodeError as exc:
            bad = data[exc.start : exc.end].hex().upper()
            label = "CP932" if m.encoding == "cp932" else "UTF-8"
            raise RowReject(
                "encoding",
                f"{ITEMS.get(item, item)}に{label}として読めないバイト列があります（{bad}）。"
                "ファイルの文字コードを確認してください。",
                ITEMS.get(item, item),
            ) from None
        return text

    def decode(self, raw: RawRow, clean: Cleansing) -> dict[str, str]:
        m = self.mapping
        texts: dict[str, str] = {}
        if m.format == "fixed":
            if len(raw.data) < m.record_length:
                raise RowReject(
                    "truncated",
                    f"行の長さが{len(raw.data)}バイトで、固定長{m.record_length}バイトに"
                    "足りません（行が途中で切れています）。",
                )
            if len(raw.data) > m.record_length:
                raise RowReject(
                    "length",
                    f"行の長さが{len(raw.data)}バイトで、固定長{m.record_length}バイトを"
                    "超えています。",
                )
            for item, spec in m.fields.items():
                texts[item] = self._decode(raw.data[spec.start : spec.start + spec.length], item)
        else:
            try:
                line = self._decode(raw.data, "")
            except RowReject:
                if raw.complete:
                    raise
                raise RowReject(
                    "truncated", "最終行が途中で切れています（文字の途中で終わっています）。"
                ) from None
            parts = next(csv.reader([line], delimiter=m.delimiter), [])
            need = max(self.columns.values()) + 1
            if len(parts) < need:
                cut = "" if raw.complete else "（最終行が途中で切れています）"
                raise RowReject(
                    "truncated" if not raw.complete else "columns",
                    f"列の数が{len(parts)}で、{need}列に足りません{cut}。",
                )
            for item, idx in self.columns.items():
                texts[item] = parts[idx]
        return self._clean(texts, clean)

    def _plain(self, texts: dict[str, str], clean: Cleansing) -> dict[str, str]:
        """`_clean` for a record without any 外字: trim, vendor codes, defaults, combined names
        split, フリガナ widened to full-width katakana (the text as read kept under
        `ORIGINAL`), every character checked against the MJ repertoire."""
        m = self.mapping
        codes = m.codes
        rec: dict[str, str] = {}
        for item, text in texts.items():
            if item in COMBINED:
                first, second = COMBINED[item]
                whole = text.rstrip(" \u3000")
                rec[first], rec[second] = split_name(whole, item)
                if whole:
                    clean.hit("name.combined")
                    rec[ORIGINAL + item] = whole
                continue
            value = text.strip(" \u3000")
            table = codes.get(item)
            if table and value in table:
                value = table[value]
                clean.hit("code.translated")
            rec[item] = value
        for item, default in m.defaults.items():
            if not rec.get(item):
                rec[item] = default
        if "household_key" not in m.fields:
            rec["household_key"] = rec.get("household_number", "")
        # the usual row: one look at all its text decides whether any item needs work
        text = "".join(v for k, v in rec.items() if not k.startswith(ORIGINAL))
        if text.isascii():
            return rec
        if needs_widening(text) or any(
            needs_widening(rec.get(k, ""), kana=True) for k in KANA_ITEMS
        ):
            self._widen(rec, clean)
            text = "".join(v for k, v in rec.items() if not k.startswith(ORIGINAL))
        if not set(text) <= _GOOD_CHARS:
            _check_mj(rec)
        return rec

    @staticmethod
    def _widen(rec: dict[str, str], clean: Cleansing) -> None:
        for item in list(rec):
            value = rec[item]
            if value.isascii() or item.startswith(ORIGINAL):
                continue
            wide = full_width_katakana(value) if item in KANA_ITEMS else full_width_kana_text(value)
            if wide != value:
                clean.hit("kana.normalised")
                rec.setdefault(ORIGINAL + item, value)
                rec[item] = wide

    def _clean(self, texts: dict[str, str], clean: Cleansing) -> dict[str, str]:
        """Map 外字 through the vendor table (only when the record holds any), then trim,
        translate vendor codes and fill defaults. An unmapped 外字 rejects the row, with every
        occurrence listed for the worklist."""
        if not contains_pua("".join(texts.values())):  # the usual row: no 外字 anywhere
            return self._plain(texts, clean)
        mapped: dict[str, str] = {}
        unmapped: list[dict[str, Any]] = []
        for item, text in texts.items():
            result = map_gaiji(
                text.rstrip(" \u3000") if item in COMBINED else text.strip(" \u3000"),
                self.mapping.gaiji,
            )
            if result.mapped:
                clean.hit("gaiji.mapped", result.mapped)
            unmapped.extend(
                {
                    "item": ITEMS[item],
                    "field": item,
                    "char": u.codepoint,
                    "sjis": u.sjis or "",
                    "pos": u.index,
                    "text": result.text,
                }
                for u in result.unmapped
            )
            mapped[item] = result.text
        if unmapped:
            for entry in unmapped:
                entry["kana"] = _reading(mapped, entry["field"])
            first = unmapped[0]
            where = f"、CP932 {first['sjis']}" if first["sjis"] else ""
            raise RowReject(
                "gaiji.unmapped",
                f"外字表にない外字があります（{first['item']}: {first['char']}{where}）。"
                "外字同定の作業リストに載せました。",
                first["item"],
                {"gaiji": unmapped},
            )
        return self._plain(mapped, clean)


def _reading(rec: dict[str, str], item: str) -> str:
    """The family-name フリガナ belonging to a name item, for 外字同定 candidates."""
    kana_item = KANA_OF.get(item, "")
    if kana_item in rec:
        return full_width_katakana(rec[kana_item].strip(" \u3000"))
    combined = rec.get("full_name_kana", "").strip(" \u3000")
    parts = combined.replace(" ", "\u3000").split("\u3000")
    return full_width_katakana(parts[0]) if combined else ""


_GOOD_CHARS: set[str] = set()  # characters already found in the MJ repertoire (a cache)


def _mj_candidates(unit: str) -> list[str]:
    """MJ characters a person might choose for `unit` (a non-MJ character or IVS sequence):
    the base character and its registered MJ IVS sequences, then its curated 異体字."""
    rep = mj_repertoire()
    base = unit[0]
    out: list[str] = []
    if len(unit) == 2:
        if ord(base) in rep.plain:
            out.append(base)
        out += [base + chr(sel) for sel in sorted(rep.ivs.get(ord(base), ()))]
    key = kanji_key_char(base)
    variants = sorted(v for v, k in curated_variants().items() if k == key and v != base)
    for cand in ([key] if key != base else []) + variants:
        if cand not in out and in_mj_repertoire(cand):
            out.append(cand)
    return out[:10]


def _check_mj(rec: dict[str, str]) -> None:
    """Every character of every item must be in the MJ repertoire (or JIS non-kanji), as the
    standard's checker demands: a vendor 外字 table target that is not MJ, or an IVS sequence
    outside the MJ collection (an Adobe-Japan1 one, say), sends the row to the 外字 worklist
    with MJ candidates instead of into the register."""
    found: list[dict[str, Any]] = []
    for item, value in rec.items():
        if value.isascii() or item.startswith(ORIGINAL) or set(value) <= _GOOD_CHARS:
            continue
        for report in check_repertoire(value):
            if report.cls in (CharClass.MJ, CharClass.JIS):
                _GOOD_CHARS.add(report.text)
            elif report.cls not in (CharClass.MJ_IVS, CharClass.GJ_CANDIDATE):
                found.append(
                    {
                        "item": ITEMS.get(item, item),
                        "field": item,
                        "char": report.text,
                        "sjis": "",
                        "pos": report.index,
                        "text": value,
                        "kana": _reading(rec, item),
                        "class": report.cls.value,
                        "candidates": _mj_candidates(report.text),
                    }
                )
    if found:
        first = found[0]
        kind = (
            "文字情報基盤（MJ）に登録されていない異体字シーケンス"
            if first["class"] == CharClass.IVS_NOT_MJ.value
            else "文字情報基盤（MJ）の範囲外の文字"
        )
        cps = " ".join(f"U+{ord(c):04X}" for c in first["char"])
        raise RowReject(
            "gaiji.not_mj",
            f"{first['item']}の{first['pos'] + 1}文字目（{cps}）は{kind}です。"
            "外字同定の作業リストに載せました（MJの候補つき）。",
            first["item"],
            {"gaiji": found},
        )


# ---------------------------------------------------------------- writing (kikan synth)


class Writer:
    """Writes records in a mapping's layout, vendor 外字 included (the reverse of `Reader`)."""

    def __init__(self, fh: BinaryIO, mapping: Mapping) -> None:
        self.fh = fh
        self.mapping = mapping
        self.reverse: list[tuple[str, str]] = []
        for entry in mapping.gaiji.entries.values():
            native = True
            try:
                entry.to.encode(mapping.encoding)
            except UnicodeEncodeError:
                native = False
            if not native or (mapping.encoding == "utf-8" and entry.sjis is None):
                self.reverse.append((entry.to, entry.pua))
        self.reverse.sort(key=lambda p: -len(p[0]))  # IVS sequences before their base
        self.order = sorted(mapping.fields.values(), key=lambda f: (f.start, f.column))
        if mapping.format == "csv" and mapping.header:
            self._csv_line([f.header or f.item for f in self.order])

    def _to_file_text(self, value: str) -> str:
        for target, pua in self.reverse:
            if target in value:
                value = value.replace(target, pua)
        return value

    def _csv_line(self, values: list[str]) -> None:
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.mapping.delimiter, lineterminator="\r\n").writerow(values)
        self.fh.write(buf.getvalue().encode(self.mapping.encoding))

    def write(self, rec: dict[str, str]) -> None:
        m = self.mapping
        if m.format == "csv":
            self._csv_line([self._to_file_text(rec.get(f.item, "")) for f in self.order])
            return
        line = bytearray(b" " * m.record_length)
        for f in self.order:
            data = self._to_file_text(rec.get(f.item, "")).encode(m.encoding)
            if len(data) > f.length:
                raise ValueError(f"{f.item} does not fit in {f.length} bytes: {len(data)}")
            line[f.start : f.start + len(data)] = data
        self.fh.write(bytes(line) + b"\r\n")
