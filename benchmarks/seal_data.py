"""Synthetic 印鑑登録 inputs for the benchmark: person rows as the linkage API delivers them, and
seal impressions.

Kept here rather than imported from tests/ so the benchmarks depend only on Kikan's public API and
stay runnable from an installed package without the test tree.
"""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw

from kikan.calendar.register_date import RegisterDate
from kikan.calendar.wareki import format_wareki


def png(size: int = 120, text: str = "") -> bytes:
    """A small red-on-white seal impression (a real PNG)."""
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    draw.ellipse((4, 4, size - 4, size - 4), outline="red", width=4)
    draw.text((size // 3, size // 3), text or "印", fill="red")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def record(
    atena: str,
    family: str = "青木",
    given: str = "太郎",
    *,
    status: str = "10",
    birth: date = date(1980, 4, 1),
) -> dict[str, str]:
    """A standard-layout person row (item code → string) as 全件/差分 deliver it."""
    return {
        "atena_number": atena,
        "household_number": "1" + atena[1:],
        "status": status,
        "family_name": family,
        "given_name": given,
        "family_name_kana": "アオキ",
        "given_name_kana": "タロウ",
        "kyuuji": "",
        "tsuushou": "",
        "sex": "1",
        "birth_date": RegisterDate.parse(format_wareki(birth)).to_storage(),
    }
