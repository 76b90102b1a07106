"""Name search keys: every documented rule of kikan.moji.keys, plus properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kikan.moji import normalize_original, search_key


def same(*texts: str) -> None:
    keys = {search_key(t) for t in texts}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    "group",
    [
        # width, script and case
        ("ｶﾀｶﾅ", "カタカナ", "かたかな"),
        ("ｶﾞｯｺｳ", "ガッコウ", "がっこう"),
        ("ＳＭＩＴＨ", "Smith", "smith"),
        ("ＡＢＣ１２３", "abc123"),
        # small kana
        ("ヵ", "カ", "ゕ"),
        ("ヶ", "ケ", "ゖ"),
        ("ッ", "ツ", "っ"),
        ("キャ", "キヤ", "きゃ"),
        ("ァィゥェォ", "アイウエオ"),
        ("ヮ", "ワ"),
        ("ㇰ", "ク"),
        # historical kana
        ("ゐ", "ヰ", "イ"),
        ("ゑ", "ヱ", "エ"),
        # ヴ
        ("ヴィクトル", "ビクトル", "ゔぃくとる", "ｳﾞｨｸﾄﾙ"),
        ("ヴァイオリン", "バイオリン"),
        ("ヴェ", "ベ"),
        ("ヴォ", "ボ"),
        ("ヴ", "ブ"),
        ("ヷ", "バ"),
        # long vowel and dashes after kana
        ("ユーコ", "ユウコ", "ゆーこ", "ﾕｰｺ"),
        ("オーノ", "オオノ"),
        ("ラ－メン", "ラーメン", "ラ-メン", "ラ―メン", "ラ‐メン", "ラ−メン"),
        # separators
        ("山田 太郎", "山田　太郎", "山田太郎", "山田\t太郎"),
        ("ジョン・スミス", "ジョン･スミス", "ジョン スミス", "ジョンスミス"),
        ("ジャン=ポール", "ジャン＝ポール", "ジャン-ポール", "ジャンポール"),
        # kanji variants: MJ縮退 and the curated table
        ("髙橋", "高橋"),
        ("𠮷田", "吉田"),
        ("山﨑", "山崎"),
        ("渡邉", "渡邊", "渡辺"),
        ("渡邉\U000e0110", "渡辺"),  # IVS dropped
        ("濱田", "浜田"),
        ("齋藤", "斎藤"),
        ("齊藤", "斉藤"),
        ("澤田", "沢田"),
        ("廣田", "広田"),
        ("國分", "国分"),
        ("櫻井", "桜井"),
        ("冨田", "富田"),
        ("神", "\ufa19"),  # compatibility ideograph 神
        # iteration marks
        ("佐々木", "佐佐木"),
        ("みすゞ", "ミスズ", "みすず"),
        ("いすゞ", "イスズ"),
        ("さゝき", "ササキ"),
        # voicing mark separated by a space still composes
        ("ウ ゛", "ヴ", "ブ"),
    ],
)
def test_equal_keys(group: tuple[str, ...]) -> None:
    same(*group)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("斉藤", "斎藤"),  # different characters (see data/name_variants.toml)
        ("埼玉", "崎玉"),  # look-alike, not a variant
        ("サトー", "サトウ"),  # the vowel a long mark stands for is not guessed
        ("ヲ", "オ"),
        ("ヂ", "ジ"),
        ("ヅ", "ズ"),
        ("田中", "田村"),
        ("ヴァ", "ヴア"),
    ],
)
def test_different_keys(a: str, b: str) -> None:
    assert search_key(a) != search_key(b)


def test_key_values() -> None:
    assert search_key("ｶﾀｶﾅ") == "カタカナ"
    assert search_key("髙橋 ゆーこ") == "高橋ユウコ"
    assert search_key("渡邉󠄐　太郎") == "渡辺太郎"
    assert search_key("ン-") == "ン"
    assert search_key("ー") == ""
    assert search_key("々") == "々"  # nothing to repeat


NAMEISH = st.text(
    alphabet=st.sampled_from(
        list("あいうえおかがきゃっゐゑゔゝゞアイウエオカガキャッヰヱヴヵヶヽヾーｰｶﾞﾞﾟ・･　 -‐")
        + list("山田髙橋𠮷﨑邉邊濱齋齊澤廣國櫻冨神々佐木渡辺")
        + ["\U000e0100", "\U000e0110", "\ufe00", "\u3099", "\u309a", "\u309b", "Ａ", "a", "ß"]
    ),
    max_size=12,
)


@given(st.one_of(NAMEISH, st.text(max_size=12)))
@settings(max_examples=400)
def test_key_is_idempotent(text: str) -> None:
    key = search_key(text)
    assert search_key(key) == key
    assert unicodedata.is_normalized("NFC", key)


@given(NAMEISH)
def test_original_is_untouched(text: str) -> None:
    before = str(text)
    search_key(text)
    normalize_original(text)
    assert text == before
