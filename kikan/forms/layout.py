"""Layouts and the 帳票ID registry: TOML data under ``kikan/forms/data``, checked when loaded.

Why data: 帳票IDs and form designs change with the standard's revisions and differ in small ways
between municipalities' printers; a revision should be a data change plus tests
(ARCHITECTURE.md principle 3). Every check here fails with a message naming the file and the key.

Coordinates are millimetres from the top-left corner of an A4 sheet; font sizes are points.
A layout has four parts:

* ``[furniture]`` — boxes printed on every page: ``title``, ``form_id`` (帳票ID), ``page_number``
  ("1 / 2") and ``issue_number`` (発行番号);
* ``[header]`` — rows of fields from ``FormDocument.header`` (e.g. 住所, 世帯主), on every page;
* ``[entries]`` — rows of fields repeated for each entry (e.g. each household member), flowing
  over as many pages as needed between the header and ``bottom``;
* ``[certification]`` — the 認証文, 発行日, 認証者 and 公印 block, on the last page only.

A row holds fields side by side; a field is a label cell (``label_w`` wide) and a value cell.
A row may grow taller (``grow = true``) when a value needs more lines than its nominal height.
A header field may be an image (``kind = "image"``, optional ``pad`` in mm): its value cell holds
the picture given in ``FormDocument.images`` under the field's key, scaled to fit (aspect kept,
centred, never beyond the cell less ``pad``; ``kikan.forms.image``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from kikan.forms.errors import FormDataError

A4_PORTRAIT = (210.0, 297.0)
LAYOUT_FORMAT = 1
REGISTRY_FORMAT = 1
MAX_SEAL_MM = 25.0  # spec 5.6: 電子公印は最大25mm角
MIN_FONT_PT = 4.0

Align = Literal["L", "C", "R"]
_ALIGNS = ("L", "C", "R")
FieldKind = Literal["text", "image"]
_KINDS = ("text", "image")
_FORM_ID = re.compile(r"\d{7}")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Box:
    """A fixed box: position, size and font size range (furniture and certification slots)."""

    x: float
    y: float
    w: float
    h: float
    size: float
    min_size: float
    align: Align


@dataclass(frozen=True)
class FieldSpec:
    """One labelled value cell in a row."""

    field: str
    label: str
    w: float
    label_w: float
    size: float
    min_size: float
    align: Align
    wrap: bool
    kind: FieldKind = "text"
    pad: float = 0.0  # image fields: mm kept free inside the value cell on each side

    @property
    def value_w(self) -> float:
        return self.w - self.label_w


@dataclass(frozen=True)
class Row:
    h: float
    grow: bool
    fields: tuple[FieldSpec, ...]
    #: left out of an entry (or the header) whose values for all its fields are empty: items a
    #: person does not have (旧氏, 在留資格) or the requester left out (個人番号) take no space
    omit_empty: bool = False


@dataclass(frozen=True)
class Section:
    """Rows stacked from ``y`` (header) or from the header's bottom (entries) down."""

    x: float
    y: float
    width: float
    label_size: float
    rows: tuple[Row, ...]
    bottom: float  # entries: lowest y an entry may reach; header: unused (page bottom)
    gap: float

    @property
    def nominal_height(self) -> float:
        return sum(r.h for r in self.rows)

    def field_keys(self) -> frozenset[str]:
        return frozenset(f.field for r in self.rows for f in r.fields)

    def image_keys(self) -> frozenset[str]:
        return frozenset(f.field for r in self.rows for f in r.fields if f.kind == "image")


@dataclass(frozen=True)
class Certification:
    """Where the 認証文 block goes on the last page (relative to its own top-left corner)."""

    x: float
    width: float
    height: float
    text: Box
    issue_date: Box
    certifier: Box
    notice: Box
    seal_mm: float


@dataclass(frozen=True)
class Layout:
    name: str
    source: str
    page_w: float
    page_h: float
    margin: float
    title: Box
    form_id: Box
    page_number: Box
    issue_number: Box
    header: Section
    entries: Section
    certification: Certification


