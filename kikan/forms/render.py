"""``render(form_id, document)``: lay a ``FormDocument`` out on A4 pages and return the PDF.

Each call builds its own ``FPDF`` and its own measurement cache; the only shared things are the
immutable parsed font (``kikan.forms.fonts``) and the immutable, once-loaded registry and layouts.
So concurrent renders in threads share no mutable state of ours.

Steps: fit every value (shrink → wrap → grow, ``kikan.forms.text``), paginate entries (an entry is
never split across pages; the certification block needs room on the last page, else it gets a
page of its own), then draw: furniture and header on every page, entries, and the certification
(認証文, 発行日 in 和暦, 認証者, 公印 over the end of the name) on the last page only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from fpdf import FPDF

from kikan.calendar import format_wareki
from kikan.forms.document import (
    Certification,
    FormDocument,
    Overflow,
    OverflowReason,
    RenderResult,
)
from kikan.forms.errors import FormDataError, UnknownFormError
from kikan.forms.fonts import (
    DEFAULT_FONT_PATH,
    FONT_FAMILY,
    SharedFont,
    attach_font,
    is_variation_selector,
    shapes_as_mapped,
    shared_font,
)
from kikan.forms.image import CheckedImage, Placement, check_image, fit_image
from kikan.forms.layout import (
    Box,
    FieldSpec,
    Layout,
    Registry,
    Row,
    Section,
    bundled_layout,
    default_registry,
    load_layout_file,
)
from kikan.forms.text import Fit, clusters, fit_text, line_height

CELL_PAD = 1.0  # mm of padding left and right inside a value cell
LINE_WIDTH = 0.2
SEAL_OVERLAP = (
    1.0  # the 公印's left edge sits this many em left of the name's end: over its last char
)


#: cluster widths (mm at 1 pt) per shared font, bounded by the font's repertoire in practice;
#: keyed by the font object itself, so a font parsed again never meets a stale width
_CLUSTER_WIDTHS: dict[tuple[SharedFont, str], float] = {}
_CLUSTER_WIDTHS_MAX = 200_000


@dataclass
class _Placed:
    """A fitted value of one field in one row."""

    spec: FieldSpec
    text: str
    fit: Fit
    path: str


@dataclass
class _Block:
    """Fitted rows of the header or of one entry, with each row's final height."""

    rows: list[tuple[Row, float, list[_Placed]]] = field(default_factory=list)

    @property
    def height(self) -> float:
        return sum(h for _row, h, _placed in self.rows)


