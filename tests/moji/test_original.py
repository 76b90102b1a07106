"""Keeping the exact original: NFC without destroying compatibility ideographs or IVS."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kikan.moji import MojiError, normalize_original


def test_compatibility_ideographs_survive() -> None:
    # NFC would turn 神 U+FA19 into 神 U+795E; the register must keep what the 戸籍 shows.
    assert unicodedata.normalize("NFC", "\ufa19") == "\u795e"
    assert normalize_original("\ufa19") == "\ufa19"
    assert normalize_original("\U0002f800") == "\U0002f800"
    # 﨑 U+FA11 is a unified ideograph in the compatibility block: NFC leaves it anyway.
    assert unicodedata.normalize("NFC", "山\ufa11") == "山\ufa11"
    assert normalize_original("山\ufa11") == "山\ufa11"


def test_ivs_sequences_survive() -> None:
    assert normalize_original("渡邉\U000e0110") == "渡邉\U000e0110"
    assert normalize_original("葛\U000e0100飾") == "葛\U000e0100飾"


def test_decomposed_kana_and_latin_are_composed() -> None:
    assert normalize_original("か\u3099") == "が"
    assert normalize_original("e\u0301") == "é"
    assert normalize_original("\ufa19か\u3099") == "\ufa19が"


def test_width_is_not_changed() -> None:
    # The original keeps half-width kana and full-width Latin; only keys fold them.
    assert normalize_original("ｶﾀｶﾅ ＡＢＣ") == "ｶﾀｶﾅ ＡＢＣ"


@pytest.mark.parametrize("bad", ["山\x00田", "\x1b[0m", "a\ud800b", "\x85"])
def test_control_characters_are_rejected(bad: str) -> None:
    with pytest.raises(MojiError) as info:
        normalize_original(bad, item="氏名")
    assert info.value.code == "invalid_text"
    assert info.value.item == "氏名"
    assert "文字目" in str(info.value)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_original_is_nfc_except_compat_ideographs(text: str) -> None:
    out = normalize_original(text)
    assert normalize_original(out) == out
    assert unicodedata.normalize("NFC", out) == unicodedata.normalize("NFC", text)
