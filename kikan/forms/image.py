"""Image fields: a picture given with the document (e.g. a registered 印影) placed in a layout box.

Why in the engine: a business module that needs a picture on its certificate (印鑑登録証明書)
should hand it over like any other value, not patch the finished PDF. The layout says where the
box is (an ``kind = "image"`` field cell); the document gives the PNG or JPEG bytes
(``FormDocument.images``); the engine scales the picture to fit the box, keeping its aspect
ratio, centred, and never beyond the box.

Everything here is a function of its arguments.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from kikan.forms.errors import FormDataError

#: Formats an image field accepts (what PDF viewers and fpdf2 embed without surprises).
IMAGE_FORMATS = ("PNG", "JPEG")


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    format: str
    width: int  # pixels
    height: int


@dataclass(frozen=True)
class Placement:
    """A rectangle in millimetres from the page's top-left corner (a box, or where the picture
    is drawn)."""

    x: float
    y: float
    w: float
    h: float


def check_image(data: bytes, where: str) -> CheckedImage:
    """Decode the whole picture once (a truncated or forged file fails here, before any page is
    drawn) and refuse anything but PNG and JPEG; `where` names the document key in the error."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise FormDataError("document", where, "must be the bytes of a PNG or JPEG image")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            if fmt in IMAGE_FORMATS:
                img.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FormDataError("document", where, f"not a readable image: {exc}") from exc
    if fmt not in IMAGE_FORMATS:
        raise FormDataError("document", where, f"must be PNG or JPEG (got {fmt or 'unknown'})")
    if width < 1 or height < 1:
        raise FormDataError("document", where, "the image has no pixels")
    return CheckedImage(bytes(data), fmt, width, height)


def fit_image(px_w: int, px_h: int, box: Placement, *, pad: float = 0.0) -> Placement:
    """The largest rectangle with the picture's aspect ratio inside `box` less `pad` on each
    side, centred in it: scaled up or down, never beyond the box."""
    inner_w, inner_h = max(box.w - 2 * pad, 0.0), max(box.h - 2 * pad, 0.0)
    scale = min(inner_w / px_w, inner_h / px_h)
    out_w, out_h = px_w * scale, px_h * scale
    return Placement(box.x + (box.w - out_w) / 2, box.y + (box.h - out_h) / 2, out_w, out_h)
