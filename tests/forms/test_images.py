"""Image fields: a picture from the document fitted into a layout cell (aspect kept, never beyond)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from kikan.forms import FormDataError, FormDocument, render
from kikan.forms.image import Placement, fit_image
from kikan.forms.layout import Layout, bundled_layout, default_registry
from tests.forms.conftest import pdftotext

FORM = "0020001"  # 印鑑登録証明書: its 印影 is the bundled image field
PT_PER_MM = 72 / 25.4


def picture(w: int, h: int, fmt: str = "PNG", colour: tuple[int, ...] = (200, 0, 0)) -> bytes:
    img = Image.new("RGB", (w, h), colour)
    img.putpixel((0, 0), (0, 0, 255))  # a corner that shows orientation and exactness
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buf.getvalue()


def doc(image: bytes | None = None, **header: str) -> FormDocument:
    return FormDocument(
        header={"registration_number": "1", "name": "青木　太郎", **header},
        images={"impression": image} if image is not None else {},
    )


def impression_cell(layout: Layout) -> tuple[Placement, float]:
    """The 印影 value cell (mm, top-left origin) and its padding, from the layout data."""
    y = layout.header.y
    for row in layout.header.rows:
        x = layout.header.x
        for spec in row.fields:
            if spec.kind == "image":
                return Placement(x + spec.label_w, y, spec.value_w, row.h), spec.pad
            x += spec.w
        y += row.h
    raise AssertionError("no image field")


def drawn(pdf: bytes) -> list[tuple[float, float, float, float]]:
    """Each image drawn on page 1 as (x, y, w, h) in mm from the top-left corner."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents()
    assert content is not None
    height_pt = float(page.mediabox.height)
    found = []
    pattern = rb"q ([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm /I\d+ Do Q"
    for m in re.finditer(pattern, content.get_data()):
        w, h, x, y = (float(v) / PT_PER_MM for v in m.groups())
        found.append((x, height_pt / PT_PER_MM - y - h, w, h))
    return found


@pytest.mark.parametrize(("px_w", "px_h"), [(300, 300), (60, 240), (400, 50), (8, 8)])
def test_picture_fills_the_cell_keeping_its_aspect_and_never_beyond(px_w: int, px_h: int) -> None:
    pdf = render(FORM, doc(picture(px_w, px_h))).pdf
    cell, pad = impression_cell(bundled_layout(default_registry().forms[FORM].layout_file))
    [(x, y, w, h)] = drawn(pdf)
    eps = 0.01
    assert x >= cell.x + pad - eps and x + w <= cell.x + cell.w - pad + eps
    assert y >= cell.y + pad - eps and y + h <= cell.y + cell.h - pad + eps
    assert abs(w / h - px_w / px_h) < 0.01
    # as large as fits: one side touches the padded cell; centred on the other
    assert abs(w - (cell.w - 2 * pad)) < eps or abs(h - (cell.h - 2 * pad)) < eps
    assert abs((x - cell.x) - (cell.x + cell.w - x - w)) < eps
    assert abs((y - cell.y) - (cell.y + cell.h - y - h)) < eps


def test_png_pixels_and_jpeg_bytes_are_reproduced() -> None:
    png = picture(120, 90)
    [image] = PdfReader(io.BytesIO(render(FORM, doc(png)).pdf)).pages[0].images
    assert image.image is not None
    with Image.open(io.BytesIO(png)) as original:
        assert image.image.convert("RGB").tobytes() == original.convert("RGB").tobytes()
    jpeg = picture(90, 120, "JPEG")
    page = PdfReader(io.BytesIO(render(FORM, doc(jpeg)).pdf)).pages[0]
    resources: Any = page["/Resources"]
    [xobject] = [x.get_object() for x in resources["/XObject"].values()]
    # a JPEG goes in as it is (DCTDecode), never decoded and re-encoded
    assert xobject["/Filter"] == "/DCTDecode" and xobject._data == jpeg


def test_without_a_picture_the_cell_stays_empty_and_text_still_prints() -> None:
    pdf = render(FORM, doc(None, address="架空県日和市松町一丁目1番地")).pdf
    assert drawn(pdf) == []
    assert "架空県日和市松町一丁目1番地" in pdftotext(pdf)


def test_the_picture_is_drawn_on_every_page_and_embedded_once() -> None:
    """The header repeats on every page, so does its picture; the PDF holds it once."""
    many = FormDocument(
        header={"name": "青木　太郎"},
        entries=[{"remarks": f"備考{i}"} for i in range(40)],
        images={"impression": picture(100, 100)},
    )
    result = render(FORM, many)
    assert result.pages >= 2
    reader = PdfReader(io.BytesIO(result.pdf))
    refs = [[i.indirect_reference for i in page.images] for page in reader.pages]
    assert [len(r) for r in refs] == [1] * result.pages
    assert len({ref.idnum for r in refs for ref in r if ref is not None}) == 1


@pytest.mark.parametrize(
    ("images", "header", "message"),
    [
        ({"impression": b""}, {}, r"images\.impression: must be the bytes"),
        ({"impression": b"GIF89a" + b"\0" * 20}, {}, r"images\.impression: not a readable image"),
        ({"impression": picture(10, 10, "GIF")}, {}, r"images\.impression: must be PNG or JPEG"),
        ({"impression": picture(50, 50)[:60]}, {}, r"images\.impression: not a readable image"),
        ({"photo": picture(10, 10)}, {}, r"images\.photo: not an image field"),
        ({}, {"impression": "印"}, r"header\.impression: an image field"),
    ],
)
def test_bad_pictures_are_refused_before_anything_is_drawn(
    images: dict[str, bytes], header: dict[str, str], message: str
) -> None:
    with pytest.raises(FormDataError, match=message):
        render(FORM, FormDocument(header=header, images=images))


@given(
    px_w=st.integers(1, 5000),
    px_h=st.integers(1, 5000),
    w=st.floats(1, 300),
    h=st.floats(1, 300),
    pad=st.floats(0, 0.49),
)
def test_fit_never_leaves_the_box_and_keeps_the_aspect(
    px_w: int, px_h: int, w: float, h: float, pad: float
) -> None:
    box = Placement(10.0, 20.0, w, h)
    at = fit_image(px_w, px_h, box, pad=pad)
    eps = 1e-6 * max(w, h, 1.0)
    assert at.x >= box.x + pad - eps and at.x + at.w <= box.x + box.w - pad + eps
    assert at.y >= box.y + pad - eps and at.y + at.h <= box.y + box.h - pad + eps
    assert abs(at.w * px_h - at.h * px_w) <= eps * max(px_w, px_h)
    assert abs(at.w - (w - 2 * pad)) <= eps or abs(at.h - (h - 2 * pad)) <= eps
