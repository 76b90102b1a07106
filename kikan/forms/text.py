"""Fitting text into a box: shrink, then wrap, then grow — never cut (spec 5.8 文字溢れ).

Pure functions over a ``measure`` callback (width in mm of a text cluster at 1 pt), so the rules
are tested without a PDF. Text is handled in *clusters* (a character plus the variation selectors
or combining marks that follow it): a line break must never separate 邉 from its IVS selector.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kikan.forms.fonts import is_variation_selector

PT_MM = 25.4 / 72
LEADING = 1.25
STEP = 0.5
FLOOR_PT = 4.0

# 行頭禁則: characters a line should not start with (closing brackets, punctuation, small kana).
NO_LINE_START = frozenset(
    "、。，．,.)]｝〕〉》」』】〙〗〟’”）ー―々〻ゝゞヽヾ・：；？！:;?!"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
)

Measure = Callable[[str], float]


def line_height(size: float) -> float:
    """Line pitch in mm for a font size in points."""
    return size * LEADING * PT_MM


def clusters(text: str) -> list[str]:
    """Split text into units that must stay together (base + variation selectors/combining)."""
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        joins = is_variation_selector(cp) or unicodedata.combining(ch) or cp == 0x200D
        if out and joins and out[-1] != "\n":
            out[-1] += ch
        else:
            out.append(ch)
    return out


@dataclass(frozen=True)
class Fit:
    size: float
    lines: tuple[str, ...]
    height: float
    shrunk: bool = False
    wrapped: bool = False
    grown: bool = False
    below_minimum: bool = False
    exceeds_box: bool = False

    @property
    def overflowed(self) -> bool:
        return self.shrunk or self.wrapped or self.grown or self.below_minimum or self.exceeds_box

    @property
    def beyond_nominal_box(self) -> bool:
        """Did not fit the box at ≥ min_size (what spec 5.8 lets a city print blank)."""
        return self.grown or self.below_minimum or self.exceeds_box


def _sizes(start: float, stop: float) -> Iterator[float]:
    size = start
    while size >= stop - 1e-9:
        yield round(size, 2)
        size -= STEP


def _is_word_char(cluster: str) -> bool:
    return cluster.isascii() and cluster.isalnum()


def break_lines(text: str, width_mm: float, size: float, measure: Measure) -> list[str]:
    """Greedy line breaking by cluster, with 行頭禁則 and whole Latin words where possible.

    Explicit newlines are kept as forced breaks. A single cluster wider than the line still gets
    a line of its own: it is printed, never dropped.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current: list[str] = []
        used = 0.0
        for cl in clusters(paragraph):
            w = measure(cl) * size
            if current and used + w > width_mm + 1e-6:
                carry: list[str] = []
                if cl in NO_LINE_START and len(current) > 1:
                    carry = [current.pop()]
                elif _is_word_char(cl) and _is_word_char(current[-1]) and " " in current:
                    cut = len(current) - current[::-1].index(" ")
                    carry, current = current[cut:], current[:cut]
                lines.append("".join(current))
                current = carry
                used = sum(measure(c) * size for c in current)
            current.append(cl)
            used += w
        lines.append("".join(current))
    return lines


def fit_text(
    text: str,
    *,
    width_mm: float,
    height_mm: float,
    size: float,
    min_size: float,
    wrap: bool,
    can_grow: bool,
    measure: Measure,
) -> Fit:
    """Choose the font size and lines for ``text`` in a ``width_mm`` × ``height_mm`` box.

    Order (spec 5.8: adjust the size so nothing is cut, report what had to give):
    1. one line, from ``size`` down to ``min_size``;
    2. if wrapping is allowed, several lines, from ``size`` down to ``min_size``, within the height;
    3. if the row may grow: lines at ``min_size`` and a taller row;
    4. otherwise below ``min_size`` down to 4 pt; and if even that does not fit, 4 pt lines that
       run past the box (reported as ``exceeds_box``) — the text is still complete.
    """
    if not text:
        return Fit(size=size, lines=(), height=0.0)
    single = "\n" not in text
    text_w = sum(measure(c) for c in clusters(text)) if single else 0.0
    if single:
        for s in _sizes(size, min_size):
            if text_w * s <= width_mm + 1e-6 and line_height(s) <= height_mm + 1e-6:
                return Fit(size=s, lines=(text,), height=line_height(s), shrunk=s < size)
    if wrap:
        for s in _sizes(size, min_size):
            lines = break_lines(text, width_mm, s, measure)
            if len(lines) * line_height(s) <= height_mm + 1e-6:
                return Fit(
                    size=s,
                    lines=tuple(lines),
                    height=len(lines) * line_height(s),
                    shrunk=s < size,
                    wrapped=len(lines) > 1,
                )
        if can_grow:
            lines = break_lines(text, width_mm, min_size, measure)
            return Fit(
                size=min_size,
                lines=tuple(lines),
                height=len(lines) * line_height(min_size),
                shrunk=min_size < size,
                wrapped=len(lines) > 1,
                grown=True,
            )
    for s in _sizes(min_size - STEP, FLOOR_PT):
        lines = break_lines(text, width_mm, s, measure) if wrap else [text]
        fits_w = wrap or text_w * s <= width_mm + 1e-6
        if fits_w and len(lines) * line_height(s) <= height_mm + 1e-6:
            return Fit(
                size=s,
                lines=tuple(lines),
                height=len(lines) * line_height(s),
                shrunk=True,
                wrapped=len(lines) > 1,
                below_minimum=True,
            )
    lines = break_lines(text, width_mm, FLOOR_PT, measure)
    return Fit(
        size=FLOOR_PT,
        lines=tuple(lines),
        height=len(lines) * line_height(FLOOR_PT),
        shrunk=True,
        wrapped=len(lines) > 1,
        below_minimum=True,
        exceeds_box=True,
    )
