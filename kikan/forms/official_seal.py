"""Draw a placeholder 公印 (electronic official seal) image for a municipality.

Why code and not a picture: a demo or test municipality needs a seal that looks like one (a
square with the office's name in seal style, read right column first, top to bottom) without
copying any real seal. Real deployments register the municipality's own image. Spec 5.6: black,
at most 25 mm square (the layout decides the printed size); the background is transparent so the
seal sits over the certifier's name as on printed certificates.
"""

from __future__ import annotations

import math
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kikan.forms.fonts import DEFAULT_FONT_PATH


def draw_official_seal(
    text: str, *, size_px: int = 400, font_path: Path = DEFAULT_FONT_PATH
) -> bytes:
    """A black square seal with `text` (e.g. 日和市長之印) in vertical columns, as PNG bytes.

    The characters fill a grid of ceil(n / 3) columns of up to 3 rows (2 columns for the usual
    6 characters), read from the right column downwards.
    """
    chars = [c for c in text if not c.isspace()]
    if not chars:
        raise ValueError("a seal needs text")
    rows = 3 if len(chars) > 4 else 2
    cols = math.ceil(len(chars) / rows)
    img = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    border = max(size_px // 22, 2)
    draw.rectangle(
        [border // 2, border // 2, size_px - border // 2 - 1, size_px - border // 2 - 1],
        outline=(0, 0, 0, 255),
        width=border,
    )
    inner = size_px - 3 * border
    cell_w, cell_h = inner / cols, inner / rows
    font = ImageFont.truetype(str(font_path), int(min(cell_w * 1.05, cell_h) * 1.0))
    stroke = max(size_px // 130, 1)  # seal script is heavier than a book face
    for i, ch in enumerate(chars):
        col, row = divmod(i, rows)
        cx = 1.5 * border + inner - (col + 0.5) * cell_w
        cy = 1.5 * border + (row + 0.5) * cell_h
        draw.text(
            (cx, cy), ch, font=font, fill=(0, 0, 0, 255), anchor="mm",
            stroke_width=stroke, stroke_fill=(0, 0, 0, 255),
        )  # fmt: skip
    out = BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