@dataclass(frozen=True)
class FormEntry:
    """One line of the 帳票ID registry."""

    form_id: str
    name: str
    title: str
    layout_file: str
    version: str
    confidence: str
    note: str


@dataclass(frozen=True)
class Registry:
    forms: Mapping[str, FormEntry]
    source: str


# --------------------------------------------------------------------------- reading values


class _Reader:
    """Typed access to a TOML table that reports the file and key path on every error."""

    def __init__(self, source: str, data: Mapping[str, Any], where: str = "") -> None:
        self.source = source
        self.data = data
        self.where = where

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> FormDataError:
        return FormDataError(self.source, self._path(key), problem)

    def table(self, key: str) -> _Reader:
        value = self.data.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "missing table" if value is None else "must be a table")
        return _Reader(self.source, value, self._path(key))

    def tables(self, key: str) -> list[_Reader]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty array of tables")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", "must be a table")
            out.append(_Reader(self.source, item, self._path(f"{key}[{i}]")))
        return out

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(key, "must be a non-empty string")
        return value

    def number(self, key: str, default: float | None = None, *, lo: float = 0.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number" if key in self.data else "is required")
        if value < lo:
            raise self.fail(key, f"must be ≥ {lo} (got {value})")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def align(self, key: str, default: Align) -> Align:
        value = self.data.get(key, default)
        if value not in _ALIGNS:
            raise self.fail(key, f"must be one of {', '.join(_ALIGNS)} (got {value!r})")
        return value  # type: ignore[no-any-return]

    def unknown_keys(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            raise self.fail(extra[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _sizes(r: _Reader) -> tuple[float, float]:
    size = r.number("size", lo=MIN_FONT_PT)
    min_size = r.number("min_size", size, lo=MIN_FONT_PT)
    if min_size > size:
        raise r.fail("min_size", f"must not exceed size ({min_size} > {size})")
    return size, min_size


def _box(r: _Reader, *, relative: bool = False) -> Box:
    keys = {"x", "y", "w", "h", "size", "min_size", "align"}
    r.unknown_keys(keys)
    size, min_size = _sizes(r)
    return Box(
        x=r.number("x", 0.0 if relative else None),
        y=r.number("y", 0.0 if relative else None),
        w=r.number("w", 0.0 if relative else None),
        h=r.number("h", lo=1.0),
        size=size,
        min_size=min_size,
        align=r.align("align", "L"),
    )


def _within_page(r: _Reader, key: str, box: Box, page_w: float, page_h: float) -> None:
    if box.x + box.w > page_w + 1e-6 or box.y + box.h > page_h + 1e-6:
        raise r.fail(key, f"lies outside the {page_w:g}×{page_h:g} mm page")


def _field(fr: _Reader, *, kind: str, row_h: float, seen: set[str]) -> FieldSpec:
    """One field of a row: a text cell (font sizes, alignment, wrapping) or an image cell."""
    field_kind = fr.data.get("kind", "text")
    if field_kind not in _KINDS:
        raise fr.fail("kind", f"must be one of {', '.join(_KINDS)} (got {field_kind!r})")
    if field_kind == "image":
        # an image has no font size, alignment or wrapping: refuse them, not ignore them
        fr.unknown_keys({"field", "label", "w", "label_w", "kind", "pad"})
        if kind != "header":
            raise fr.fail("kind", "image fields are allowed in [header] only")
    else:
        fr.unknown_keys(
            {"field", "label", "w", "label_w", "size", "min_size", "align", "wrap", "kind"}
        )
    key = fr.text("field")
    if not _FIELD_KEY.fullmatch(key):
        raise fr.fail("field", f"must be a lower_snake_case key (got {key!r})")
    if key in seen:
        raise fr.fail("field", f"field {key!r} appears twice in [{kind}]")
    seen.add(key)
    size, min_size = _sizes(fr) if field_kind == "text" else (MIN_FONT_PT, MIN_FONT_PT)
    label = fr.text("label", "")
    label_w = fr.number("label_w", 0.0)
    w = fr.number("w", lo=1.0)
    if label and label_w <= 0:
        raise fr.fail("label_w", "a labelled field needs label_w > 0")
    if label_w >= w:
        raise fr.fail("label_w", f"label_w ({label_w:g}) must be less than w ({w:g})")
    pad = fr.number("pad", 0.0)
    if field_kind == "image" and (2 * pad >= w - label_w or 2 * pad >= row_h):
        raise fr.fail("pad", f"leaves no room for the image ({pad:g} mm on each side)")
    return FieldSpec(
        field=key,
        label=label,
        w=w,
        label_w=label_w,
        size=size,
        min_size=min_size,
        align=fr.align("align", "L"),
        wrap=fr.flag("wrap", True),
        kind=field_kind,
        pad=pad,
    )


def _section(r: _Reader, *, kind: str, page_w: float, page_h: float) -> Section:
    allowed = {"x", "y", "width", "label_size", "rows", "bottom", "gap"}
    r.unknown_keys(allowed)
    x = r.number("x")
    width = r.number("width", lo=1.0)
    if x + width > page_w + 1e-6:
        raise r.fail("width", f"x + width = {x + width:g} mm exceeds the page width {page_w:g}")
    rows: list[Row] = []
    seen: set[str] = set()
    for rr in r.tables("rows"):
        rr.unknown_keys({"h", "grow", "fields", "omit_empty"})
        row_h = rr.number("h", lo=2.0)
        fields = [_field(fr, kind=kind, row_h=row_h, seen=seen) for fr in rr.tables("fields")]
        total = sum(f.w for f in fields)
        if total > width + 1e-6:
            raise rr.fail("fields", f"field widths add up to {total:g} mm > width {width:g}")
        rows.append(
            Row(
                h=row_h,
                grow=rr.flag("grow", True),
                fields=tuple(fields),
                omit_empty=rr.flag("omit_empty", False),
            )
        )
    y = r.number("y", 0.0)
    bottom = r.number("bottom", page_h)
    if bottom > page_h:
        raise r.fail("bottom", f"must be within the page height {page_h:g}")
    return Section(
        x=x,
        y=y,
        width=width,
        label_size=r.number("label_size", 8.0, lo=MIN_FONT_PT),
        rows=tuple(rows),
        bottom=bottom,
        gap=r.number("gap", 0.0),
    )


def parse_layout(data: Mapping[str, Any], source: str) -> Layout:
    """Check and build a layout from parsed TOML; ``source`` names the file in errors."""
    r = _Reader(source, data)
    r.unknown_keys(
        {"format", "name", "orientation", "margin", "furniture", "header", "entries",
         "certification"}
    )  # fmt: skip
    if data.get("format") != LAYOUT_FORMAT:
        raise r.fail("format", f"must be {LAYOUT_FORMAT} (got {data.get('format')!r})")
    orientation = r.text("orientation", "portrait")
    if orientation not in ("portrait", "landscape"):
        raise r.fail("orientation", "must be portrait or landscape")
    page_w, page_h = A4_PORTRAIT if orientation == "portrait" else A4_PORTRAIT[::-1]
    furn = r.table("furniture")
    furn.unknown_keys({"title", "form_id", "page_number", "issue_number"})
    boxes = {k: _box(furn.table(k)) for k in ("title", "form_id", "page_number", "issue_number")}
    for key, box in boxes.items():
        _within_page(furn, key, box, page_w, page_h)
    header = _section(r.table("header"), kind="header", page_w=page_w, page_h=page_h)
    entries = _section(r.table("entries"), kind="entries", page_w=page_w, page_h=page_h)
    both = header.field_keys() & entries.field_keys()
    if both:
        raise r.fail("entries", f"fields also in [header]: {', '.join(sorted(both))}")
    cr = r.table("certification")
    cr.unknown_keys({"x", "width", "height", "text", "issue_date", "certifier", "notice", "seal"})
    seal = cr.table("seal")
    seal.unknown_keys({"size"})
    seal_mm = seal.number("size", lo=5.0)
    if seal_mm > MAX_SEAL_MM:
        raise seal.fail("size", f"電子公印は最大{MAX_SEAL_MM:g}mm角 (spec 5.6); got {seal_mm:g}")
    cert = Certification(
        x=cr.number("x"),
        width=cr.number("width", lo=10.0),
        height=cr.number("height", lo=10.0),
        text=_box(cr.table("text"), relative=True),
        issue_date=_box(cr.table("issue_date"), relative=True),
        certifier=_box(cr.table("certifier"), relative=True),
        notice=_box(cr.table("notice"), relative=True),
        seal_mm=seal_mm,
    )
    used = sum(b.h for b in (cert.text, cert.issue_date, cert.certifier, cert.notice))
    if used > cert.height + 1e-6:
        raise cr.fail("height", f"its parts need {used:g} mm > height {cert.height:g}")
    min_body = header.y + header.nominal_height + entries.nominal_height + cert.height
    if min_body > entries.bottom:
        raise r.fail(
            "entries.bottom",
            f"a page cannot hold the header, one entry and the certification ({min_body:g} mm)",
        )
    return Layout(
        name=r.text("name"),
        source=source,
        page_w=page_w,
        page_h=page_h,
        margin=r.number("margin", 10.0),
        title=boxes["title"],
        form_id=boxes["form_id"],
        page_number=boxes["page_number"],
        issue_number=boxes["issue_number"],
        header=header,
        entries=entries,
        certification=cert,
    )


def _read_toml(path: Path | Any, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FormDataError(source, "", "file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise FormDataError(source, "", f"not valid TOML: {exc}") from exc


def load_layout(path: Path) -> Layout:
    """Read and check one layout file."""
    return parse_layout(_read_toml(path, path.name), path.name)


def parse_registry(data: Mapping[str, Any], source: str) -> Registry:
    """Check and build the 帳票ID registry from parsed TOML."""
    r = _Reader(source, data)
    r.unknown_keys({"format", "forms"})
    if data.get("format") != REGISTRY_FORMAT:
        raise r.fail("format", f"must be {REGISTRY_FORMAT} (got {data.get('format')!r})")
    forms: dict[str, FormEntry] = {}
    for fr in r.tables("forms"):
        fr.unknown_keys({"id", "name", "title", "layout", "version", "confidence", "note"})
        form_id = fr.text("id")
        if not _FORM_ID.fullmatch(form_id):
            raise fr.fail("id", f"帳票ID must be 7 digits (got {form_id!r})")
        if form_id in forms:
            raise fr.fail("id", f"帳票ID {form_id} is listed twice")
        confidence = fr.text("confidence")
        if confidence not in ("low", "medium", "high"):
            raise fr.fail("confidence", "must be low, medium or high")
        layout_file = fr.text("layout")
        if "/" in layout_file or "\\" in layout_file or not layout_file.endswith(".toml"):
            raise fr.fail("layout", "must be a .toml file name in data/layouts")
        forms[form_id] = FormEntry(
            form_id=form_id,
            name=fr.text("name"),
            title=fr.text("title"),
            layout_file=layout_file,
            version=fr.text("version"),
            confidence=confidence,
            note=fr.text("note", ""),
        )
    return Registry(forms=forms, source=source)


def _data_dir() -> Any:
    return resources.files("kikan.forms") / "data"


def load_registry(data_dir: Path | None = None) -> Registry:
    """Read the registry and check that every layout it names exists and loads."""
    base = data_dir if data_dir is not None else _data_dir()
    registry = parse_registry(_read_toml(base / "registry.toml", "registry.toml"), "registry.toml")
    for entry in registry.forms.values():
        load_layout_file(entry.layout_file, base)
    return registry


def load_layout_file(name: str, data_dir: Path | None = None) -> Layout:
    base = data_dir if data_dir is not None else _data_dir()
    return parse_layout(_read_toml(base / "layouts" / name, name), name)


@cache
def default_registry() -> Registry:
    """The bundled registry, loaded and checked once per process (immutable afterwards)."""
    return load_registry()


@cache
def bundled_layout(name: str) -> Layout:
    return load_layout_file(name)
