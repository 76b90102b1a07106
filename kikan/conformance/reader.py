"""Streaming CSV records with physical line numbers, decoded line by line from bytes.

Why not ``open(path, encoding="utf-8")`` + ``csv.reader``: one bad byte would raise
``UnicodeDecodeError`` and end the check without saying where; a CP932 file would fail on its
first Japanese character and the vendor would learn nothing about the rest. Reading bytes and
decoding each physical line on its own lets us report *which* lines are not UTF-8 (and whether
they look like CP932/Shift_JIS), keep checking the rest, and give every finding a line number.

Memory: one physical line and one CSV record at a time. A quoted field may span lines; the csv
module refuses fields over ``csv.field_size_limit()`` (131,072 characters by default), so an
unterminated quote cannot pull the whole file into memory: it becomes a ``row.format`` finding.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["LineSource", "Record", "decode_line", "records"]

BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

#: (line number, rule, message) for problems found while reading.
IssueSink = Callable[[int, str, str], None]


def decode_line(raw: bytes) -> tuple[str, str | None]:
    """Decode one physical line as UTF-8; on failure return a best-effort text and the reason.

    The best effort is CP932 when the bytes are valid CP932 (so the columns still line up and
    keys can still be read), else UTF-8 with U+FFFD replacements.
    """
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        position = exc.start + 1
        bad = raw[exc.start : exc.start + 2].hex(" ").upper()
        try:
            text = raw.decode("cp932")
        except UnicodeDecodeError:
            return raw.decode("utf-8", errors="replace"), (
                f"UTF-8 として不正なバイト列があります（{position}バイト目: {bad}）。"
                "文字コードは UTF-8 にしてください。"
            )
        return text, (
            f"UTF-8 ではありません（{position}バイト目: {bad}）。CP932（Shift_JIS）で"
            "符号化されているようです。文字コードは UTF-8 にしてください。"
        )


class LineSource:
    """Iterates a binary file's physical lines as text, counting lines as it goes.

    ``line_no`` is the number of the last line handed out; ``last_bad_line`` the last line that
    was not valid UTF-8 (0 if none yet), so a record can tell whether its text is trustworthy.
    Line endings are kept (the csv module needs them to find record ends); CRLF and LF are both
    accepted, a file that mixes them gets one warning.
    """

    def __init__(self, stream: BinaryIO, sink: IssueSink) -> None:
        self._stream = stream
        self._sink = sink
        self.line_no = 0
        self.last_bad_line = 0
        self.bom = False
        self.crlf = 0
        self.lf = 0
        self.bytes_read = 0
        self._mixed_reported = False

    def __iter__(self) -> Iterator[str]:
        sink = self._sink
        for line in self._stream:
            self.line_no += 1
            self.bytes_read += len(line)
            raw = self._first_line(line) if self.line_no == 1 else line
            if raw.endswith(b"\r\n"):
                self.crlf += 1
                if self.lf and not self._mixed_reported:
                    self._report_mixed()
            elif raw.endswith(b"\n"):
                self.lf += 1
                if self.crlf and not self._mixed_reported:
                    self._report_mixed()
            if raw.isascii():
                yield raw.decode("ascii")
                continue
            text, problem = decode_line(raw)
            if problem is not None:
                self.last_bad_line = self.line_no
                sink(self.line_no, "encoding", problem)
            yield text

    def _first_line(self, raw: bytes) -> bytes:
        if raw.startswith(BOM):
            self.bom = True
            return raw[len(BOM) :]
        if raw.startswith(_UTF16_BOMS):
            self._sink(
                1,
                "encoding",
                "UTF-16 で符号化されているようです。文字コードは UTF-8 にしてください。",
            )
        return raw

    def _report_mixed(self) -> None:
        self._mixed_reported = True
        self._sink(
            self.line_no,
            "newline",
            "改行コードが混在しています（CRLF と LF）。どちらかに統一してください。",
        )

    @property
    def newline(self) -> str:
        """ "CRLF", "LF", "混在" or "" (no line ending seen)."""
        if self.crlf and self.lf:
            return "混在"
        return "CRLF" if self.crlf else ("LF" if self.lf else "")


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: the physical line it starts on, its fields, and whether every line it
    spans decoded as UTF-8 (``clean``); unclean records are not value-checked."""

    line: int
    fields: list[str]
    clean: bool


def records(source: LineSource, sink: IssueSink) -> Iterator[Record]:
    """CSV records of ``source`` (RFC 4180 quoting; fields may contain quoted line breaks).

    A record the csv module cannot parse (NUL byte, stray CR, an overlong or unterminated
    quoted field) is reported as ``row.format`` and skipped; reading continues with the next line.
    """
    reader = csv.reader(source, strict=False)
    while True:
        start = source.line_no + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            sink(start, "row.format", f"CSV として読み取れない行です（{exc}）。")
            continue
        yield Record(start, fields, source.last_bad_line < start)