class _Renderer:
    """One render: owns its FPDF, its width cache and the overflow list being collected."""

    def __init__(
        self,
        layout: Layout,
        font: SharedFont,
        doc: FormDocument,
        images: Mapping[str, CheckedImage] | None = None,
    ) -> None:
        self.layout = layout
        self.font = font
        self.doc = doc
        self.images = dict(images or {})
        self.pdf = FPDF(
            orientation="portrait" if layout.page_w < layout.page_h else "landscape",
            unit="mm",
            format="A4",
        )
        attach_font(self.pdf, font)
        self.pdf.set_text_shaping(True)
        self.pdf.set_auto_page_break(auto=False)
        self.pdf.set_margins(0, 0, 0)
        self.pdf.c_margin = CELL_PAD
        self.pdf.set_line_width(LINE_WIDTH)
        self.pdf.set_font(FONT_FAMILY, size=10)
        self.overflow: list[Overflow] = []
        self._reported: set[str] = set()  # header and furniture repeat on every page
        self._page = 1

    # ----------------------------------------------------------------- measuring and fitting

    def measure(self, cluster: str) -> float:
        """Width of a cluster in mm at 1 pt, from HarfBuzz shaping (cached per process: a
        cluster's width depends on the font only, and certificates repeat the same characters)."""
        key = (self.font, cluster)
        width = _CLUSTER_WIDTHS.get(key)
        if width is None:
            self.pdf.set_font_size(10)
            width = self.pdf.get_string_width(cluster) / 10
            if len(_CLUSTER_WIDTHS) < _CLUSTER_WIDTHS_MAX:
                _CLUSTER_WIDTHS[key] = width
        return width

    def fit(self, text: str, w: float, h: float, size: float, min_size: float, *,
            wrap: bool, grow: bool) -> Fit:  # fmt: skip
        return fit_text(
            text,
            width_mm=max(w - 2 * CELL_PAD, 1.0),
            height_mm=h,
            size=size,
            min_size=min_size,
            wrap=wrap,
            can_grow=grow,
            measure=self.measure,
        )

    def _character_problems(self, text: str) -> tuple[list[OverflowReason], str]:
        reasons: list[OverflowReason] = []
        missing: list[str] = []
        variants: list[str] = []
        for cl in clusters(text):
            base = ord(cl[0])
            if cl[0] not in "\n" and not self.font.has_char(base):
                missing.append(f"{cl} (U+{base:04X})")
            for sel in cl[1:]:
                if is_variation_selector(ord(sel)) and not self.font.has_ivs(base, ord(sel)):
                    variants.append(f"{cl[0]}+U+{ord(sel):04X}")
        details = []
        if missing:
            reasons.append("unsupported_character")
            details.append("字形なし: " + "、".join(missing))
        if variants:
            reasons.append("unsupported_variation")
            details.append("異体字セレクタ未対応: " + "、".join(variants))
        return reasons, " / ".join(details)

    def report(self, path: str, label: str, text: str, nominal: float, fit: Fit) -> None:
        reasons: list[OverflowReason] = []
        if fit.shrunk:
            reasons.append("shrunk")
        if fit.wrapped:
            reasons.append("wrapped")
        if fit.grown:
            reasons.append("grown")
        if fit.below_minimum:
            reasons.append("below_minimum")
        if fit.exceeds_box:
            reasons.append("exceeds_box")
        if fit.beyond_nominal_box and self.doc.options.overflow_output == "blank":
            reasons.append("blanked")
        char_reasons, detail = self._character_problems(text)
        reasons.extend(char_reasons)
        if reasons and path not in self._reported:
            self._reported.add(path)
            self.overflow.append(
                Overflow(
                    field=path,
                    label=label,
                    page=self._page,
                    text=text,
                    nominal_size=nominal,
                    used_size=fit.size,
                    lines=len(fit.lines),
                    reasons=tuple(reasons),
                    detail=detail,
                )
            )

    def fit_block(self, section: Section, values: Mapping[str, str], prefix: str) -> _Block:
        block = _Block()
        for row in section.rows:
            if row.omit_empty and not any(
                values.get(f.field, "") or (f.kind == "image" and f.field in self.images)
                for f in row.fields
            ):
                continue
            placed: list[_Placed] = []
            height = row.h
            for spec in row.fields:
                text = values.get(spec.field, "")
                fit = self.fit(text, spec.value_w, row.h, spec.size, spec.min_size,
                               wrap=spec.wrap, grow=row.grow)  # fmt: skip
                placed.append(_Placed(spec, text, fit, f"{prefix}.{spec.field}"))
                if fit.grown:
                    height = max(height, fit.height + 1.0)
            block.rows.append((row, height, placed))
        return block

    # ----------------------------------------------------------------- drawing

    def draw_lines(self, fit: Fit, x: float, y: float, w: float, h: float, *, align: str) -> None:
        """Draw fitted lines vertically centred in the box (each line its own cell)."""
        if not fit.lines:
            return
        self.pdf.set_font_size(fit.size)
        pitch = line_height(fit.size)
        top = y + max((h - pitch * len(fit.lines)) / 2, 0.0)
        for i, line in enumerate(fit.lines):
            self.pdf.set_xy(x, top + i * pitch)
            if shapes_as_mapped(self.font, line):
                # identical output without fpdf2's shaping pipeline (see `shapes_as_mapped`)
                shaping, self.pdf.text_shaping = self.pdf.text_shaping, None
                try:
                    self.pdf.cell(w=w, h=pitch, text=line, align=align)
                finally:
                    self.pdf.text_shaping = shaping
            else:
                self.pdf.cell(w=w, h=pitch, text=line, align=align)

    def draw_box(self, box: Box, text: str, path: str, label: str, *, x0: float = 0.0,
                 y0: float = 0.0, report: bool = True) -> Fit:  # fmt: skip
        fit = self.fit(text, box.w, box.h, box.size, box.min_size, wrap=True, grow=False)
        if report:
            self.report(path, label, text, box.size, fit)
        if not (fit.beyond_nominal_box and self.doc.options.overflow_output == "blank"):
            self.draw_lines(fit, x0 + box.x, y0 + box.y, box.w, box.h, align=box.align)
        return fit

    def draw_block(self, section: Section, block: _Block, y: float) -> float:
        pdf = self.pdf
        for _row, height, placed in block.rows:
            x = section.x
            for p in placed:
                spec = p.spec
                pdf.rect(x, y, spec.w, height)
                if spec.label_w:
                    pdf.line(x + spec.label_w, y, x + spec.label_w, y + height)
                    label_fit = self.fit(spec.label, spec.label_w, height, section.label_size,
                                         4.0, wrap=True, grow=False)  # fmt: skip
                    self.draw_lines(label_fit, x, y, spec.label_w, height, align="C")
                if spec.kind == "image":
                    self.draw_image(spec, x + spec.label_w, y, height)
                    x += spec.w
                    continue
                self.report(p.path, spec.label, p.text, spec.size, p.fit)
                blank = p.fit.beyond_nominal_box and self.doc.options.overflow_output == "blank"
                if not blank:
                    self.draw_lines(
                        p.fit, x + spec.label_w, y, spec.value_w, height, align=spec.align
                    )
                x += spec.w
            y += height
        return y

    def draw_image(self, spec: FieldSpec, x: float, y: float, height: float) -> None:
        """The field's picture in its value cell: aspect kept, centred, inside the padding."""
        image = self.images.get(spec.field)
        if image is None:
            return
        box = Placement(x, y, spec.value_w, height)
        at = fit_image(image.width, image.height, box, pad=spec.pad)
        # fpdf2 embeds a JPEG's bytes as they are and a PNG's pixels losslessly (alpha as a
        # soft mask); the same picture on several pages is embedded once
        self.pdf.image(BytesIO(image.data), x=at.x, y=at.y, w=at.w, h=at.h)

    def draw_furniture(self, form_id: str, title: str, page: int, pages: int) -> None:
        lay = self.layout
        self.draw_box(lay.title, title, "title", "表題")
        if self.doc.options.official_use:
            b = lay.title
            self.pdf.set_font_size(12)
            self.pdf.set_xy(b.x + b.w - 22, b.y + (b.h - 8) / 2)
            self.pdf.cell(w=18, h=8, text="公用", border=1, align="C")
        self.draw_box(lay.form_id, f"帳票ID {form_id}", "form_id", "帳票ID", report=False)
        self.draw_box(lay.page_number, f"{page} / {pages}", "page", "頁", report=False)

    def draw_certification(self, cert: Certification, top: float) -> None:
        spec = self.layout.certification
        x0 = spec.x
        self.draw_box(spec.text, cert.text, "certification.text", "認証文", x0=x0, y0=top)
        self.draw_box(spec.issue_date, format_wareki(cert.issue_date), "certification.issue_date",
                      "発行日", x0=x0, y0=top)  # fmt: skip
        signer = f"{cert.certifier_title}　{cert.certifier_name}"
        fit = self.draw_box(spec.certifier, signer, "certification.certifier", "認証者",
                            x0=x0, y0=top)  # fmt: skip
        if cert.notice:
            self.draw_box(spec.notice, cert.notice, "certification.notice", "公印文言",
                          x0=x0, y0=top)  # fmt: skip
        if cert.seal_png is not None and fit.lines:
            self.draw_official_seal(cert.seal_png, spec.certifier, fit, x0, top)

    def draw_official_seal(self, png: bytes, box: Box, fit: Fit, x0: float, top: float) -> None:
        """Put the 公印 over the end of the certifier's name, as on printed certificates.

        The seal's left edge lies on the last character of the name (one em left of the end of the
        last line), so the seal covers that character and extends to the right of the name, and it
        is centred vertically on that line. Layouts leave room for it right of the certifier box.
        """
        size = self.layout.certification.seal_mm
        pitch = line_height(fit.size)
        lines_top = top + box.y + max((box.h - pitch * len(fit.lines)) / 2, 0.0)
        last_line_mid = lines_top + pitch * (len(fit.lines) - 0.5)
        em = fit.size * 25.4 / 72
        if box.align == "R":
            name_end = x0 + box.x + box.w - CELL_PAD
        else:
            width = sum(self.measure(c) for c in clusters(fit.lines[-1])) * fit.size
            start = x0 + box.x + CELL_PAD
            name_end = start + (width if box.align == "L" else (box.w - 2 * CELL_PAD + width) / 2)
        left = name_end - SEAL_OVERLAP * em
        try:
            self.pdf.image(BytesIO(png), x=left, y=last_line_mid - size / 2, w=size, h=size)
        except Exception as exc:  # fpdf2/Pillow raise many types for a bad image
            raise FormDataError(
                "document", "certification.seal_png", f"not a usable image: {exc}"
            ) from exc

    # ----------------------------------------------------------------- the whole document

    def finish(self, issue_number: str, total: int, check_code: str = "") -> bytes:
        """Print the 発行番号 on every page (each copy has its own, spec 5.5) and write the PDF.

        `check_code` (照合番号) is printed after the number: a checker needs both, so the
        sequential number alone cannot be used to enumerate issued certificates.

        Split from `run` so a caller can lay the document out before it takes the number: the
        number's counter stays locked only for this step and the output (font subsetting).
        """
        if issue_number:
            for number in range(1, total + 1):
                self._page = number
                self.pdf.page = number
                self.pdf.current_font_is_set_on_page = False  # the page's stream ended elsewhere
                printed = f"発行番号 {issue_number}" + (
                    f"　照合番号 {check_code}" if check_code else ""
                )
                self.draw_box(
                    self.layout.issue_number,
                    printed,
                    "issue_number",
                    "発行番号",
                )
            self.pdf.page = total
        return bytes(self.pdf.output())

    def run(self, form_id: str, title: str) -> int:
        lay, doc = self.layout, self.doc
        header = self.fit_block(lay.header, doc.header, "header")
        entries = [
            self.fit_block(lay.entries, values, f"entries[{i}]")
            for i, values in enumerate(doc.entries)
        ]
        body_top = lay.header.y + header.height + lay.entries.gap
        bottom = lay.entries.bottom
        pages: list[list[tuple[_Block, float]]] = [[]]
        y = body_top
        for block in entries:
            if pages[-1] and y + block.height > bottom:
                pages.append([])
                y = body_top
            pages[-1].append((block, y))
            y += block.height + lay.entries.gap
        cert_top = bottom - lay.certification.height
        if doc.certification is not None and pages[-1] and y - lay.entries.gap > cert_top:
            pages.append([])
        total = len(pages)
        for number, placed in enumerate(pages, start=1):
            self._page = number
            self.pdf.add_page()
            self.draw_furniture(form_id, title, number, total)
            self.draw_block(lay.header, header, lay.header.y)
            for block, top in placed:
                self.draw_block(lay.entries, block, top)
            if number == total and doc.certification is not None:
                self.draw_certification(doc.certification, cert_top)
        return total


