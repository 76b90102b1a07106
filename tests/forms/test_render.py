"""Rendering: extractable rare characters and IVS, 文字溢れ, pagination, 公印, font reuse."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kikan.forms import FormDataError, FormDocument, FormOptions, UnknownFormError, render
from kikan.forms import fonts as fonts_module
from tests.forms.conftest import pdfimages_list, pdftotext, save_pages
from tests.forms.samples import (
    CERT_TEXT,
    KUZU_IVS,
    LONG_ADDRESS,
    LONG_NAME,
    RARE,
    WATANABE_IVS,
    certification,
    household,
    member,
    seal_png,
)


def squash(text: str) -> str:
    """Extracted text without line breaks and spaces (wrapped lines are rejoined)."""
    return re.sub(r"[\s\u3000]+", "", text)


def test_rare_characters_and_ivs_extract_exactly() -> None:
    names = [
        member(0, name=f"{RARE}", remarks=f"{KUZU_IVS} {WATANABE_IVS} 太郎"),
        member(1, name=f"{WATANABE_IVS}　明", previous_address=f"東京都{KUZU_IVS}区"),
    ]
    doc = FormDocument(header={"address": "東京都千代田区"}, entries=names,
                       certification=certification())  # fmt: skip
    result = render("0010001", doc)
    save_pages("rare-characters", result.pdf)
    text = pdftotext(result.pdf)
    assert "\U00020bb7" in text  # 𠮷 outside the BMP
    for fragment in ("𠮷田", "髙橋", "山﨑", KUZU_IVS, WATANABE_IVS, f"{WATANABE_IVS}　明"):
        assert fragment.replace("　", " ") in text.replace("　", " "), fragment
    # The space after an IVS sequence survives extraction (the /W fix in kikan.forms.fonts).
    assert f"{KUZU_IVS} {WATANABE_IVS} 太郎" in text


def test_unsupported_ivs_is_reported_but_kept() -> None:
    doc = FormDocument(entries=[member(0, name=KUZU_IVS)], certification=certification())
    result = render("0010001", doc)
    flagged = {o.field: o for o in result.overflow}
    assert "unsupported_variation" in flagged["entries[0].name"].reasons
    assert "U+E0100" in flagged["entries[0].name"].detail
    assert KUZU_IVS in pdftotext(result.pdf)
    assert "entries[1].name" not in flagged


def test_long_name_and_address_are_complete_and_reported() -> None:
    doc = household(2, address=LONG_ADDRESS)
    doc.entries[0]["name"] = LONG_NAME  # type: ignore[index]
    result = render("0010001", doc)
    save_pages("overflow", result.pdf)
    text = squash(pdftotext(result.pdf))
    assert len(LONG_NAME) == 60 and len(LONG_ADDRESS) >= 120
    assert squash(LONG_NAME) in text
    assert squash(LONG_ADDRESS) in text
    by_field = {o.field: o for o in result.overflow}
    name, address = by_field["entries[0].name"], by_field["header.address"]
    assert name.label == "氏名" and address.label == "住所"
    assert name.used_size < name.nominal_size and "shrunk" in name.reasons
    assert address.lines > 1 and "wrapped" in address.reasons
    assert address.text == LONG_ADDRESS
    assert "entries[1].name" not in by_field  # ordinary values are not listed


def test_blank_option_leaves_the_value_empty_but_reports_it() -> None:
    doc = household(1, address=LONG_ADDRESS * 3, options=FormOptions(overflow_output="blank"))
    result = render("0010001", doc)
    address = next(o for o in result.overflow if o.field == "header.address")
    assert "blanked" in address.reasons
    assert "千代田ハイツ" not in pdftotext(result.pdf)


def test_twelve_members_paginate_with_form_id_and_page_numbers() -> None:
    result = render("0010001", household(12))
    save_pages("household-12", result.pdf)
    assert result.pages >= 2
    seen_members = 0
    for page in range(1, result.pages + 1):
        text = pdftotext(result.pdf, page)
        assert "帳票ID 0010001" in text
        # Printed as "1 / 3"; poppler drops the narrow spaces around "/" when extracting.
        assert f"{page}/{result.pages}" in squash(text)
        assert "住民票の写し" in text
        assert "発行番号" in text
        assert (squash(CERT_TEXT) in squash(text)) == (page == result.pages)
        assert ("東京都千代田区長" in text) == (page == result.pages)
        seen_members += text.count("氏名")
    assert seen_members == 12


def test_seal_image_is_embedded_on_the_last_page_only(tmp_path: Path) -> None:
    result = render("0010001", household(12))
    listing = pdfimages_list(result.pdf, tmp_path)
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    pages = {int(r[0]) for r in rows if r[2] == "image"}
    assert pages == {result.pages}
    assert any(r[2] == "smask" for r in rows)  # the transparent background is kept


def test_every_registered_form_renders(tmp_path: Path) -> None:
    from kikan.forms import default_registry

    for form_id, entry in default_registry().forms.items():
        if entry.layout_file in (
            "fuhyo.toml",
            "senkyoninmeibo_shohon.toml",
            "juminzei_tsuchi.toml",
        ):
            continue  # rendered with their own documents by tests/fuhyo, electoral_roll, juminzei
        layout_fields = {
            "juminhyo_setai.toml": None,
            "juminhyo_kojin.toml": {
                "honseki": "東京都千代田区千代田一番",
                "hittousha": "𠮷田　太郎",
                "removal": "令和8年11月1日　転出",
            },
            "idou.toml": {},
            "tenshutsu.toml": {},
            "inkan_shoumei.toml": {},
        }[entry.layout_file]
        if entry.layout_file == "inkan_shoumei.toml":  # 印鑑登録証明書 (kikan/seal)
            doc = FormDocument(
                header={
                    "registration_number": "12",
                    "name": "𠮷田　太郎",
                    "birth_date": "昭和60年4月1日",
                    "sex": "男",
                    "address": "東京都千代田区千代田一丁目1番1号",
                },
                images={"impression": seal_png()},
                certification=certification(),
                issue_number="992011-2026-0000001",
            )
        elif entry.layout_file in ("idou.toml", "tenshutsu.toml"):
            doc = FormDocument(
                header={
                    "reason": "転出",
                    "moved_on": "令和8年12月1日",
                    "old_address": "東京都千代田区千代田一丁目1番1号",
                    "new_address": "大阪府大阪市北区中之島一丁目3番20号",
                    "householder": "𠮷田　太郎",
                    "notified": "令和8年11月23日",
                },
                entries=[
                    {
                        "name": "𠮷田　太郎",
                        "birth_date": "昭和60年4月1日",
                        "sex": "男",
                        "relationship": "世帯主",
                    }
                ],
                certification=certification(),
                issue_number="20261123 千代田区 本庁1 プリンタ001 012",
            )
        else:
            extra = layout_fields or {}
            entries = (
                [{k: v for k, v in member(0).items() if k != "notified"} | extra]
                if extra
                else [member(0), member(1)]
            )
            doc = FormDocument(
                header={"address": "東京都千代田区千代田一丁目1番1号", "householder": "𠮷田　太郎"},
                entries=entries,
                certification=certification(),
                issue_number="20261123 千代田区 本庁1 プリンタ001 013",
                options=FormOptions(official_use=form_id == "0010003"),
            )
        result = render(form_id, doc)
        save_pages(f"form-{form_id}", result.pdf)
        text = pdftotext(result.pdf)
        assert entry.title in text and f"帳票ID {form_id}" in text
        assert result.form_version == entry.version


def test_unknown_form_and_bad_document_are_refused() -> None:
    with pytest.raises(UnknownFormError, match="9999999"):
        render("9999999", household(1))
    with pytest.raises(FormDataError, match=r"entries\[0\]\.nmae"):
        render("0010001", FormDocument(entries=[{"nmae": "𠮷田"}]))
    with pytest.raises(FormDataError, match="seal_png"):
        bad = household(1)
        object.__setattr__(bad.certification, "seal_png", b"not a png")
        render("0010001", bad)


def test_font_is_parsed_once_and_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_parse = fonts_module._parse

    def counting_parse(path: Path) -> fonts_module.SharedFont:
        calls.append(path)
        return real_parse(path)

    monkeypatch.setattr(fonts_module, "_parse", counting_parse)
    fonts_module.clear_cache()
    try:
        first = render("0010001", household(2))
        second = render("0010001", household(2))
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda n: render("0010001", household(n)), [1, 3, 5, 7]))
    finally:
        monkeypatch.undo()
    assert len(calls) == 1
    # Each document embeds its own subset; concurrent renders do not mix up glyphs.
    assert pdftotext(first.pdf) == pdftotext(second.pdf)
    for n, result in zip([1, 3, 5, 7], results, strict=True):
        assert squash(pdftotext(result.pdf)).count("氏名") == n
        assert "𠮷田" in pdftotext(result.pdf)


# ---------------------------------------------------------------- the plain drawing path


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("架空県日和市本町一丁目14番29号", True),
        ("昭和12年10月15日", True),
        ("髙橋𠮷田山﨑", True),  # rare kanji have cmap glyphs: drawn as mapped
        (KUZU_IVS, False),  # an IVS selects another glyph: HarfBuzz must shape it
        ("か\u3099", False),  # a combining voicing mark
        ("山崎　勝", False),  # spaces keep the shaped path (extraction layout, see fonts.py)
        ("\u05d0\u05d1", False),  # right to left
        ("\ue000", False),  # a character the font lacks
        ("", True),
    ],
)
def test_which_lines_may_be_drawn_without_shaping(text: str, plain: bool) -> None:
    assert fonts_module.shapes_as_mapped(fonts_module.shared_font(), text) is plain


def test_drawing_plain_lines_without_shaping_changes_neither_text_nor_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shortcut must be invisible: the same extracted text (with layout) and, rasterised,
    the same page up to anti-aliasing of sub-pixel positions."""
    import shutil
    import subprocess

    from PIL import Image, ImageChops

    doc = FormDocument(
        header={"address": "架空県日和市本町一丁目14番29号"},
        entries=[member(0, name=f"{RARE}", remarks="転入"), member(1, name="山崎　勝")],
        certification=certification(),
    )
    fast = render("0010001", doc).pdf
    import sys

    monkeypatch.setattr(
        sys.modules["kikan.forms.render"], "shapes_as_mapped", lambda _font, _text: False
    )
    shaped = render("0010001", doc).pdf
    assert fast != shaped  # the shortcut was taken (else this test proves nothing)

    def layout(pdf: bytes) -> str:
        tool = shutil.which("pdftotext")
        if tool is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        done = subprocess.run(
            [tool, "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")

    assert layout(fast) == layout(shaped)

    def raster(pdf: bytes, name: str, tmp: Path) -> Image.Image:
        tool = shutil.which("pdftoppm")
        if tool is None:
            pytest.skip("pdftoppm (poppler-utils) is not installed")
        (tmp / f"{name}.pdf").write_bytes(pdf)
        subprocess.run([tool, "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile",
                        str(tmp / f"{name}.pdf"), str(tmp / name)], check=True)  # fmt: skip
        return Image.open(tmp / f"{name}.png").convert("L")

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        diff = ImageChops.difference(
            raster(fast, "fast", Path(tmp)), raster(shaped, "shaped", Path(tmp))
        )
        histogram = diff.histogram()
        # identical glyphs at the same positions: at most faint anti-aliasing differences
        assert sum(histogram[97:]) == 0, "a pixel changed by more than anti-aliasing"
        assert sum(histogram[1:]) < 1_000
