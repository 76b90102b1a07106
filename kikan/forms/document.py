"""What a caller gives the engine (``FormDocument``) and what it gets back (``RenderResult``).

The document is page-independent: the caller never thinks about pages, sizes or positions; the
layout and the engine decide those. Values are already formatted text (dates in 和暦 or 西暦 as the
spec requires for the person, 続柄, addresses with 方書): formatting rules belong to the business
module that knows the person, not to the printer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

OverflowOutput = Literal["full", "blank"]

OverflowReason = Literal[
    "shrunk",  # printed smaller than the layout's nominal size (still ≥ min_size)
    "wrapped",  # printed on more than one line
    "grown",  # the row was made taller than its nominal height to hold every line
    "below_minimum",  # a fixed box: printed smaller than min_size to fit
    "exceeds_box",  # even the smallest size runs past the box; printed in full anyway
    "blanked",  # options.overflow_output == "blank": left empty on purpose (spec 5.8)
    "unsupported_character",  # the font has no glyph: the character cannot be printed
    "unsupported_variation",  # the font lacks this IVS: the base glyph is printed instead
]


@dataclass(frozen=True)
class Certification:
    """The 認証 block on the last page.

    ``text`` is the 認証文 (e.g. この写しは、世帯全員の住民票の原本と相違ないことを証明する。);
    ``certifier_title`` includes the prefecture (spec 5.6: 東京都千代田区長); ``seal_png`` is the
    electronic 公印 (black, at most 25 mm square when printed), placed over the end of the name.
    ``notice`` is a fixed phrase such as この印は黒色です or 公印省略.
    """

    text: str
    issue_date: date
    certifier_title: str
    certifier_name: str
    seal_png: bytes | None = None
    notice: str = ""


@dataclass(frozen=True)
class FormOptions:
    """Per-request switches.

    ``overflow_output``: spec 5.8 lets a municipality choose, for a value that cannot be fitted
    at the layout's minimum size, between printing it in full ("full", our default: shrunk further
    and wrapped, never cut) and leaving it blank ("blank"). Either way it is reported.
    ``official_use`` prints 公用 (spec 5.7).
    """

    overflow_output: OverflowOutput = "full"
    official_use: bool = False


@dataclass(frozen=True)
class FormDocument:
    """A certificate's content: header fields, repeating entries, certification, 発行番号.

    ``images`` holds the pictures of the layout's image fields (field key → PNG or JPEG bytes,
    e.g. the registered 印影); a field without one is left empty."""

    header: Mapping[str, str] = field(default_factory=dict)
    entries: Sequence[Mapping[str, str]] = ()
    images: Mapping[str, bytes] = field(default_factory=dict)
    certification: Certification | None = None
    issue_number: str = ""
    #: 照合番号 printed after the 発行番号 (verification needs both; see kikan.platform.issuance)
    check_code: str = ""
    options: FormOptions = field(default_factory=FormOptions)


@dataclass(frozen=True)
class Overflow:
    """A value that did not fit its box at the nominal size (spec 10.7 文字超過リスト)."""

    field: str  # "header.address", "entries[3].name", "certification.text"
    label: str  # the Japanese item name from the layout, e.g. 住所
    page: int
    text: str
    nominal_size: float
    used_size: float
    lines: int
    reasons: tuple[OverflowReason, ...]
    detail: str = ""


@dataclass(frozen=True)
class RenderResult:
    pdf: bytes
    pages: int
    overflow: tuple[Overflow, ...]
    form_id: str
    form_version: str
