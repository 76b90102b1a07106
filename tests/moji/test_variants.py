"""The curated 異体字 table and MJ縮退 folding."""

from __future__ import annotations

import jntajis
import pytest

from kikan.moji import MojiError, kanji_key_char
from kikan.moji.repertoire import mj_repertoire
from kikan.moji.variants import curated_variants, mj_shrink, parse_variant_table

ALL_MJ_SCHEMES = 15


def test_curated_table_is_backed_by_mj_data() -> None:
    """Every curated line is a mapping the MJ縮退マップ (戸籍法関連通達 scheme) also makes."""
    scheme = int(jntajis.MJShrinkSchemeCombo.MOJ_FAMILY_REGISTER_ACT_RELATED_NOTICE)
    table = curated_variants()
    assert len(table) >= 40
    for src, dst in table.items():
        assert dst in jntajis.mj_shrink_candidates(src, scheme, 10), (src, dst)


@pytest.mark.parametrize(
    ("src", "dst"),
    [("﨑", "崎"), ("邉", "辺"), ("邊", "辺"), ("濱", "浜"), ("齋", "斎"), ("齊", "斉"),
     ("澤", "沢"), ("廣", "広"), ("國", "国"), ("櫻", "桜"), ("冨", "富"), ("髙", "高"),
     ("𠮷", "吉"), ("高", "高"), ("崎", "崎"), ("埼", "埼"), ("斉", "斉")],
)  # fmt: skip
def test_key_chars(src: str, dst: str) -> None:
    assert kanji_key_char(src) == dst


def test_mj_shrink_uses_jis_incorporation_only() -> None:
    assert mj_shrink("髙") == "高"
    assert mj_shrink("𠮷") == "吉"
    # 戸籍通達-only and 告示582-only mappings are not applied by the MJ step.
    assert mj_shrink("﨑") == "﨑"
    assert mj_shrink("\u3404") == "\u3404"


def test_every_mj_character_folds_to_a_fixpoint() -> None:
    """key_char(key_char(c)) == key_char(c) over the whole MJ repertoire."""
    for cp in mj_repertoire().plain:
        ch = chr(cp)
        k = kanji_key_char(ch)
        assert kanji_key_char(k) == k, (ch, k)


@pytest.mark.parametrize(
    "data",
    [
        {"variants": {"﨑": "崎"}},  # no version
        {"version": "1", "variants": {"﨑﨑": "崎"}},
        {"version": "1", "variants": {"a": "b"}},
        {"version": "1", "variants": {"濱": "浜", "浜": "滨"}},  # chain
        {"version": "1", "variants": {"崎": "崎"}},
    ],
)
def test_bad_variant_tables(data: dict[str, object]) -> None:
    with pytest.raises(MojiError) as info:
        parse_variant_table(data)
    assert info.value.code == "invalid_variant_table"
