"""CP932 decoding with a per-vendor 外字 table; unmapped 外字 are reported, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from kikan.moji import MojiError, decode_cp932, load_gaiji_table, map_gaiji, parse_gaiji_table
from kikan.moji.gaiji import example_gaiji_table


def test_cp932_user_area_is_pua() -> None:
    assert bytes.fromhex("F040").decode("cp932") == "\ue000"
    assert bytes.fromhex("F07E").decode("cp932") == "\ue03e"
    assert bytes.fromhex("F080").decode("cp932") == "\ue03f"  # 0x7F is not a trail byte
    assert bytes.fromhex("F140").decode("cp932") == "\ue0bc"


def test_decode_with_table() -> None:
    table = example_gaiji_table()
    data = (
        "吉".encode("cp932")
        + bytes.fromhex("F040")  # → 𠮷 (not encodable in CP932)
        + "田 ".encode("cp932")
        + bytes.fromhex("F041")  # → 髙
        + "橋 渡".encode("cp932")
        + bytes.fromhex("F042")  # → 邉 + IVS
        + bytes.fromhex("F140")  # → 崎 (entry given by PUA code point)
    )
    result = decode_cp932(data, table)
    assert result.text == "吉𠮷田 髙橋 渡邉\U000e0110崎"
    assert result.mapped == 4
    assert result.complete


def test_unmapped_gaiji_are_reported_not_dropped() -> None:
    table = example_gaiji_table()
    data = (
        "山".encode("cp932") + bytes.fromhex("F043") + "田".encode("cp932") + bytes.fromhex("F040")
    )
    result = decode_cp932(data, table)
    assert result.text == "山\ue003田𠮷"
    assert not result.complete
    [gap] = result.unmapped
    assert (gap.index, gap.char, gap.sjis, gap.codepoint) == (1, "\ue003", "F043", "U+E003")
    with pytest.raises(MojiError) as info:
        decode_cp932(data, table, strict=True, item="氏名")
    assert info.value.code == "unmapped_gaiji"
    assert info.value.item == "氏名"
    assert "F043" in str(info.value)


def test_unmapped_index_counts_multi_character_targets() -> None:
    table = example_gaiji_table()
    result = map_gaiji("\ue002\ue005", table)  # 邉+IVS is two characters
    assert result.text == "邉\U000e0110\ue005"
    assert result.unmapped[0].index == 2


def test_ibm_and_nec_extensions_decode() -> None:
    table = example_gaiji_table()
    # FBFC is an IBM extension kanji in CP932 (髙), not a 外字.
    assert decode_cp932(bytes.fromhex("FBFC"), table).text == "髙"
    assert decode_cp932(bytes.fromhex("8754"), table).text == "Ⅰ"  # NEC special character


def test_invalid_bytes() -> None:
    with pytest.raises(MojiError) as info:
        decode_cp932(b"\x82\xa0\x82", example_gaiji_table())
    assert info.value.code == "invalid_bytes"
    assert "2バイト目" in str(info.value)


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "vendor.toml"
    path.write_text(
        'vendor = "v"\nversion = "2"\n[[gaiji]]\nsjis = "f9fc"\nto = "U+9AD9"\n', "utf-8"
    )
    table = load_gaiji_table(path)
    assert (table.vendor, table.version) == ("v", "2")
    assert decode_cp932(bytes.fromhex("F9FC"), table).text == "髙"


@pytest.mark.parametrize(
    "rows",
    [
        [{"sjis": "8140", "to": "U+5409"}],  # not the user-defined area
        [{"sjis": "F040"}],  # no target
        [{"sjis": "F040", "pua": "U+E000", "to": "U+5409"}],  # both keys
        [{"sjis": "F040", "to": "U+E001"}],  # target in PUA
        [{"sjis": "F040", "to": "吉"}],  # targets are written as code points
        [{"pua": "U+4E00", "to": "U+5409"}],  # not PUA
        [{"sjis": "F040", "to": "U+5409"}, {"pua": "U+E000", "to": "U+5409"}],  # duplicate
    ],
)
def test_bad_tables(rows: list[dict[str, str]]) -> None:
    with pytest.raises(MojiError) as info:
        parse_gaiji_table({"vendor": "v", "version": "1", "gaiji": rows})
    assert info.value.code == "invalid_gaiji_table"


def test_table_needs_vendor_and_version() -> None:
    with pytest.raises(MojiError):
        parse_gaiji_table({"version": "1"})
