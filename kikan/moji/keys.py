"""Search keys for names (氏名, フリガナ, 旧氏, 通称): a derived string that makes equal what a
clerk would call the same, while the register keeps the exact original (see ``original.py``).

``search_key(text)`` applies these rules, in this order (every rule is tested):

1. **NFKC** (Unicode compatibility normalization): full-width Latin and digits → ASCII
   (ＡＢＣ１ → ABC1), half-width katakana → full-width with voicing composed (ｶﾞ → ガ),
   compatibility ideographs → unified (神 U+FA19 → 神), ㈱ → (株), ㍻ → 平成, ゟ → より.
   Latin letters are then **case-folded** (Smith = SMITH = smith).
2. **Dropped**: variation selectors (IVS U+E0100–U+E01EF, SVS U+FE00–U+FE0F: the key ignores
   glyph variants), whitespace of every kind, middle dots ・ · • ‧, ゠ = and the punctuation
   . , 、 。 ' ’ (so 山田 太郎 = 山田　太郎 = 山田太郎, ジョン・スミス = ジョンスミス).
   Then NFC, so a kana and a voicing mark that a space separated compose (ウ ゛ → ヴ).
3. **ヴ** is folded to the バ行, together with a following small vowel:
   ヴァ → バ, ヴィ → ビ, ヴゥ → ブ, ヴェ → ベ, ヴォ → ボ, ヴャ/ヴュ/ヴョ → ビャ/ビュ/ビョ,
   ヴ alone → ブ; likewise ゔ and the rare ヷ ヸ ヹ ヺ → バ ビ ベ ボ. (Foreign names are
   registered both ways: ヴィクトル / ビクトル.)
4. **Hiragana → katakana** (かたかな = カタカナ; ゝ ゞ → ヽ ヾ).
5. **Small kana → full size**: ァィゥェォ → アイウエオ, ッ → ツ, ャュョ → ヤユヨ, ヮ → ワ, ヵ → カ,
   ヶ → ケ, the small katakana extensions ㇰ…ㇿ and the historical small kana.
6. **ゐ/ヰ → イ, ゑ/ヱ → エ** (historical kana still found in older names). ヲ, ヂ and ヅ are
   kept as they are: in 現代仮名遣い they are distinct spellings, not variants.
7. **Kanji variants**: the curated names 異体字 table, then MJ縮退 (JIS包摂・UCS統合), see
   ``variants.py`` (髙橋 → 高橋, 𠮷田 → 吉田, 山﨑 → 山崎, 渡邉 → 渡辺).
8. **Iteration marks** are expanded: 々 repeats the preceding kanji (佐々木 = 佐佐木), ヽ the
   preceding kana, ヾ the preceding kana voiced (みすゞ = ミスズ). A mark with nothing suitable
   before it is kept.
9. **Long vowel mark**: ー, and any dash (- ‐ ‒ – — ― − ─) that follows a kana, becomes the
   vowel of that kana (ユーコ = ユウコ, オーノ = オオノ). サトー becomes サトオ, so it does
   not meet サトウ: the vowel a long mark stands for is a reading question we do not guess.
   After ン or anything that is not kana, dashes are dropped (ジャン-ポール = ジャンポール).
10. Finally NFC; if that composes anything (e.g. a combining voicing mark after a small kana
    that rule 5 made full size: ゕ゙ → カ゛ → ガ) the rules run again, so
    ``search_key(search_key(x)) == search_key(x)``.

A key is for finding candidates, never for display or for deciding identity on its own.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from kikan.moji.variants import is_ideograph, kanji_key_char

_SMALL_TO_LARGE = {
    "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ッ": "ツ", "ャ": "ヤ", "ュ": "ユ",
    "ョ": "ヨ", "ヮ": "ワ", "ヵ": "カ", "ヶ": "ケ",
    "ㇰ": "ク", "ㇱ": "シ", "ㇲ": "ス", "ㇳ": "ト", "ㇴ": "ヌ", "ㇵ": "ハ", "ㇶ": "ヒ", "ㇷ": "フ",
    "ㇸ": "ヘ", "ㇹ": "ホ", "ㇺ": "ム", "ㇻ": "ラ", "ㇼ": "リ", "ㇽ": "ル", "ㇾ": "レ", "ㇿ": "ロ",
    "\U0001b132": "コ", "\U0001b155": "コ",  # small ko (hiragana, katakana)
    "\U0001b150": "イ", "\U0001b164": "イ",  # small wi
    "\U0001b151": "エ", "\U0001b165": "エ",  # small we
    "\U0001b152": "ヲ", "\U0001b166": "ヲ",  # small wo
    "\U0001b167": "ン",  # small n
}  # fmt: skip
_OLD_KANA = {"ヰ": "イ", "ヱ": "エ", "ヷ": "バ", "ヸ": "ビ", "ヹ": "ベ", "ヺ": "ボ"}
_SEPARATORS = " \t\n\r\f\v\u3000\u00a0・·•‧゠=.,、。'’"
_DASHES = "-‐‒–—―−─ー"

_VU = {
    "ァ": "バ",
    "ィ": "ビ",
    "ゥ": "ブ",
    "ェ": "ベ",
    "ォ": "ボ",
    "ャ": "ビャ",
    "ュ": "ビュ",
    "ョ": "ビョ",
}
_VU_RE = re.compile("[ヴゔ]([ァィゥェォャュョぁぃぅぇぉゃゅょ]?)")


def _vu(m: re.Match[str]) -> str:
    small = m.group(1)
    if not small:
        return "ブ"
    if "ぁ" <= small <= "ゖ":
        small = chr(ord(small) + 0x60)
    return _VU[small]


class _FoldTable(dict[int, str | None]):
    """str.translate table: static kana/separator rules, kanji variants computed on first use.

    ``__missing__`` runs once per distinct character; the answer is cached in the dict, so the
    common case is one C-level lookup per character.
    """

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        out = kanji_key_char(ch) if is_ideograph(cp) else ch
        self[cp] = out
        return out


_DROP: dict[int, None] = {
    **dict.fromkeys((*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))),
    **dict.fromkeys(map(ord, _SEPARATORS)),
}


def _build_table() -> _FoldTable:
    table = _FoldTable()
    for cp in range(0x3041, 0x3097):  # ぁ … ゖ → ァ … ヶ
        table[cp] = chr(cp + 0x60)
    table[0x309D], table[0x309E] = "ヽ", "ヾ"
    for src, dst in {**_SMALL_TO_LARGE, **_OLD_KANA}.items():
        table[ord(src)] = dst
    # Hiragana that become small katakana must go straight to the large form.
    for cp in range(0x3041, 0x3097):
        kata = chr(cp + 0x60)
        large = _SMALL_TO_LARGE.get(kata) or _OLD_KANA.get(kata)
        if large:
            table[cp] = large
    table[ord("ゐ")], table[ord("ゑ")] = "イ", "エ"
    return table


_TABLE = _build_table()


def _vowel(ch: str) -> str | None:
    """The vowel katakana (ア イ ウ エ オ) a long-vowel mark after ``ch`` stands for."""
    if not ("ア" <= ch <= "ヺ") or ch in "ンッ":
        return None
    name = unicodedata.name(ch, "")
    return {"A": "ア", "I": "イ", "U": "ウ", "E": "エ", "O": "オ"}.get(name[-1:])


_VOWEL = {ch: v for ch in map(chr, range(0x30A1, 0x30FB)) if (v := _vowel(ch))}
_CONTEXT_CHARS = frozenset("々ヽヾ" + _DASHES)
_HAS_CONTEXT_RE = re.compile(f"[々ヽヾ{re.escape(_DASHES)}]")


def _repeat_kana(prev: str, mark: str) -> str | None:
    """ヽ repeats the preceding kana unvoiced, ヾ voiced; None if ``prev`` is not kana."""
    if not ("ァ" <= prev <= "ヺ"):
        return None
    base = unicodedata.normalize("NFD", prev)[0]
    if mark == "ヽ":
        return base
    voiced = unicodedata.normalize("NFC", base + "\u3099")
    if voiced == "ヴ":  # rule 3 applies to the repeated kana too (ウヾ → ウブ)
        return "ブ"
    return voiced if len(voiced) == 1 else base


def _apply_context(text: str) -> str:
    """Rules 8 and 9 in one left-to-right pass, each mark looking at the *output* so far
    (so ア-ヽ gives アアア and running it again changes nothing)."""
    out: list[str] = []
    for ch in text:
        if ch not in _CONTEXT_CHARS:
            out.append(ch)
            continue
        prev = out[-1] if out else ""
        if ch == "々":
            out.append(prev if prev and is_ideograph(ord(prev)) else ch)
        elif ch in "ヽヾ":
            out.append(_repeat_kana(prev, ch) or ch)
        else:  # a dash: the vowel of the preceding kana, or nothing
            vowel = _VOWEL.get(prev)
            if vowel:
                out.append(vowel)
    return "".join(out)


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    folded = s.casefold()
    if folded != s:
        s = unicodedata.normalize("NFKC", folded)
    s = s.translate(_DROP)
    if not unicodedata.is_normalized("NFC", s):
        # A removed space may have separated a kana from a voicing mark (ウ ゛ → ヴ).
        s = unicodedata.normalize("NFC", s)
    if "ヴ" in s or "ゔ" in s:
        s = _VU_RE.sub(_vu, s)
    s = s.translate(_TABLE)
    if _HAS_CONTEXT_RE.search(s):
        s = _apply_context(s)
    return s


@lru_cache(maxsize=65_536)
def search_key(text: str) -> str:
    """The search key of a name or its フリガナ (rules in the module docstring)."""
    key = _fold(text)
    for _ in range(4):
        if unicodedata.is_normalized("NFC", key):
            break
        key = _fold(unicodedata.normalize("NFC", key))
    return key


def fold_chars(text: str) -> str:
    """Rules 2 and 4–7 only (character by character): drop selectors and separators, fold kana
    and kanji. Used by the address key, which treats dashes and numbers itself."""
    return text.translate(_DROP).translate(_TABLE)
