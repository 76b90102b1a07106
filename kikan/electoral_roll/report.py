"""Outputs of 選挙人名簿管理 as files: 選挙人名簿抄本 (CSV, PDF) and 登録者数 (HTML, Excel).

Pure functions of the use cases' results: no database, so the API and the CLI write the same
bytes. The CSV is UTF-8 with a BOM (Excel opens it as Japanese), one row per entry in the order
the use case gives (address, then household). The PDF is the same list for one 投票区 through
the forms engine (帳票ID 0060001, provisional like every ID of kikan/forms/data/registry.toml):
the engine paginates, repeats the header (投票区, 基準日) and numbers the pages, and prints MJ
characters with the bundled font (a character it cannot print is reported, never dropped).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook

from kikan.calendar import DateError, RegisterDate, format_wareki
from kikan.electoral_roll.service import CountRow, EntryView, ExtractHeading
from kikan.forms import render
from kikan.forms.document import FormDocument, RenderResult

#: 帳票ID of the 選挙人名簿抄本 (provisional: 業務コード 006 + serial, confidence low)
SHOHON_FORM_ID = "0060001"
#: the column headings printed under the page header (the layout's header row)
SHOHON_COLUMNS = {
    "col_no": "番号", "col_address": "住所", "col_household": "世帯番号", "col_name": "氏名",
    "col_kana": "フリガナ", "col_birth": "生年月日", "col_sex": "性別", "col_mark": "表示",
}  # fmt: skip

SEX = {"1": "男", "2": "女"}

EXTRACT_COLUMNS = (
    "投票区", "住所", "世帯番号", "宛名番号", "氏名", "フリガナ", "生年月日", "性別", "表示",
    "転出日", "抹消予定日",
)  # fmt: skip


def extract_csv(entries: Sequence[EntryView]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXTRACT_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.district, e.address, e.household_number, e.atena_number, e.name, e.kana,
                e.birth_date, SEX.get(e.sex, "その他"), "表示" if e.mark == "表示" else "",
                e.moved_out.isoformat() if e.moved_out else "",
                e.strike_on.isoformat() if e.strike_on else "",
            ]
        )  # fmt: skip
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _birth(text: str) -> str:
    """The register's date (storage form, 不詳 allowed) as printed; unreadable: as stored."""
    try:
        return RegisterDate.from_storage(text).display()
    except (DateError, ValueError):
        return text


def _mark(e: EntryView) -> str:
    if e.mark != "表示":
        return ""
    return "表示" + (f"（転出 {e.moved_out.isoformat()}）" if e.moved_out else "")


def extract_pdf(entries: Sequence[EntryView], heading: ExtractHeading) -> RenderResult:
    """選挙人名簿抄本 of one 投票区 as a PDF (the entries in the use case's order, numbered)."""
    district = f"{heading.district}　{heading.district_name}".strip()
    header = {
        "district": district,
        "base_date": format_wareki(heading.base_date),
        "roll": f"{heading.kind}（名簿番号 {heading.roll_id}）",
        **SHOHON_COLUMNS,
    }
    rows = [
        {
            "no": str(n), "address": e.address, "household_number": e.household_number,
            "name": e.name, "kana": e.kana, "birth_date": _birth(e.birth_date),
            "sex": SEX.get(e.sex, "その他"), "mark": _mark(e),
        }
        for n, e in enumerate(entries, 1)
    ]  # fmt: skip
    return render(SHOHON_FORM_ID, FormDocument(header=header, entries=rows))


def _title(base_date: date) -> str:
    return f"選挙人名簿登録者数（基準日 {base_date.isoformat()}）"


def counts_html(rows: Sequence[CountRow], base_date: date) -> str:
    """A printable page (no script, no external resource)."""
    body = "".join(
        f"<tr><td>{html.escape(r.district or '未設定')}</td><td>{html.escape(r.name)}</td>"
        f"<td>{r.male}</td><td>{r.female}</td><td>{r.other}</td><td>{r.total}</td></tr>"
        for r in rows
    )
    total = CountRow("", "", sum(r.male for r in rows), sum(r.female for r in rows),
                     sum(r.other for r in rows))  # fmt: skip
    title = html.escape(_title(base_date))
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        "<table><thead><tr><th>投票区</th><th>名称</th><th>男</th><th>女</th><th>その他</th>"
        f'<th>計</th></tr></thead><tbody>{body}</tbody><tfoot><tr><th colspan="2">合計</th>'
        f"<td>{total.male}</td><td>{total.female}</td><td>{total.other}</td>"
        f"<td>{total.total}</td></tr></tfoot></table></body></html>"
    )


def counts_xlsx(rows: Sequence[CountRow], base_date: date) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "登録者数"
    sheet.append([_title(base_date)])
    sheet.append(["投票区", "名称", "男", "女", "その他", "計"])
    for r in rows:
        sheet.append([r.district or "未設定", r.name, r.male, r.female, r.other, r.total])
    sheet.append(["合計", "", sum(r.male for r in rows), sum(r.female for r in rows),
                  sum(r.other for r in rows), sum(r.total for r in rows)])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
