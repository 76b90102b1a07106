"""kikan.forms: the 帳票 engine — certificate layouts rendered to PDF with IPAmj明朝.

Pure library: no database, no business rules (who may get which certificate is the business
module's decision); it imports only kikan.calendar. The 帳票ID registry and the layouts are data
(``data/registry.toml``, ``data/layouts/*.toml``).

Public API::

    render(form_id, FormDocument(...)) -> RenderResult(pdf, pages, overflow, form_id, form_version)
    prepare(form_id, FormDocument(...)).finish(issue_number) -> RenderResult  (number drawn last)
    FormDocument(header={...}, entries=[{...}, ...], images={"field": png_or_jpeg_bytes},
                 certification=Certification(...), issue_number="...", options=FormOptions(...))
    default_registry() -> Registry          load_registry(data_dir) / load_layout(path)
    shared_font() -> SharedFont             (the parsed IPAmj明朝, once per process)
"""

from kikan.forms.document import (
    Certification,
    FormDocument,
    FormOptions,
    Overflow,
    OverflowReason,
    RenderResult,
)
from kikan.forms.errors import FormDataError, UnknownFormError
from kikan.forms.fonts import load_count, shared_font
from kikan.forms.layout import (
    FormEntry,
    Layout,
    Registry,
    default_registry,
    load_layout,
    load_registry,
    parse_layout,
    parse_registry,
)
from kikan.forms.render import PreparedForm, prepare, render

__all__ = [
    "Certification",
    "FormDataError",
    "FormDocument",
    "FormEntry",
    "FormOptions",
    "Layout",
    "Overflow",
    "OverflowReason",
    "PreparedForm",
    "Registry",
    "RenderResult",
    "UnknownFormError",
    "default_registry",
    "load_count",
    "load_layout",
    "load_registry",
    "parse_layout",
    "parse_registry",
    "prepare",
    "render",
    "shared_font",
]
