"""kikan.moji: characters of names and addresses — originals, search keys, MJ, 外字.

Pure library: no database, no I/O except reading the bundled data files (MJ repertoire,
curated 異体字 table, example 外字 table). Every rejection raises :class:`MojiError`
(``code``, Japanese ``message``, optional ``item``).

Public API::

    normalize_original(text, *, item=None) -> str        # what to store (NFC, 神/IVS kept)
    search_key(text) -> str                               # name / フリガナ key
    normalize_address(text, *, item=None) -> AddressKey   # (original, key)
    address_key(text) -> str
    check_repertoire(text) -> list[CharReport]            # MJ / IVS / JIS / 外字 / outside
    in_mj_repertoire(text, *, allow_gj=False) -> bool
    find_gaiji(text) -> list[GaijiHit]                    # Private Use Area characters
    decode_cp932(data, table, *, strict=False) -> DecodeResult
    map_gaiji(text, table, *, strict=False) -> DecodeResult
    load_gaiji_table(path) -> GaijiTable
"""

from kikan.moji.address import AddressKey, address_key, normalize_address
from kikan.moji.errors import MojiError
from kikan.moji.gaiji import (
    DecodeResult,
    GaijiTable,
    UnmappedGaiji,
    contains_pua,
    decode_cp932,
    load_gaiji_table,
    map_gaiji,
    parse_gaiji_table,
)
from kikan.moji.keys import search_key
from kikan.moji.original import normalize_original
from kikan.moji.repertoire import (
    CharClass,
    CharReport,
    GaijiHit,
    check_repertoire,
    find_gaiji,
    in_mj_repertoire,
    outside_repertoire,
)
from kikan.moji.variants import kanji_key_char

__all__ = [
    "AddressKey",
    "CharClass",
    "CharReport",
    "DecodeResult",
    "GaijiHit",
    "GaijiTable",
    "MojiError",
    "UnmappedGaiji",
    "address_key",
    "check_repertoire",
    "contains_pua",
    "decode_cp932",
    "find_gaiji",
    "in_mj_repertoire",
    "kanji_key_char",
    "load_gaiji_table",
    "map_gaiji",
    "normalize_address",
    "normalize_original",
    "outside_repertoire",
    "parse_gaiji_table",
    "search_key",
]
