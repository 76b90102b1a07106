"""印鑑登録証明書: content from one registration row, rendered by the forms engine (帳票ID 0020001).

The registered 印影 goes to the engine like every other value: the layout's `impression` field is
an image field (kikan/forms/data/layouts/inkan_shoumei.toml), and the engine fits the picture
into its cell (aspect kept, centred, never beyond it). The PDF is the engine's, untouched.

Everything here is a function of its arguments: no shared mutable state between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from kikan.forms import render
from kikan.forms.document import Certification, FormDocument, RenderResult

FORM_ID = "0020001"
IMPRESSION_FIELD = "impression"
CERTIFICATION_TEXT = "この写しは、登録されている印影と相違ないことを証明します。"
ITEMS = ("印影", "氏名", "フリガナ", "生年月日", "性別", "住所", "旧氏・通称")


def document(
    *,
    person: Mapping[str, str],
    impression: bytes,
    registration_number: int,
    birth_display: str,
    address: str,
    issue_number: str,
    check_code: str = "",
    issue_date: date,
    certifier_title: str,
    certifier_name: str,
    official_seal_png: bytes | None,
) -> FormDocument:
    """The certificate's content from the 登録事項 and 印影 as recorded (one row, read once)."""
    kana_given = person.get("given_name_kana", "")
    other = "・".join(
        f"{label} {value}"
        for label, value in (
            ("旧氏", person.get("kyuuji", "")),
            ("通称", person.get("tsuushou", "")),
        )
        if value
    )
    return FormDocument(
        header={
            "registration_number": str(registration_number),
            "name": f"{person.get('family_name', '')}　{person.get('given_name', '')}".strip("　"),
            "kana": f"{person.get('family_name_kana', '')}　{kana_given}".strip("　"),
            "birth_date": birth_display,
            "sex": {"1": "男", "2": "女"}.get(person.get("sex", ""), ""),
            "address": address,
            "other_names": other,
        },
        entries=(),
        images={IMPRESSION_FIELD: impression},
        certification=Certification(
            text=CERTIFICATION_TEXT,
            issue_date=issue_date,
            certifier_title=certifier_title,
            certifier_name=certifier_name,
            seal_png=official_seal_png,
            notice="" if official_seal_png else "公印省略",
        ),
        issue_number=issue_number,
        check_code=check_code,
    )


def render_certificate(doc: FormDocument) -> RenderResult:
    return render(FORM_ID, doc)
