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
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, Literal

from kikan.migration.records import ITEMS, NAME_ITEMS, Cleansing, RowReject
from kikan.moji import (
    GaijiTable,
    MojiError,
    contains_pua,
    load_gaiji_table,
    map_gaiji,
    parse_gaiji_table,
)

KANA_OF = {
    "family_name": "family_name_kana",
    "given_name": "given_name_kana",
    "hittousha_family": "family_name_kana",
    "hittousha_given": "given_name_kana",
}


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


def load_mapping(path: Path) -> Mapping:  # noqa: PLR0912 - one check per mapping rule
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise MappingError(f"対応表 {path} を読めません（{exc.strerror}）。") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"対応表 {path} の書式が正しくありません（{exc}）。") from None
    src = data.get("source", {})
    fmt = src.get("format")
    enc = src.get("encoding")
    if fmt not in ("fixed", "csv"):
        raise MappingError("対応表の source.format は fixed か csv を指定してください。")
    if enc not in ("cp932", "utf-8"):
        raise MappingError("対応表の source.encoding は cp932 か utf-8 を指定してください。")
    fields: dict[str, FieldSpec] = {}
    for item, spec in data.get("fields", {}).items():
        if item not in ITEMS:
            raise MappingError(f"対応表の項目「{item}」は取込項目にありません。")
        if fmt == "fixed":
            if not isinstance(spec.get("start"), int) or not isinstance(spec.get("length"), int):
                raise MappingError(f"固定長の項目「{item}」には start と length が必要です。")
            fields[item] = FieldSpec(item, start=spec["start"], length=spec["length"])
        else:
            fields[item] = FieldSpec(
                item, column=int(spec.get("index", -1)), header=str(spec.get("column", ""))
            )
    if "household_key" not in fields:
        raise MappingError("対応表に household_key（旧世帯番号）の列がありません。")
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
        if self.mapping.format == "fixed":
            spec = self.mapping.fields["household_key"]
            return raw.data[spec.start : spec.start + spec.length]
        parts = raw.data.split(self.mapping.delimiter.encode())
        idx = self.columns.get("household_key", 0)
        return parts[idx] if idx < len(parts) else b""

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
        """`_clean` for a record without any 外字: trim, vendor codes, defaults."""
        m = self.mapping
        codes = m.codes
        rec: dict[str, str] = {}
        for item, text in texts.items():
            value = text.strip(" \u3000")
            table = codes.get(item)
            if table and value in table:
                value = table[value]
                clean.hit("code.translated")
            rec[item] = value
        for item, default in m.defaults.items():
            if not rec.get(item):
                rec[item] = default
        return rec

    def _clean(self, texts: dict[str, str], clean: Cleansing) -> dict[str, str]:
        """Map 外字 through the vendor table (only when the record holds any), then trim,
        translate vendor codes and fill defaults. An unmapped 外字 rejects the row, with every
        occurrence listed for the worklist."""
        if not contains_pua("".join(texts.values())):  # the usual row: no 外字 anywhere
            return self._plain(texts, clean)
        mapped: dict[str, str] = {}
        unmapped: list[dict[str, Any]] = []
        for item, text in texts.items():
            result = map_gaiji(text.strip(" \u3000"), self.mapping.gaiji)
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
        rec = self._plain(mapped, clean)
        if unmapped:
            for entry in unmapped:
                entry["kana"] = rec.get(KANA_OF.get(entry["field"], ""), "")
            first = unmapped[0]
            where = f"、CP932 {first['sjis']}" if first["sjis"] else ""
            raise RowReject(
                "gaiji.unmapped",
                f"外字表にない外字があります（{first['item']}: {first['char']}{where}）。"
                "外字同定の作業リストに載せました。",
                first["item"],
                {"gaiji": unmapped},
            )
        return rec


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


def names_fit(mapping: Mapping) -> dict[str, int]:
    """Byte widths of the name items (synth keeps generated names within them)."""
    return {i: mapping.fields[i].length for i in NAME_ITEMS if i in mapping.fields}
