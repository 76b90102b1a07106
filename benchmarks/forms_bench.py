"""Certificate rendering throughput on one core, against an empty fpdf2 page.

    .venv/bin/python -m benchmarks.forms_bench --n 200

Cases (all in one process, sequentially, so on one core):

- ``empty_page`` (baseline): ``FPDF(); add_page(); output()`` — what any PDF costs.
- ``setai_4_members``: ``render("0010001", …)`` of a 4-member 住民票の写し（世帯連記式）with header,
  認証文, 発行日, 認証者 and a 公印 PNG, the font already parsed (the steady state of a service).
  Reported per page (this document is one page) with latency percentiles.
- ``font_per_document``: attach the cached font, draw one line and output — the part of every
  document that is font subsetting and embedding (the floor under any certificate).
- ``add_font_per_document``: the naive way, ``add_font`` in each document (a few runs only).
- ``font_cold_parse``: the one-time parse when the process renders its first certificate.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from io import BytesIO

from fpdf import FPDF
from PIL import Image, ImageDraw

from benchmarks.runner import Benchmark, Case
from kikan.forms import Certification, FormDocument, render
from kikan.forms import fonts as forms_fonts

LINE = "𠮷田　太郎　髙橋　山﨑　渡邉\U000e010f　住民票の写し"


def seal() -> bytes:
    img = Image.new("RGBA", (260, 260), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle([10, 10, 250, 250], outline="black", width=14)
    out = BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def document(members: int) -> FormDocument:
    names = ["𠮷田　太郎", "𠮷田　花子", "髙橋　一郎", "山﨑　桜"]
    return FormDocument(
        header={"address": "東京都千代田区千代田一丁目1番1号", "householder": "𠮷田　太郎"},
        entries=[
            {
                "name": names[i % 4],
                "birth_date": f"昭和{40 + i}年{i + 1}月{i + 1}日",
                "relationship": ["世帯主", "妻", "子", "子"][i % 4],
                "sex": ["男", "女"][i % 2],
                "became_resident": "令和2年4月1日",
                "address_set": "令和2年4月1日",
                "notified": "令和2年4月3日",
                "previous_address": "神奈川県横浜市中区日本大通1番地",
            }
            for i in range(members)
        ],
        certification=Certification(
            text="この写しは、世帯全員の住民票の原本と相違ないことを証明する。",
            issue_date=date(2026, 11, 23),
            certifier_title="東京都千代田区長",
            certifier_name="千代田　太郎",
            seal_png=seal(),
            notice="この印は黒色です",
        ),
        issue_number="20261123 千代田区 本庁1 プリンタ001 011",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="documents per case")
    args = parser.parse_args()
    n = args.n
    doc = document(4)
    bench = Benchmark("forms", dataset={"documents": n, "members": 4, "form": "0010001"})

    forms_fonts.clear_cache()
    with bench.case("font_cold_parse", items=1, unit="parses"):
        shared = forms_fonts.shared_font()

    render("0010001", doc)  # warm imports, registry and layout cache
    with bench.case("empty_page", items=n, unit="pages", baseline=True):
        for _ in range(n):
            pdf = FPDF()
            pdf.add_page()
            pdf.output()

    samples: list[float] = []
    pages = 0
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        pages += render("0010001", doc).pages
        samples.append(time.perf_counter() - t)
    bench.add(Case("setai_4_members", time.perf_counter() - t0, pages, "pages", samples))

    with bench.case("font_per_document", items=n, unit="documents"):
        for _ in range(n):
            pdf = FPDF()
            forms_fonts.attach_font(pdf, shared)
            pdf.set_text_shaping(True)
            pdf.add_page()
            pdf.set_font(forms_fonts.FONT_FAMILY, size=12)
            pdf.cell(text=LINE)
            pdf.output()

    naive = max(3, n // 40)
    with bench.case("add_font_per_document", items=naive, unit="documents"):
        for _ in range(naive):
            pdf = FPDF()
            pdf.add_font(forms_fonts.FONT_FAMILY, fname=str(forms_fonts.DEFAULT_FONT_PATH))
            pdf.set_text_shaping(True)
            pdf.add_page()
            pdf.set_font(forms_fonts.FONT_FAMILY, size=12)
            pdf.cell(text=LINE)
            pdf.output()

    size = len(render("0010001", doc).pdf)
    bench.note(f"a 4-member 世帯連記式 certificate is {size:,} bytes (subset IPAmj明朝 + 公印 PNG)")
    bench.note("one process, sequential: one core. font_cold_parse is paid once per process.")
    bench.finish()


if __name__ == "__main__":
    main()
