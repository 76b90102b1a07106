"""Keeping the exact original: what we store for a name or address as the person wrote it.

Why not plain NFC: NFC replaces the CJK compatibility ideographs U+F900–U+FAFF and
U+2F800–U+2FA1F that have a canonical decomposition by their unified twin (神 U+FA19 → 神
U+795E). Twelve characters of that block, among them 﨑 U+FA11, are unified ideographs without a
decomposition and NFC leaves them alone. The compatibility characters exist because a
source character set (JIS X 0213, IBM/NEC extensions, KS X 1001) distinguishes them, and a
register must print what the 戸籍 shows. So :func:`normalize_original` applies NFC everywhere
*except* to those characters, which it leaves as they are.

IVS sequences (base + U+E0100–U+E01EF or U+FE00–U+FE0F) are untouched by NFC already (the
selectors have no decomposition and combining class 0); we keep them as they are.

What NFC still does, and why we want it: it composes decomposed kana (か + U+3099 → が) and
Latin letters with combining accents, so equal-looking input from different IMEs and files is
stored equal.
"""

from __future__ import annotations

import re
import unicodedata

from kikan.moji.errors import MojiError

# Compatibility ideographs with a canonical (singleton) decomposition: NFC would replace them.
_COMPAT = "".join(
    chr(cp)
    for block in (range(0xF900, 0xFB00), range(0x2F800, 0x2FA20))
    for cp in block
    if unicodedata.decomposition(chr(cp))
)
_COMPAT_SPLIT_RE = re.compile(f"([{re.escape(_COMPAT)}])")
# C0/C1 controls other than tab/newline, and lone surrogates, cannot be stored or printed.
_BAD_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def nfc_keeping_compat_ideographs(text: str) -> str:
    """NFC, except that CJK compatibility ideographs are kept as written."""
    if unicodedata.is_normalized("NFC", text):
        return text
    parts = _COMPAT_SPLIT_RE.split(text)
    # Odd indexes are the compatibility ideographs themselves; they are starters that compose
    # with nothing, so normalizing the pieces between them equals NFC of the whole minus them.
    return "".join(p if i % 2 else unicodedata.normalize("NFC", p) for i, p in enumerate(parts))


def normalize_original(text: str, *, item: str | None = None) -> str:
    """The form to store: NFC without touching compatibility ideographs or IVS sequences.

    Raises ``MojiError(code="invalid_text")`` for control characters (other than tab, CR, LF)
    and unpaired surrogates, which no certificate can print.
    """
    bad = _BAD_RE.search(text)
    if bad:
        code = f"U+{ord(bad.group(0)):04X}"
        raise MojiError(
            "invalid_text",
            f"使用できない制御文字等（{code}）が{bad.start() + 1}文字目にあります",
            item,
        )
    return nfc_keeping_compat_ideographs(text)
