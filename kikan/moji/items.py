"""Which characters each class of input item may hold: the one definition of the repertoires.

Why one place: a 住民票 prints names and addresses, and a character that looks like nothing
(zero-width joiner U+200D), reorders what follows (right-to-left override U+202E) or cannot be
stored (NUL, a lone surrogate) lets two entries look equal while differing, or makes a
certificate lie about its own text. Every entry path (API schemas, UI forms, imports through the
same value objects) asks this module, so the rule cannot drift between them.

The classes:

* ``NAME`` — 氏名, フリガナ, 旧氏, 通称, 本籍, 筆頭者: the MJ / 行政事務標準文字 repertoire
  (:mod:`kikan.moji.repertoire`: MJ, registered IVS sequences, JIS X 0213 non-kanji), plus SPUA-B
  (GJ candidates) and vendor 外字 in the Private Use Area, which the 外字 worklist resolves
  (同定) rather than the counter refusing a person's name. An IVS sequence of another IVD
  collection is kept (the worklist reports it), a selector without a base ideograph is not;
* ``KANA`` — フリガナ: the name repertoire plus half-width katakana (U+FF61–U+FF9F), which
  counters and legacy files still type and the search keys fold to full width;
* ``ADDRESS`` — 住所の各項目 (町字, 番地, 方書 …): the same repertoire as names;
* ``LINE`` — other one-line text (番号, 請求者名, 目的, ログインID …): any printable character;
* ``TEXT`` — free text (備考, 理由): printable characters plus tab and line breaks;
* ``SECRET`` — passwords and shared keys: anything but control characters and lone surrogates
  (a secret is hashed, never printed, and refusing its characters would only weaken it).

Refused everywhere (but ``SECRET``): control characters (Cc, except tab/CR/LF in ``TEXT``),
format characters (Cf: bidirectional controls, zero-width joiners and spaces, BOM, tags),
line/paragraph separators (Zl, Zp), unassigned code points and noncharacters (Cn), lone
surrogates (Cs) and variation selectors that do not follow an ideograph.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from kikan.moji.repertoire import CharClass, check_repertoire, is_variation_selector
from kikan.moji.variants import is_ideograph


class ItemClass(StrEnum):
    NAME = "name"
    KANA = "kana"
    ADDRESS = "address"
    LINE = "line"
    TEXT = "text"
    SECRET = "secret"  # noqa: S105 - the name of an item class, not a secret


#: Repertoire of names and addresses (see the module docstring for why 外字 and GJ pass).
NAME_REPERTOIRE = frozenset(
    {
        CharClass.MJ,
        CharClass.MJ_IVS,
        CharClass.IVS_NOT_MJ,
        CharClass.JIS,
        CharClass.GJ_CANDIDATE,
        CharClass.PUA_GAIJI,
    }
)
_REPERTOIRE: dict[ItemClass, frozenset[CharClass]] = {
    ItemClass.NAME: NAME_REPERTOIRE,
    ItemClass.KANA: NAME_REPERTOIRE,
    ItemClass.ADDRESS: NAME_REPERTOIRE,
}


def _half_width_kana(text: str) -> bool:
    return len(text) == 1 and 0xFF61 <= ord(text) <= 0xFF9F


_LINE_BREAKS = frozenset("\t\n\r")
_NEVER = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp", "Cn"})


@dataclass(frozen=True, slots=True)
class UnsafeCharacter:
    """The first character an item may not hold: where, which (as U+XXXX, never the text), why."""

    index: int
    codepoint: str
    reason: str  # control | format | surrogate | unassigned | stray_selector | outside_repertoire

    @property
    def message(self) -> str:
        what = {
            "control": "制御文字",
            "format": "書式制御文字（方向制御・ゼロ幅文字等）",
            "surrogate": "不正な文字（サロゲート）",
            "unassigned": "未割当の文字",
            "stray_selector": "単独の異体字セレクタ",
            "outside_repertoire": "標準の文字の範囲外の文字",
        }[self.reason]
        return f"使用できない{what}（{self.codepoint}）が{self.index + 1}文字目にあります。"


def _reason(ch: str, cls: ItemClass) -> str | None:
    cat = unicodedata.category(ch)
    if cat == "Cs":
        return "surrogate"
    if cat == "Cc":
        return None if cls is ItemClass.TEXT and ch in _LINE_BREAKS else "control"
    if cls is ItemClass.SECRET:
        return None
    if cat in ("Cf", "Zl", "Zp"):
        return "format"
    if cat == "Cn":
        return "unassigned"
    return None


def unsafe_character(text: str, cls: ItemClass) -> UnsafeCharacter | None:
    """The first character of ``text`` that an item of class ``cls`` may not hold, or None.

    Memoised for short texts: pure, and the same names and addresses recur across a city's
    entries; long free text is checked each time rather than kept in the cache."""
    if len(text) > 200:
        return _unsafe_character(text, cls)
    return _cached(text, cls)


@lru_cache(maxsize=65_536)
def _cached(text: str, cls: ItemClass) -> UnsafeCharacter | None:
    return _unsafe_character(text, cls)


def _unsafe_character(text: str, cls: ItemClass) -> UnsafeCharacter | None:
    previous = ""
    for i, ch in enumerate(text):
        cp = ord(ch)
        reason = _reason(ch, cls)
        if (
            reason is None
            and cls is not ItemClass.SECRET
            and is_variation_selector(cp)
            and not (previous and is_ideograph(ord(previous)))
        ):
            reason = "stray_selector"
        if reason:
            return UnsafeCharacter(i, f"U+{cp:04X}", reason)
        previous = "" if is_variation_selector(cp) else ch
    allowed = _REPERTOIRE.get(cls)
    if allowed is not None:
        for report in check_repertoire(text):
            if cls is ItemClass.KANA and _half_width_kana(report.text):
                continue
            if report.cls not in allowed:
                return UnsafeCharacter(report.index, report.codepoints, "outside_repertoire")
    return None
