"""IPAmj明朝 parsed once per process and attached to each document without re-parsing.

Why this module exists: ``FPDF.add_font`` parses IPAmj明朝 (46 MB, 61,179 glyphs) in ~0.4 s, and
fpdf2's output step then subsets the font *in place* (fontTools ``Subsetter.subset``) and closes
it. A parsed ``TTFFont`` therefore cannot simply be shared between documents: the first output
would destroy it, and two threads would race on it. What we do instead:

* **Shared, immutable, built once** (``SharedFont``, under a lock): the font file bytes; the
  character maps and widths fpdf2 derives in ``TTFFont.__init__`` (``cmap``, ``glyph_ids``, ``cw``);
  the glyph order; the raw bytes of every glyph outline and the horizontal metrics, split out of
  ``glyf``/``hmtx`` once; a HarfBuzz face; the set of supported IVS sequences.
* **Per document, cheap** (``attach_font``): a new ``TTFFont`` object whose fontTools ``TTFont`` is
  opened lazily over the shared bytes (no file handle), with ``glyf``/``hmtx``/``cmap``/``post``
  tables injected from the shared data so the subsetter never decompiles the whole font again;
  its own ``SubsetMap``, font descriptor copy, missing-glyph list and HarfBuzz font (fpdf2 sets
  ``ptem`` on it before each shaping call, so it must not be shared).

This relies on fpdf2 2.8 internals (``TTFFont`` attributes, ``FPDF.fonts``). The tests render,
extract and count parses, so an fpdf2 upgrade that changes them fails loudly, not silently.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

import uharfbuzz as hb
from fontTools import ttLib
from fontTools.ttLib import newTable
from fontTools.ttLib.tables._c_m_a_p import cmap_format_4
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fpdf import FPDF
from fpdf.fonts import HarfBuzzFont, SubsetMap, TTFFont

DEFAULT_FONT_PATH = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
FONT_FAMILY = "ipamj"

_VS_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


def is_variation_selector(cp: int) -> bool:
    """True for the variation selectors (standard VS1–16 and the IVS range VS17–256)."""
    return any(lo <= cp <= hi for lo, hi in _VS_RANGES)


class _Widths(dict[int, float]):
    """Character widths that answer unknown characters without storing them.

    fpdf2 uses a ``defaultdict`` here, whose *reads* insert keys: a write to shared state on every
    lookup of a character the font lacks. This dict gives the default and stays unchanged.
    """

    def __init__(self, data: Mapping[int, float], default: float) -> None:
        super().__init__(data)
        self.default = default

    def __missing__(self, key: int) -> float:
        return self.default


class _LazyGlyphs(dict[str, Glyph]):
    """A document's ``glyf`` glyphs, made on first use from outline bytes shared read-only.

    Making all 61,179 ``Glyph`` objects per document costs ~0.1 s; the subsetter only looks up
    the glyphs a document uses (and their components), by ``in`` and ``[]``.
    """

    def __init__(self, raw: Mapping[str, bytes]) -> None:
        super().__init__()
        self._raw = raw

    def __missing__(self, name: str) -> Glyph:
        glyph = Glyph(self._raw[name])
        self[name] = glyph
        return glyph

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in self._raw


class _DocumentSubsetMap(SubsetMap):
    """fpdf2's subset map with zero-width variation-selector glyphs.

    HarfBuzz keeps an IVS selector as its own cluster drawn with the font's space glyph at zero
    advance; fpdf2 records that glyph with the space's width (290/1000 in IPAmj明朝) in the PDF
    ``/W`` array. Text extractors (poppler) then believe the selector covers the gap where the
    following real space is, and drop that space: "渡邉󠄁 太郎" came out as "渡邉󠄁太郎". Declaring
    the selector's width 0, as drawn, keeps the following space.
    """

    # fpdf2 calls ``get_glyph.cache_clear()`` after output, so the override must be cached too;
    # the cache is emptied at the end of every document, so it does not keep documents alive.
    @cache  # noqa: B019
    def get_glyph(
        self,
        glyph: int | None = None,
        unicode: int | tuple[int, ...] | None = None,
        glyph_name: str | None = None,
        glyph_width: int | None = None,
    ) -> Any:
        if (
            isinstance(unicode, tuple)
            and unicode
            and all(is_variation_selector(cp) for cp in unicode)
        ):
            glyph_width = 0
        return super().get_glyph(glyph, unicode, glyph_name, glyph_width)


@dataclass(frozen=True, eq=False)
class SharedFont:
    """Everything about the font that documents may share; never mutated after ``load``."""

    path: Path
    data: bytes
    template: TTFFont  # its ttfont is closed; only immutable attributes are copied from it
    cmap: dict[int, str]  # typed as fpdf2 expects; never mutated
    glyph_ids: dict[int, int]
    widths: _Widths
    glyph_order: tuple[str, ...]
    raw_glyphs: Mapping[str, bytes]
    metrics: Mapping[str, tuple[int, int]]
    post_header: Mapping[str, Any]
    hb_face: hb.Face
    ivs: frozenset[tuple[int, int]]

    def has_char(self, cp: int) -> bool:
        return cp in self.cmap

    def has_ivs(self, base: int, selector: int) -> bool:
        return (base, selector) in self.ivs


@lru_cache(maxsize=65_536)
def shapes_as_mapped(shared: SharedFont, text: str) -> bool:
    """True when HarfBuzz would draw ``text`` exactly as the font's character map does: one
    glyph per character, in order, each the cmap's glyph at its nominal advance, no offsets.

    Why: fpdf2's shaping path (bidi paragraph, HarfBuzz, fragments) costs about six times the
    plain path per cell, and most certificate text (kanji, kana, digits) shapes to exactly the
    cmap glyphs. Such a line may be drawn without shaping and comes out identical (same glyph
    ids, same advances: fpdf2 rounds both paths' widths the same way). Anything else — an IVS,
    a combining mark, a ligature, a right-to-left run, a character the font lacks — keeps
    shaping. Decided once per font and string (HarfBuzz itself answers, not a list of ours);
    the cache holds the font itself, so a font parsed again never meets a stale answer.
    """
    return _shapes_as_mapped(shared, text)


def _shapes_as_mapped(shared: SharedFont, text: str) -> bool:
    if not text:
        return True
    gids = [shared.glyph_ids.get(ord(ch), 0) for ch in text]
    if 0 in gids or any(ch.isspace() for ch in text):
        return False
    buf = hb.Buffer()
    buf.cluster_level = 1
    buf.add_str(text)
    buf.guess_segment_properties()
    if buf.direction != "ltr":
        return False
    hb.shape(hb.Font(shared.hb_face), buf, {})
    infos, positions = buf.glyph_infos, buf.glyph_positions
    return len(infos) == len(text) and all(
        info.cluster == i
        and info.codepoint == gids[i]
        and (pos.x_advance, pos.y_advance, pos.x_offset, pos.y_offset)
        == (shared.metrics[shared.glyph_order[info.codepoint]][0], 0, 0, 0)
        for i, (info, pos) in enumerate(zip(infos, positions, strict=True))
    )


# The attributes of fpdf2's TTFFont that are plain values, computed once from the font file.
_IMMUTABLE_ATTRS = (
    "type",
    "name",
    "sp",
    "ss",
    "up",
    "ut",
    "ttffile",
    "fontkey",
    "emphasis",
    "scale",
    "unicode_range",
    "palette_index",
    "is_compressed",
    "is_cff",
    "is_cid_keyed",
    "is_symbol",
    "cff_ros",
    "collection_font_number",
)

_lock = threading.Lock()
_cache: dict[Path, SharedFont] = {}
_load_count = 0


def load_count() -> int:
    """How many times a font was parsed in this process (tests check the cache with it)."""
    return _load_count


def shared_font(path: Path = DEFAULT_FONT_PATH) -> SharedFont:
    """The process-wide parsed font for ``path``; parsed on first use, under a lock."""
    font = _cache.get(path)
    if font is not None:
        return font
    with _lock:
        font = _cache.get(path)
        if font is None:
            font = _parse(path)
            _cache[path] = font
        return font


def clear_cache() -> None:
    """Forget parsed fonts (tests and benchmarks measure a cold start with it)."""
    with _lock:
        _cache.clear()


def _parse(path: Path) -> SharedFont:
    global _load_count  # noqa: PLW0603 - a process-wide counter is the point
    _load_count += 1
    if not path.is_file():
        raise FileNotFoundError(
            f"font not found: {path} (install the Debian package fonts-ipamj-mincho)"
        )
    data = path.read_bytes()
    scratch = FPDF()
    scratch.add_font(FONT_FAMILY, fname=str(path))
    template = scratch.fonts[FONT_FAMILY]
    assert isinstance(template, TTFFont)
    tt = template.ttfont
    glyph_order = tuple(tt.getGlyphOrder())
    glyf = tt["glyf"]
    raw_glyphs = {name: getattr(glyf.glyphs[name], "data", b"") or b"" for name in glyph_order}
    metrics = dict(tt["hmtx"].metrics)
    post = tt["post"]
    post_header = {
        "italicAngle": post.italicAngle,
        "underlinePosition": post.underlinePosition,
        "underlineThickness": post.underlineThickness,
        "isFixedPitch": post.isFixedPitch,
        "minMemType42": 0,
        "maxMemType42": 0,
        "minMemType1": 0,
        "maxMemType1": 0,
    }
    ivs: set[tuple[int, int]] = set()
    uvs_table = tt["cmap"].getcmap(0, 5)
    if uvs_table is not None:
        for selector, pairs in uvs_table.uvsDict.items():
            ivs.update((base, selector) for base, _glyph in pairs)
    default_width = template.desc.missing_width
    widths = _Widths(template.cw, default_width)
    template.close()
    return SharedFont(
        path=path,
        data=data,
        template=template,
        cmap=dict(template.cmap),
        glyph_ids=dict(template.glyph_ids),
        widths=widths,
        glyph_order=glyph_order,
        raw_glyphs=raw_glyphs,
        metrics=metrics,
        post_header=post_header,
        hb_face=hb.Face(hb.Blob(data)),
        ivs=frozenset(ivs),
    )


def _document_ttfont(shared: SharedFont) -> ttLib.TTFont:
    """A fontTools font private to one document, cheap to make and safe to subset in place."""
    # recalcBBoxes=False: the outlines are copied unchanged from the full font, so their bounding
    # boxes are already right; recalculating them made fontTools decompile and recompile every
    # used glyph (about half of a certificate's render time, issue 24). The full font's head/hhea/
    # maxp bounds stay valid for the subset (they bound a superset of its glyphs).
    tt = ttLib.TTFont(BytesIO(shared.data), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    tt.setGlyphOrder(list(shared.glyph_order))
    glyf = newTable("glyf")
    glyf.glyphOrder = list(shared.glyph_order)
    glyf.glyphs = _LazyGlyphs(shared.raw_glyphs)
    glyf._reverseGlyphOrder = {}
    tt.tables["glyf"] = glyf
    hmtx = newTable("hmtx")
    hmtx.metrics = dict(shared.metrics)
    tt.tables["hmtx"] = hmtx
    # The embedded subset is addressed by glyph id (Identity-H) and extracted through the
    # ToUnicode map fpdf2 writes, so it needs no real cmap and no glyph names; a one-entry cmap
    # and a format 3 post table spare the subsetter decompiling 54,578 + 61,179 entries.
    space = cmap_format_4(4)
    space.platformID, space.platEncID, space.language = 3, 1, 0
    space.cmap = {0x20: shared.cmap[0x20]} if 0x20 in shared.cmap else {}
    cmap = newTable("cmap")
    cmap.tableVersion = 0
    cmap.tables = [space]
    tt.tables["cmap"] = cmap
    post = newTable("post")
    post.formatType = 3.0
    for key, value in shared.post_header.items():
        setattr(post, key, value)
    tt.tables["post"] = post
    for tag in ("vhea", "vmtx", "BASE", "GSUB", "GPOS", "GDEF"):
        if tag in tt:
            del tt[tag]
    return tt


def attach_font(pdf: FPDF, shared: SharedFont) -> None:
    """Give ``pdf`` the shared font as family ``FONT_FAMILY`` (the equivalent of ``add_font``)."""
    font = TTFFont.__new__(TTFFont)
    for attr in _IMMUTABLE_ATTRS:
        if hasattr(shared.template, attr):
            setattr(font, attr, getattr(shared.template, attr))
    font.i = len(pdf.fonts) + 1
    font.cmap = shared.cmap
    font.glyph_ids = shared.glyph_ids
    font.cw = shared.widths
    font.desc = copy.copy(shared.template.desc)  # output writes the object id and name into it
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.color_font = None
    font.ttfont = _document_ttfont(shared)
    font._hbfont = HarfBuzzFont(shared.hb_face)
    font.subset = _DocumentSubsetMap(font)
    pdf.fonts[FONT_FAMILY] = font
