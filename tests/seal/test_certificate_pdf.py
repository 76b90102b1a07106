"""The 印鑑登録証明書 PDF: the forms engine draws the text and the registered 印影 in its box."""

from __future__ import annotations

import io
import re
from datetime import date

from PIL import Image
from pypdf import PdfReader

from kikan.forms import FormDocument
from kikan.forms.layout import bundled_layout, default_registry
from kikan.seal import certificate
from tests.seal.conftest import png

PERSON = {
    "family_name": "青木",
    "given_name": "太郎",
    "family_name_kana": "アオキ",
    "given_name_kana": "タロウ",
    "sex": "1",
    "kyuuji": "佐藤",
}
PT_PER_MM = 72 / 25.4


def doc(impression: bytes, seal: bytes | None = None) -> FormDocument:
    return certificate.document(
        person=PERSON,
        impression=impression,
        registration_number=12,
        birth_display="昭和55年1月7日",
        address="架空県日和市松町一丁目1番地",
        issue_number="992011-2026-0000001",
        issue_date=date(2026, 11, 24),
        certifier_title="架空県日和市長",
        certifier_name="試験 太郎",
        official_seal_png=seal,
    )


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _impression_cell() -> tuple[float, float, float, float]:
    """The 印影 value cell (x, y, w, h in mm from the top-left), from the layout data."""
    layout = bundled_layout(default_registry().forms[certificate.FORM_ID].layout_file)
    y = layout.header.y
    for row in layout.header.rows:
        x = layout.header.x
        for spec in row.fields:
            if spec.field == certificate.IMPRESSION_FIELD:
                assert spec.kind == "image"
                return x + spec.label_w, y, spec.value_w, row.h
            x += spec.w
        y += row.h
    raise AssertionError("no 印影 field")


def test_impression_is_on_page_one_inside_its_box() -> None:
    official = _png(Image.new("RGB", (60, 60), "black"))
    impression = png(300, "青木")
    result = certificate.render_certificate(doc(impression, official))
    pdf = result.pdf
    assert pdf.count(b"%%EOF") == 1 and b"/Prev" not in pdf  # the engine's PDF, not patched
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 1
    page = reader.pages[0]
    sizes = {i.image.size: i.image for i in page.images if i.image is not None}
    assert set(sizes) == {(300, 300), (60, 60)}  # the 印影 and the 公印
    with Image.open(io.BytesIO(impression)) as original:
        assert sizes[(300, 300)].convert("RGB").tobytes() == original.convert("RGB").tobytes()
    text = page.extract_text()
    for item in ("印鑑登録証明書", "青木", "昭和55年1月7日", "登録されている印影と相違ない"):
        assert item in text, item
    # drawn inside the 印影 cell: the first image drawing on the page (the 公印 comes last)
    content = page.get_contents()
    assert content is not None
    m = re.search(rb"q ([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm /I\d+ Do Q", content.get_data())
    assert m is not None
    w, h, x, y_pdf = (float(v) / PT_PER_MM for v in m.groups())
    y = float(page.mediabox.height) / PT_PER_MM - y_pdf - h
    cx, cy, cw, ch = _impression_cell()
    assert cx < x and x + w < cx + cw and cy < y and y + h < cy + ch
    assert abs(w - h) < 0.01 and w > 40  # square impression, as large as the cell allows


def _stamped(impression: bytes) -> Image.Image:
    page = PdfReader(io.BytesIO(certificate.render_certificate(doc(impression)).pdf)).pages[0]
    image = page.images[0].image
    assert image is not None
    return image


def test_transparent_and_jpeg_impressions_keep_their_pixels() -> None:
    clear = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    clear.paste((200, 0, 0, 255), (10, 10, 90, 70))
    kept = _stamped(_png(clear))
    assert kept.size == (100, 80) and kept.mode == "RGBA"
    assert kept.getpixel((0, 0))[3] == 0  # type: ignore[index]  # transparent: the paper shows
    assert kept.getpixel((50, 40)) == (200, 0, 0, 255)
    on_paper = Image.new("RGB", kept.size, "white")
    on_paper.paste(kept, mask=kept.getchannel("A"))
    assert on_paper.getpixel((0, 0)) == (255, 255, 255)
    buf = io.BytesIO()
    Image.new("RGB", (90, 120), (180, 20, 20)).save(buf, format="JPEG", quality=95)
    jpeg = _stamped(buf.getvalue())
    assert jpeg.size == (90, 120)
    r, g, b = jpeg.convert("RGB").getpixel((45, 60))  # type: ignore[misc]
    assert abs(r - 180) < 8 and g < 40 and b < 40


def test_without_official_seal_the_notice_says_so() -> None:
    result = certificate.render_certificate(doc(png(), None))
    assert "公印省略" in PdfReader(io.BytesIO(result.pdf)).pages[0].extract_text()


def test_extracted_text_reads_the_number_apart_from_the_name() -> None:
    """Issue 14, item 15: the number was drawn beside the tall 印影 cell, vertically between
    rows of text, and extraction could read it inside the 氏名 (「山﨑2𠮷郎」). It has a row of its
    own, first among the items: read in order, 登録番号 and its value come before 印影 and 氏名."""
    import shutil
    import subprocess

    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) is part of the test environment"
    for number in (2, 12, 123456):
        d = doc(png(300, "山﨑"))
        d = FormDocument(
            header={**d.header, "registration_number": str(number), "name": "山﨑　𠮷郎"},
            entries=d.entries,
            images=d.images,
            certification=d.certification,
            issue_number=d.issue_number,
        )
        pdf = certificate.render_certificate(d).pdf
        for mode in ([], ["-raw"]):
            text = subprocess.run(
                [pdftotext, *mode, "-", "-"], input=pdf, capture_output=True, check=True
            ).stdout.decode()
            words = text.split()
            at = words.index("登録番号")
            assert words[at + 1] == str(number), (mode, words)
            assert at < words.index("印影") < words.index("氏名"), (mode, words)
            name = words[words.index("氏名") + 1 : words.index("フリガナ")]
            assert name == ["山﨑", "𠮷郎"], (mode, name)
