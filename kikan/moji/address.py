"""Offline address normalisation for search and 名寄せ: a key, and the original kept as written.

Why our own: the libraries that normalise Japanese addresses (e.g. Geolonia's
normalize-japanese-addresses) resolve against a town-name database to *correct* an address; we
only need a deterministic key that makes equal what differs in writing, offline, and without
changing what is stored. No library does just that.

``normalize_address(text)`` returns :class:`AddressKey` (``original``, ``key``). Key rules:

1. The original is NFC'd without touching compatibility ideographs or IVS (``original.py``).
2. NFKC (full-width digits/Latin → ASCII, half-width kana → full-width), variation selectors
   dropped, Latin case-folded.
3. Kanji numerals become digits where they are numbers of the address, i.e. before 丁目, 番地,
   番 (not 番町), 号 (not 号室/号棟/号館), 条, 線, 地割, or before/after a connector (の, ノ,
   a hyphen) joined to another number: 一丁目二番三号 → 1丁目2番3号, 二十三番地の四 → 23番地の4.
   Both styles are read: 二十三, 二三 (positional) and 壱弐参拾. Numerals that are part of a
   name stay (八王子, 四日市, 三番町, 五十嵐).
4. Whitespace between two numbers becomes a hyphen (1 2 → 1-2); other whitespace is dropped.
5. After a number, 丁目 / 番地 / 番 / 号 and の / ノ before another number become ``-``; every
   dash-like character next to a digit (‐ - – — ― − ─ ー ｰ －) becomes ``-``; repeated hyphens
   collapse, and a hyphen not followed by a digit is dropped: 1丁目2番地3号, 1-2-3, １－２－３,
   1の2の3 and 一丁目二番三号 all give ``1-2-3``.
6. 大字, 小字 and 字 are dropped, before the number rules (大字山田字下村 = 山田下村). This can
   merge two names that differ only by a 字 inside them; the key proposes candidates, a person
   or other register items decide.
7. Kana and kanji are folded as in name search keys (ひらがな → カタカナ, small kana → full size,
   curated 異体字 and MJ縮退), 々 repeats the preceding kanji, and ケ / ガ between two kanji
   become ケ (霞が関 = 霞ヶ関 = 霞ケ関, 竜ヶ崎 = 龍ケ崎).

方書 (building and room) is a separate register item; we do not parse it. What follows the last
number is kept as it is, after the folding above.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from kikan.calendar.numerals import kanji_to_int
from kikan.moji.keys import fold_chars
from kikan.moji.original import normalize_original
from kikan.moji.variants import is_ideograph

_KNUM = "[〇一二三四五六七八九十百千壱弐参拾]+"
_DASH = "\\-‐‑‒–—―−─ー"
_MARK = r"丁目|番地|番(?!町)|号(?![室棟館])"
_OLD_NUMERALS = str.maketrans("壱弐参拾", "一二三十")

_ANY_KNUM_RE = re.compile(_KNUM)
_BEFORE_MARK_RE = re.compile(f"({_KNUM})(?={_MARK}|条|線|地割)")
_BEFORE_CONNECTOR_RE = re.compile(f"({_KNUM})(?=[のノ{_DASH}](?:\\d|{_KNUM}))")
_AFTER_NUMBER_RE = re.compile(
    f"(\\d(?:{_MARK})?(?:[のノ{_DASH}])?)({_KNUM})(?={_MARK}|[のノ{_DASH}]|\\s|$)"
)
_SPACE_BETWEEN_NUMBERS_RE = re.compile(r"(?<=\d)\s+(?=\d)")
_SPACE_RE = re.compile(r"\s+")
# After a number: 丁目/番地/番/号 (optionally followed by の) or の/ノ before a number → "-".
_NUMBER_MARK_RE = re.compile(f"(\\d)(?:(?:{_MARK})(?:[のノ](?=\\d))?|[のノ](?=\\d))")
# A run of dash-like characters next to a digit → one "-".
_DASH_NEAR_DIGIT_RE = re.compile(f"(?<=\\d)[{_DASH}]+|[{_DASH}]+(?=\\d)")
_LOOSE_HYPHEN_RE = re.compile(r"-(?!\d)")
_AZA_RE = re.compile("大字|小字|字")
_KE_RE = re.compile("(?<=[㐀-鿿豈-﫿])[ケガ](?=[㐀-鿿豈-﫿])")
_ITER_RE = re.compile("(.)々")


@dataclass(frozen=True, slots=True)
class AddressKey:
    """An address as written (``original``) and its search / 名寄せ key."""

    original: str
    key: str


def _to_digits(m: re.Match[str]) -> str:
    run = m.group(m.lastindex or 0)
    value = kanji_to_int(run.translate(_OLD_NUMERALS))
    digits = run if value is None else str(value)
    return m.group(1) + digits if m.lastindex == 2 else digits


def kanji_numbers_to_digits(text: str) -> str:
    """Rule 3: kanji numerals that are address numbers → digits (repeated until stable)."""
    if not _ANY_KNUM_RE.search(text):
        return text
    for _ in range(8):
        before = text
        text = _BEFORE_MARK_RE.sub(_to_digits, text)
        text = _BEFORE_CONNECTOR_RE.sub(_to_digits, text)
        text = _AFTER_NUMBER_RE.sub(_to_digits, text)
        if text == before:
            break
    return text


def _repeat(m: re.Match[str]) -> str:
    prev = m.group(1)
    return prev * 2 if is_ideograph(ord(prev)) else m.group(0)


def _key_once(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).casefold()
    s = _AZA_RE.sub("", s)
    s = kanji_numbers_to_digits(s)
    s = _SPACE_BETWEEN_NUMBERS_RE.sub("-", s)
    s = _SPACE_RE.sub("", s)
    for _ in range(4):  # each rewrite can expose another (1-の2 → 1の2 → 1-2)
        before = s
        s = _NUMBER_MARK_RE.sub(r"\1-", s)
        s = _DASH_NEAR_DIGIT_RE.sub("-", s)
        s = _LOOSE_HYPHEN_RE.sub("", s)
        if s == before:
            break
    s = fold_chars(s)
    s = _ITER_RE.sub(_repeat, s)
    s = _KE_RE.sub("ケ", s)
    return unicodedata.normalize("NFC", s)


@lru_cache(maxsize=65_536)
def address_key(text: str) -> str:
    """The key only (see :func:`normalize_address`).

    The rules are applied until the result no longer changes (a removed 字 or an expanded 々
    can bring a numeral next to a marker), so ``address_key(address_key(x)) == address_key(x)``.
    """
    key = _key_once(text)
    for _ in range(4):
        again = _key_once(key)
        if again == key:
            break
        key = again
    return key


def normalize_address(text: str, *, item: str | None = None) -> AddressKey:
    """The original (NFC, compatibility ideographs and IVS kept) and the key of an address."""
    original = normalize_original(text, item=item)
    return AddressKey(original=original, key=address_key(original))