def _check_document(layout: Layout, doc: FormDocument) -> dict[str, CheckedImage]:
    """Refuse values for fields the layout does not have: a typo must not vanish silently.
    Returns the document's pictures, each decoded once and checked (PNG or JPEG)."""
    image_keys = layout.header.image_keys()
    header_keys = layout.header.field_keys() - image_keys
    for key in doc.header:
        if key in image_keys:
            raise FormDataError(
                "document", f"header.{key}", "an image field: give its picture in images"
            )
        if key not in header_keys:
            raise FormDataError(
                "document", f"header.{key}", f"not a header field of {layout.source} "
                f"(fields: {', '.join(sorted(header_keys))})"
            )  # fmt: skip
    images: dict[str, CheckedImage] = {}
    for key, data in doc.images.items():
        if key not in image_keys:
            raise FormDataError(
                "document", f"images.{key}", f"not an image field of {layout.source} "
                f"(image fields: {', '.join(sorted(image_keys)) or 'none'})"
            )  # fmt: skip
        images[key] = check_image(data, f"images.{key}")
    entry_keys = layout.entries.field_keys()
    for i, entry in enumerate(doc.entries):
        for key in entry:
            if key not in entry_keys:
                raise FormDataError(
                    "document", f"entries[{i}].{key}", f"not an entry field of {layout.source} "
                    f"(fields: {', '.join(sorted(entry_keys))})"
                )  # fmt: skip
    values = [*doc.header.values(), *(v for e in doc.entries for v in e.values())]
    if any(not isinstance(v, str) for v in values):
        raise FormDataError("document", "", "every value must be text (format dates first)")
    return images


