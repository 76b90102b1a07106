"""Which characters a string uses: MJ, IVS, JIS non-kanji, 外字 (PUA) or outside every set.

What we can decide (data: the MJ table compiled into jntajis-python, extracted into
``data/mj_repertoire.txt`` by ``_build_mj_repertoire.py``; JIS X 0213 through jntajis' encoder):

* an ideograph is an **MJ character** when its code point is in the MJ文字一覧表;
* an **IVS sequence** is MJ when that exact base + selector is registered for an MJ character
  (the Moji_Joho collection). A sequence of another IVD collection (e.g. Adobe-Japan1 邉 + U+E0101)
  is reported as ``ivs_not_mj`` even when its base character is MJ;
* a non-ideograph is accepted as **JIS** when it is printable ASCII or encodable in
  JIS X 0213 (planes 1 and 2), which is how the 行政事務標準文字 treats 非漢字. Both the
  CP932-style (～ U+FF5E) and the JIS-standard (〜 U+301C) Unicode mappings are accepted;
  half-width katakana (JIS X 0201) are not: they are a legacy width form, not a separate character;
* **PUA** code points are vendor 外字 (BMP PUA U+E000–U+F8FF, SPUA-A plane 15), except that
  the 行政事務標準文字 places its ~10k GJ characters in **SPUA-B** (plane 16, U+100000–U+10FFFD).

What we cannot decide: which SPUA-B code points are assigned GJ characters (their table is not in
jntajis, so SPUA-B is reported as ``gj_candidate``, never as certainly valid), whether a PUA
character of a legacy file is the same glyph as some MJ character (that is 同定, a human task
with a worklist), and whether a glyph in a font matches the MJ glyph.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import jntajis

from kikan.moji.variants import is_ideograph


class CharClass(StrEnum):
    """Classification of one character (or IVS sequence)."""

    MJ = "mj"
    MJ_IVS = "mj_ivs"
    IVS_NOT_MJ = "ivs_not_mj"
    JIS = "jis"
    GJ_CANDIDATE = "gj_candidate"
    PUA_GAIJI = "pua_gaiji"
    OUTSIDE = "outside"


#: Classes that are inside the MJ / 行政事務標準文字 repertoire as far as we can tell.
STANDARD = frozenset({CharClass.MJ, CharClass.MJ_IVS, CharClass.JIS})


@dataclass(frozen=True, slots=True)
class CharReport:
    """One character (with its variation selector, if any) at ``index`` in the input."""

    index: int
    text: str
    cls: CharClass

    @property
    def codepoints(self) -> str:
        return " ".join(f"U+{ord(c):04X}" for c in self.text)


@dataclass(frozen=True, slots=True)
class MJRepertoire:
    """Plain MJ code points and registered IVS sequences."""

    plain: frozenset[int]
    ivs: dict[int, frozenset[int]]

    def __contains__(self, text: object) -> bool:
        if not isinstance(text, str) or not 1 <= len(text) <= 2:
            return False
        base = ord(text[0])
        if len(text) == 1:
            return base in self.plain
        return ord(text[1]) in self.ivs.get(base, frozenset())


@cache
def mj_repertoire() -> MJRepertoire:
    """Load ``data/mj_repertoire.txt`` once."""
    plain: set[int] = set()
    ivs: dict[int, frozenset[int]] = {}
    text = resources.files("kikan.moji").joinpath("data/mj_repertoire.txt").read_text("utf-8")
    for line in text.splitlines():
        if line.startswith("R "):
            lo, _, hi = line[2:].partition("-")
            plain.update(range(int(lo, 16), int(hi or lo, 16) + 1))
        elif line.startswith("V "):
            base, *sels = line[2:].split()
            ivs[int(base, 16)] = frozenset(int(s, 16) for s in sels)
    return MJRepertoire(frozenset(plain), ivs)


def is_variation_selector(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def pua_area(cp: int) -> str | None:
    """ "BMP" (U+E000–F8FF), "SPUA-A" (plane 15) or "SPUA-B" (plane 16), else None."""
    if 0xE000 <= cp <= 0xF8FF:
        return "BMP"
    if 0xF0000 <= cp <= 0xFFFFD:
        return "SPUA-A"
    if 0x100000 <= cp <= 0x10FFFD:
        return "SPUA-B"
    return None


# jntajis maps JIS to Unicode the way CP932 does (1-1-33 → U+FF5E ～). The JIS X 0208/0213
# standard mapping uses these code points instead; both mean the same JIS character.
_JIS_STANDARD_MAPPING = {
    "\u301c": "\uff5e",  # 〜 WAVE DASH
    "\u2212": "\uff0d",  # − MINUS SIGN
    "\u2016": "\u2225",  # ‖ DOUBLE VERTICAL LINE
    "\u2014": "\u2015",  # — EM DASH
    "\u00a2": "\uffe0",  # ¢
    "\u00a3": "\uffe1",  # £
    "\u00ac": "\uffe2",  # ¬
}


@cache
def _jis_x0213(ch: str) -> bool:
    ch = _JIS_STANDARD_MAPPING.get(ch, ch)
    try:
        jntajis.jnta_encode("jis", ch, int(jntajis.ConversionMode.SISO))
    except (UnicodeEncodeError, jntajis.TransliterationError):
        return False
    return True


def _classify(unit: str) -> CharClass:
    cp = ord(unit[0])
    rep = mj_repertoire()
    if len(unit) == 2:
        return CharClass.MJ_IVS if unit in rep else CharClass.IVS_NOT_MJ
    area = pua_area(cp)
    if area is not None:
        return CharClass.GJ_CANDIDATE if area == "SPUA-B" else CharClass.PUA_GAIJI
    if cp in rep.plain:
        return CharClass.MJ
    if not is_ideograph(cp) and (0x20 <= cp <= 0x7E or _jis_x0213(unit)):
        return CharClass.JIS
    return CharClass.OUTSIDE


def _units(text: str) -> list[tuple[int, str]]:
    """Split into characters, keeping a variation selector with its base."""
    out: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        if out and is_variation_selector(ord(ch)) and len(out[-1][1]) == 1:
            out[-1] = (out[-1][0], out[-1][1] + ch)
        else:
            out.append((i, ch))
    return out


def check_repertoire(text: str) -> list[CharReport]:
    """Classify every character (IVS sequences as one unit) of ``text``."""
    return [CharReport(i, unit, _classify(unit)) for i, unit in _units(text)]


def outside_repertoire(text: str, *, allow_gj: bool = False) -> list[CharReport]:
    """The characters that are not (or not certainly) in the standard repertoire."""
    allowed = STANDARD | {CharClass.GJ_CANDIDATE} if allow_gj else STANDARD
    return [r for r in check_repertoire(text) if r.cls not in allowed]


def in_mj_repertoire(text: str, *, allow_gj: bool = False) -> bool:
    """True if every character is MJ, a registered MJ IVS sequence or JIS non-kanji.

    ``allow_gj=True`` also accepts SPUA-B code points (行政事務標準文字 GJ characters), which
    we can only take on trust: see the module docstring.
    """
    return not outside_repertoire(text, allow_gj=allow_gj)


@dataclass(frozen=True, slots=True)
class GaijiHit:
    """A private-use character: its index in the text, the character and the PUA area."""

    index: int
    char: str
    area: str


def find_gaiji(text: str, *, include_spua_b: bool = True) -> list[GaijiHit]:
    """Every Private Use Area character (vendor 外字; SPUA-B too unless excluded)."""
    hits = []
    for i, ch in enumerate(text):
        area = pua_area(ord(ch))
        if area is not None and (include_spua_b or area != "SPUA-B"):
            hits.append(GaijiHit(i, ch, area))
    return hits
