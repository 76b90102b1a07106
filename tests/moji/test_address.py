"""Offline address keys for search and 名寄せ."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kikan.moji import MojiError, address_key, normalize_address


@pytest.mark.parametrize(
    "group",
    [
        (
            "東京都千代田区霞が関一丁目二番三号",
            "東京都千代田区霞ヶ関１－２－３",
            "東京都千代田区霞ケ関1丁目2番地3",
            "東京都千代田区霞が関 1-2-3",
            "東京都千代田区霞が関1ー2ー3",
            "東京都千代田区霞が関1‐2‐3",
            "東京都千代田区霞が関1−2−3",
            "東京都千代田区霞が関1ｰ2ｰ3",
            "東京都千代田区霞が関1の2の3",
            "東京都千代田区　霞が関　１丁目２番３号",
        ),
        ("八王子市元本郷町三丁目二十四番一号", "八王子市元本郷町3-24-1"),
        ("山田村大字二十三番地の四", "山田村23-4", "山田村二三番地の四", "山田村弐拾参番地の四"),
        ("茨城県龍ケ崎市大字佐貫町字西", "茨城県竜ヶ崎市佐貫町西"),
        ("千代田区三番町五番地", "千代田区三番町5"),
        ("札幌市中央区北一条西二丁目", "札幌市中央区北1条西2丁目"),
        ("代々木一丁目", "代代木1"),
        ("山﨑町1-2", "山崎町1-2"),
        ("新宿区西新宿二丁目8番1号", "新宿区西新宿2-8-1", "新宿区西新宿2-8-1号"),
    ],
)
def test_equal_keys(group: tuple[str, ...]) -> None:
    keys = {address_key(t) for t in group}
    assert len(keys) == 1, keys


def test_key_values() -> None:
    assert address_key("東京都千代田区霞が関一丁目二番三号") == "東京都千代田区霞ケ関1-2-3"
    assert address_key("八王子市") == "八王子市"  # numerals inside names stay
    assert address_key("四日市市") == "四日市市"
    assert address_key("五十嵐町") == "五十嵐町"
    assert address_key("千代田区三番町") == "千代田区三番町"
    assert address_key("中央区銀座1-2-3 101号室") == "中央区銀座1-2-3-101号室"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("霞が関1-2-3", "霞が関1-23"),
        ("霞が関1-2-3", "霞が関12-3"),
        ("千代田区三番町", "千代田区3町"),
    ],
)
def test_different_keys(a: str, b: str) -> None:
    assert address_key(a) != address_key(b)


def test_original_is_kept() -> None:
    text = "東京都千代田区霞が関一丁目二番三号　\ufa19町"
    result = normalize_address(text)
    assert result.original == text
    assert result.key == "東京都千代田区霞ケ関1-2-3神町"


def test_bad_input() -> None:
    with pytest.raises(MojiError) as info:
        normalize_address("東京都\x00", item="住所")
    assert (info.value.code, info.value.item) == ("invalid_text", "住所")


ADDRESSISH = st.text(
    alphabet=st.sampled_from(
        list("東京都千代田区霞が関ヶケ大字小丁目番地号の之ノ一二三十百千〇壱弐参拾0123456789")
        + list("-‐－―ーｰ−　 々町村条線")
    ),
    max_size=20,
)


@given(ADDRESSISH)
def test_key_is_idempotent(text: str) -> None:
    key = address_key(text)
    assert address_key(key) == key
