"""Optional layout rows (``omit_empty``): items a person lacks or a requester left out take no
space, and a row is never dropped while one of its fields has a value."""

from __future__ import annotations

from kikan.forms import FormDocument, default_registry, render
from kikan.forms.layout import bundled_layout
from tests.forms.conftest import pdftotext


def _entry(**extra: str) -> dict[str, str]:
    return {"name": "𠮷田　髙﨑", "birth_date": "昭和50年1月1日", "sex": "男", **extra}


def test_optional_rows_are_declared_in_the_bundled_layouts() -> None:
    layout = bundled_layout(default_registry().forms["0010001"].layout_file)
    optional = {f.field for r in layout.entries.rows if r.omit_empty for f in r.fields}
    assert {"my_number", "resident_code", "honseki", "nationality", "remarks"} <= optional
    assert not any(r.omit_empty for r in layout.entries.rows if r.fields[0].field == "name")


def test_empty_optional_rows_are_left_out_and_filled_ones_kept() -> None:
    bare = render("0010001", FormDocument(header={"address": "架空県日和市"}, entries=[_entry()]))
    text = pdftotext(bare.pdf)
    assert "𠮷田" in text and "髙﨑" in text
    for label in ("個人番号", "本籍", "国籍・地域", "備考"):
        assert label not in text
    full = render(
        "0010001",
        FormDocument(
            header={"address": "架空県日和市"},
            entries=[_entry(my_number="123456789018", remarks="令和6年4月1日 転居")],
        ),
    )
    text = pdftotext(full.pdf)
    assert "個人番号" in text and "123456789018" in text and "住民票コード" in text
    assert "備考" in text and "本籍" not in text


def test_prepared_form_gets_its_number_on_every_page_last() -> None:
    """`prepare` lays out without the 発行番号; `finish` prints it on each page (the issuing
    service takes the number only after the layout, to keep its counter locked briefly)."""
    import pytest

    from kikan.forms import prepare

    entries = [_entry(remarks=f"第{i}項") for i in range(14)]
    prepared = prepare("0010001", FormDocument(header={"address": "架空県日和市"}, entries=entries))
    assert prepared.pages >= 2
    result = prepared.finish("992011-2026-0000042")
    for page in range(1, result.pages + 1):
        text = "".join(pdftotext(result.pdf, page).split())
        assert "発行番号992011-2026-0000042" in text and f"{page}/{result.pages}" in text
        assert "𠮷田" in text
    with pytest.raises(RuntimeError):
        prepared.finish("992011-2026-0000043")
