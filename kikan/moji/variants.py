"""Kanji variant folding for search keys: MJ 縮退 (JIS包摂・UCS統合) plus a curated names table.

Two sources, applied per character until nothing changes:

1. ``data/name_variants.toml``: a curated 異体字 table for names (﨑 → 崎, 邉/邊 → 辺, 濱 → 浜 …).
   Each entry is also backed by the MJ縮退マップ's 戸籍法関連通達 scheme (a test checks this),
   so the table only *selects* official mappings, it never invents one.
2. jntajis ``mj_shrink_candidates`` with the JIS包摂規準・UCS統合規則 scheme only (髙 → 高,
   𠮷 → 吉: 309 MJ characters), the first candidate that differs from the input.

Why not all MJ縮退 schemes: the 戸籍法関連通達 scheme maps ~12,000 characters, including 誤字 to
正字 targets such as 𢒧 → 馬 that are too broad for a key used to merge people (名寄せ), and the
告示582号 scheme maps e.g. 㐄 → 牛/井. A deployment that wants more adds reviewed lines to the
curated table.
"""

from __future__ import annotations

import tomllib
import unicodedata
from functools import cache
from importlib import resources
from typing import Any

import jntajis

from kikan.moji.errors import MojiError

#: The MJ縮退 scheme used for search keys.
MJ_SCHEME = int(jntajis.MJShrinkSchemeCombo.JIS_INCORPORATION_UCS_UNIFICATION_RULE)

_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs (unified ones among them, e.g. 﨑)
    (0x20000, 0x323AF),  # Extensions B–H
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
)


def is_ideograph(cp: int) -> bool:
    """True for code points in the CJK ideograph blocks (where 縮退 and 異体字 apply)."""
    return any(lo <= cp <= hi for lo, hi in _IDEOGRAPH_RANGES)


def parse_variant_table(data: dict[str, Any]) -> dict[str, str]:
    """Validate the curated table: single characters, ideographs, no chains (a → b → c)."""
    table = data.get("variants")
    if not isinstance(table, dict) or "version" not in data:
        raise MojiError("invalid_variant_table", "異体字表の形式が正しくありません")
    out: dict[str, str] = {}
    for src, dst in table.items():
        if not (isinstance(dst, str) and len(src) == 1 and len(dst) == 1):
            raise MojiError(
                "invalid_variant_table", f"異体字表の「{src}」は1文字ずつにしてください"
            )
        if not (is_ideograph(ord(src)) and is_ideograph(ord(dst))) or src == dst:
            raise MojiError("invalid_variant_table", f"異体字表の「{src}」→「{dst}」は使えません")
        out[src] = dst
    chained = sorted(set(out) & set(out.values()))
    if chained:
        raise MojiError("invalid_variant_table", f"異体字表で連鎖しています：{''.join(chained)}")
    return out


@cache
def curated_variants() -> dict[str, str]:
    """The bundled curated names table (variant → key character)."""
    text = resources.files("kikan.moji").joinpath("data/name_variants.toml").read_text("utf-8")
    return parse_variant_table(tomllib.loads(text))


def mj_shrink(char: str) -> str:
    """The MJ縮退 (JIS包摂・UCS統合) target of one character, or the character itself."""
    for cand in jntajis.mj_shrink_candidates(char, MJ_SCHEME, 8):
        folded = unicodedata.normalize("NFKC", cand)
        if folded != char and len(folded) == 1:
            return folded
    return char


def _step(char: str) -> str:
    return curated_variants().get(char) or mj_shrink(char)


def kanji_key_char(char: str) -> str:
    """Fold one ideograph to its key character (fixpoint of curated table then MJ縮退).

    If the mappings ever form a cycle the smallest code point of the cycle is used, so the
    result is stable (key_char(key_char(c)) == key_char(c)) whatever the data says.
    """
    seen = [char]
    current = char
    for _ in range(8):
        nxt = _step(current)
        if nxt == current:
            return current
        if nxt in seen:
            return min(seen[seen.index(nxt) :])
        seen.append(nxt)
        current = nxt
    return current
