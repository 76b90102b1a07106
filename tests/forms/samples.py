"""Sample certificate documents shared by the tests and the benchmark (fictional people)."""

from __future__ import annotations

from datetime import date
from functools import cache
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from kikan.calendar import format_wareki
from kikan.forms import Certification, FormDocument, FormOptions
from kikan.forms.fonts import DEFAULT_FONT_PATH

RARE = "𠮷田　髙橋　山﨑"
KUZU_IVS = "葛\U000e0100飾"  # 葛 + VS17: a selector IPAmj明朝 does NOT register for 葛
WATANABE_IVS = "渡邉\U000e010f"  # 邉 + VS32: an MJ IVS that IPAmj明朝 has
LONG_NAME = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処藪ら柑子の藪柑子パイポパイポパイポのシューリンガン"[
    :60
]
LONG_ADDRESS = (
    "東京都千代田区千代田一丁目一番一号千代田ハイツ東棟千二百三十四号室" * 3
    + "千代田区役所住民記録係気付　山﨑方　𠮷田様方"
)
CERT_TEXT = "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"


@cache
def seal_png(size_px: int = 300) -> bytes:
    """A black square 公印 (spec 5.6: black, ≤ 25 mm) with a transparent background."""
    img = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    edge = size_px // 20
    draw.rectangle([edge, edge, size_px - edge, size_px - edge], outline="black", width=edge)
    cell = (size_px - 4 * edge) // 3
    font = ImageFont.truetype(str(DEFAULT_FONT_PATH), int(cell * 0.95))
    # Written vertically, right column first: 千代田 | 区長印
    for col, text in enumerate(("千代田", "区長印")):
        x = (
            size_px
            - 2 * edge
            - (col + 1) * (size_px - 4 * edge) // 2
            + (size_px // 2 - 2 * edge - cell) // 2
        )
        for row, ch in enumerate(text):
            draw.text((x, 2 * edge + row * cell), ch, font=font, fill="black")
    out = BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def member(i: int, **overrides: str) -> dict[str, str]:
    names = [
        "𠮷田　太郎",
        "𠮷田　花子",
        "𠮷田　一郎",
        "髙橋　次郎",
        "山﨑　桜",
        "渡邉\U000e010f　明",
    ]
    values = {
        "name": names[i % len(names)] + ("" if i < len(names) else f"　{i}"),
        "birth_date": format_wareki(date(1960 + 7 * (i % 9), 1 + i % 12, 1 + i)),
        "relationship": ["世帯主", "妻", "子", "子", "母", "同居人"][i % 6],
        "sex": ["男", "女"][i % 2],
        "became_resident": "令和2年4月1日",
        "address_set": "令和2年4月1日",
        "notified": "令和2年4月3日",
        "previous_address": "神奈川県横浜市中区日本大通1番地",
        "remarks": "",
    }
    values.update(overrides)
    return values


def certification(seal: bool = True) -> Certification:
    return Certification(
        text=CERT_TEXT,
        issue_date=date(2026, 11, 23),
        certifier_title="東京都千代田区長",
        certifier_name="千代田　太郎",
        seal_png=seal_png() if seal else None,
        notice="この印は黒色です",
    )


def household(n: int, *, options: FormOptions | None = None, **header: str) -> FormDocument:
    return FormDocument(
        header={
            "address": "東京都千代田区千代田一丁目1番1号",
            "householder": "𠮷田　太郎",
            **header,
        },
        entries=[member(i) for i in range(n)],
        certification=certification(),
        issue_number="20261123 千代田区 本庁1 プリンタ001 011",
        options=options or FormOptions(),
    )
