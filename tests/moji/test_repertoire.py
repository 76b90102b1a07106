"""MJ / 行政事務標準文字 repertoire checks and Private Use Area (外字) detection."""

from __future__ import annotations

import pytest

from kikan.moji import CharClass, check_repertoire, find_gaiji, in_mj_repertoire, outside_repertoire
from kikan.moji._build_mj_repertoire import OUTPUT, extract, jntajis_header, render
from kikan.moji.repertoire import mj_repertoire


def classes(text: str) -> list[tuple[str, CharClass]]:
    return [(r.text, r.cls) for r in check_repertoire(text)]


def test_mj_characters() -> None:
    assert classes("髙橋𠮷﨑") == [
        ("髙", CharClass.MJ),
        ("橋", CharClass.MJ),
        ("𠮷", CharClass.MJ),
        ("﨑", CharClass.MJ),
    ]
    assert in_mj_repertoire("髙橋 𠮷田 山﨑 渡邉")
    assert len(mj_repertoire().plain) > 50_000


def test_ivs_sequences() -> None:
    # 邉 + U+E0110 is registered for an MJ character (Moji_Joho collection) ...
    assert classes("邉\U000e0110") == [("邉\U000e0110", CharClass.MJ_IVS)]
    # ... 邉 + U+E0101 is an Adobe-Japan1 sequence, not an MJ one.
    assert classes("邉\U000e0101") == [("邉\U000e0101", CharClass.IVS_NOT_MJ)]
    assert not in_mj_repertoire("渡邉\U000e0101")
    report = check_repertoire("渡邉\U000e0110様")
    assert [r.index for r in report] == [0, 1, 3]
    assert report[1].codepoints == "U+9089 U+E0110"


def test_non_kanji() -> None:
    assert in_mj_repertoire("やまだ タロウ ABC-123 ①")
    assert in_mj_repertoire("〜～")  # JIS-standard and CP932-style mappings of 1-1-33
    assert not in_mj_repertoire("ﾔﾏﾀﾞ")  # half-width katakana are a legacy form
    assert classes("😀") == [("😀", CharClass.OUTSIDE)]


def test_ideograph_outside_mj() -> None:
    # U+9FEF is a unified ideograph that is not in MJ (added to Unicode after MJ).
    assert classes("\u9ff0") == [("\u9ff0", CharClass.OUTSIDE)]


def test_private_use_areas() -> None:
    text = "山\ue000田\U000f0001\U00100001"
    hits = find_gaiji(text)
    assert [(h.index, h.area) for h in hits] == [(1, "BMP"), (3, "SPUA-A"), (4, "SPUA-B")]
    assert [h.index for h in find_gaiji(text, include_spua_b=False)] == [1, 3]
    assert classes("\ue000\U00100001") == [
        ("\ue000", CharClass.PUA_GAIJI),
        ("\U00100001", CharClass.GJ_CANDIDATE),
    ]
    assert not in_mj_repertoire("\U00100001")
    assert in_mj_repertoire("\U00100001", allow_gj=True)
    assert [r.text for r in outside_repertoire("山\ue000田")] == ["\ue000"]


def test_bundled_repertoire_matches_installed_jntajis() -> None:
    header = jntajis_header()
    if header is None:
        pytest.skip("this jntajis wheel does not ship _jntajis.h")
    plain, ivs = extract(header.read_text("utf-8"))
    assert render(plain, ivs) == OUTPUT.read_text("utf-8")