class PreparedForm:
    """A document laid out and drawn except for its 発行番号; `finish` adds it and outputs.

    Single use and private to one request: it owns its FPDF object.
    """

    def __init__(self, renderer: _Renderer, pages: int, form_id: str, form_version: str) -> None:
        self._renderer: _Renderer | None = renderer
        self.pages = pages
        self.form_id = form_id
        self.form_version = form_version

    def finish(self, issue_number: str, check_code: str = "") -> RenderResult:
        renderer = self._renderer
        if renderer is None:
            raise RuntimeError("a prepared form is finished once")
        self._renderer = None
        pdf = renderer.finish(issue_number, self.pages, check_code)
        return RenderResult(
            pdf=pdf,
            pages=self.pages,
            overflow=tuple(renderer.overflow),
            form_id=self.form_id,
            form_version=self.form_version,
        )


def prepare(
    form_id: str,
    document: FormDocument,
    *,
    registry: Registry | None = None,
    data_dir: Path | None = None,
    font_path: Path = DEFAULT_FONT_PATH,
) -> PreparedForm:
    """Lay out and draw ``document`` except its 発行番号 (``document.issue_number`` is ignored);
    ``.finish(number)`` prints the number on every page and returns the `RenderResult`."""
    reg = registry if registry is not None else default_registry()
    entry = reg.forms.get(form_id)
    if entry is None:
        raise UnknownFormError(form_id, sorted(reg.forms))
    layout = (
        load_layout_file(entry.layout_file, data_dir)
        if data_dir is not None
        else bundled_layout(entry.layout_file)
    )
    images = _check_document(layout, document)
    renderer = _Renderer(layout, shared_font(font_path), document, images)
    renderer.pdf.set_title(f"{entry.title}（{entry.name}）")
    renderer.pdf.set_creator("Kikan forms")
    renderer.pdf.set_lang("ja")
    pages = renderer.run(form_id, entry.title)
    return PreparedForm(renderer, pages, form_id, entry.version)


def render(
    form_id: str,
    document: FormDocument,
    *,
    registry: Registry | None = None,
    data_dir: Path | None = None,
    font_path: Path = DEFAULT_FONT_PATH,
) -> RenderResult:
    """Render the form registered as ``form_id`` with ``document``'s content.

    ``registry``/``data_dir`` default to the bundled data (tests pass their own). Raises
    ``UnknownFormError`` for an unregistered 帳票ID and ``FormDataError`` for a document that does
    not match the layout.
    """
    prepared = prepare(form_id, document, registry=registry, data_dir=data_dir, font_path=font_path)
    return prepared.finish(document.issue_number, document.check_code)
