"""Draw the demo municipality's 公印 (official seal): a red square seal, three characters a column.

Run once to regenerate `kikan/platform/data/demo_seal.png`; the image is committed so the demo needs
neither Pillow nor the font at run time. Usage: .venv/bin/python scripts/make_demo_seal.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
OUT = Path(__file__).resolve().parents[1] / "kikan/platform/data/demo_seal.png"
TEXT = "日和市長之印"  # read in columns, right to left: 日和市 / 長之印
RED = (200, 30, 30, 255)


def main() -> None:
    size = 300
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    border = 14
    draw.rectangle([border, border, size - border, size - border], outline=RED, width=12)
    font = ImageFont.truetype(FONT, 84)
    cols = [TEXT[:3], TEXT[3:]]
    inner = size - 2 * border - 24
    cell = inner / 3
    for ci, col in enumerate(cols):
        x = size - border - 12 - (ci + 1) * (inner / 2)
        for ri, ch in enumerate(col):
            y = border + 12 + ri * cell
            box = draw.textbbox((0, 0), ch, font=font)
            w, h = box[2] - box[0], box[3] - box[1]
            draw.text(
                (x + (inner / 2 - w) / 2 - box[0], y + (cell - h) / 2 - box[1]),
                ch,
                font=font,
                fill=RED,
            )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    img.save(OUT, optimize=True)
    print(f"written {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
