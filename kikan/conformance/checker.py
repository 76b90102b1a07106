"""Check a vendor's CSV files against a standard layout, streaming, with cross-row rules.

Flow: every path is assigned to a data group (by ``GROUP=PATH``, by its file name, or by its
header row), the files are read in the layout's :attr:`~kikan.standard.layouts.Layout.check_order`
(reference targets first: 世帯 before 個人 before 住所/異動履歴/支援措置), and each record is
checked as it is read: row shape, per-value checks (:mod:`kikan.conformance.cells`), required
items, then the cross-row rules of the layout.

Memory bound: the files are never loaded. What grows with the data is only the per-key state of
the cross-row rules, kept in :class:`~kikan.conformance.keys.CompactMap` (≤ ~43 bytes per distinct
key, ~64 bytes while a table doubles): one map per ``unique`` rule and per ``reference`` target
(shared when they index the same items), and one per ``one_per_key`` rule. For the 住民記録 layout
that is about 4 keys per person (宛名番号; 住所区分 per person; 履歴番号 per 異動) plus 2 per
household, i.e. roughly 0.2–0.3 KB per person however wide the rows are, plus the findings list,
which is capped per (file, rule) (see :mod:`kikan.conformance.report`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kikan.conformance.cells import CellCheck, Problem, Severity, compile_item
from kikan.conformance.keys import CompactMap, key_reader
from kikan.conformance.reader import BOM, LineSource, Record, decode_line, records
from kikan.conformance.report import (
    DEFAULT_MAX_PER_RULE,
    CheckReport,
    Collector,
    FileSummary,
    Finding,
    write_csv,
    write_html,
)
from kikan.standard.layouts import Group, Layout, Rule, layout

__all__ = ["check_files"]

_FILE_SLOTS = 1024  # a location is line * _FILE_SLOTS + file index
_HEADER_PROBE = 1 << 20  # bytes read to find the header row when detecting the group
_NUMERIC_LIMIT = 1 << 62

RowRule = Callable[[list[str], int], None]


@dataclass(slots=True)
class _Input:
    index: int
    path: Path
    name: str
    group: Group | None
    how: str  # "explicit" | "file name" | "header" | ""


def _value_of(key: int) -> str | None:
    """The original digits of a numeric key (see keys.key_of), None for a hashed key."""
    return str(key)[1:] if key < _NUMERIC_LIMIT else None


class _Run:
    """State of one check: findings, compiled items and the cross-row maps."""

    def __init__(self, lay: Layout, max_per_rule: int) -> None:
        self.layout = lay
        self.collector = Collector(max_per_rule)
        self.names: list[str] = []
        self.summaries: dict[int, FileSummary] = {}
        self.indexes: dict[tuple[str, tuple[str, ...]], CompactMap] = {}
        self.one_per_key: dict[int, CompactMap] = {}
        self.indexed: set[tuple[str, tuple[str, ...]]] = set()  # fully indexed (header had it)
        self._compiled: dict[tuple[str, str], CellCheck] = {}

    # --------------------------------------------------------------------------- helpers

    def add(self, file_index: int, line: int | None, item: str, problem: Problem) -> None:
        rule, message, severity = problem
        self.collector.add(
            file_index, Finding(self.names[file_index], line, item, rule, message, severity)
        )

    def index(self, group: str, items: tuple[str, ...]) -> CompactMap:
        return self.indexes.setdefault((group, items), CompactMap())

    def compiled(self, group: Group, code: str) -> CellCheck:
        key = (group.code, code)
        if key not in self._compiled:
            self._compiled[key] = compile_item(group.item(code))
        return self._compiled[key]

    def where(self, location: int, file_index: int) -> str:
        line, index = divmod(location, _FILE_SLOTS)
        return f"{line}行目" if index == file_index else f"{self.names[index]} の{line}行目"

    # --------------------------------------------------------------------------- files

    def check_file(self, inp: _Input) -> None:
        summary = FileSummary(file=inp.name, group=inp.group.name if inp.group else "")
        self.summaries[inp.index] = summary
        index = inp.index
        bad_lines = 0

        def sink(line: int, rule: str, message: str) -> None:
            nonlocal bad_lines
            if rule == "encoding":
                bad_lines += 1
            severity: Severity = "warning" if rule == "newline" else "error"
            self.add(index, line, "", (rule, message, severity))

        try:
            stream = inp.path.open("rb")
        except OSError as exc:
            self.add(
                index, None, "", ("file.read", f"ファイルを開けません（{exc.strerror}）。", "error")
            )
            return
        with stream:
            source = LineSource(stream, sink)
            rows = records(source, sink)
            header = next(rows, None)
            if header is None:
                self.add(
                    index,
                    None,
                    "",
                    ("file.empty", "ファイルが空です（見出し行がありません）。", "error"),
                )
            elif inp.group is None:
                self.add(index, 1, "", ("file.group", _undetected_message(self.layout), "error"))
            else:
                plan = self._plan(inp, header.fields)
                summary.rows = plan.run_rows(rows)
            summary.bytes = source.bytes_read
            summary.newline = source.newline
            summary.encoding = (
                f"UTF-8 以外を含む（{bad_lines}行）"
                if bad_lines
                else ("UTF-8（BOM付き）" if source.bom else "UTF-8")
            )

    def _plan(self, inp: _Input, header: list[str]) -> _Plan:
        assert inp.group is not None
        group = inp.group
        columns = self._header(inp.index, group, header)
        return _Plan(self, inp.index, group, columns, len(header))

    def _header(self, index: int, group: Group, header: list[str]) -> dict[str, int]:
        """Item code → column, reporting missing, unknown, duplicated and reordered items."""
        columns: dict[str, int] = {}
        unknown = False
        for col, name in enumerate(header):
            item = group.find(name)
            if item is None:
                unknown = True
                self.add(
                    index,
                    1,
                    name,
                    (
                        "header.unknown",
                        f"見出し「{name}」はデータ群「{group.name}」にない項目です（検査しません）。",
                        "warning",
                    ),
                )
            elif item.code in columns:
                self.add(
                    index,
                    1,
                    item.name,
                    ("header.duplicate", f"見出しに項目「{item.name}」が重複しています。", "error"),
                )
            else:
                columns[item.code] = col
        missing = [item for item in group if item.code not in columns]
        for item in missing:
            self.add(
                index,
                1,
                item.name,
                (
                    "header.missing",
                    f"見出しに項目「{item.name}」（{item.code}）がありません。",
                    "error",
                ),
            )
        if not missing and not unknown and list(columns) != [i.code for i in group]:
            self.add(
                index,
                1,
                "",
                ("header.order", "項目の並びがレイアウトの順序と異なります。", "warning"),
            )
        return columns

    # --------------------------------------------------------------------------- finish

    def finish(self) -> None:
        """Rules that can only be judged after every file: keys without their one match."""
        lay = self.layout
        for number, rule in enumerate(lay.rules):
            state = self.one_per_key.get(number)
            if state is None or rule.none == "ignore":
                continue
            group = lay.group(rule.group)
            target = _target_for(lay, rule)
            target_index = None
            if target is not None and (target.target_group, target.target_items) in self.indexed:
                assert target.target_group is not None
                target_index = self.indexes[(target.target_group, target.target_items)]
            label = "・".join(group.item(i).name for i in rule.items)
            for key, value in state.items():
                if value >= 0:
                    continue
                location = -value
                if target_index is not None:
                    location = target_index.get(key, location) or location
                line, file_index = divmod(location, _FILE_SLOTS)
                shown = _value_of(key)
                what = f"{label}「{shown}」" if shown is not None else label
                self.add(
                    file_index,
                    line,
                    label,
                    (
                        "one_per_key.none",
                        f"{what}に{rule.label or '該当する行'}がいません。",
                        rule.none,
                    ),
                )


def _target_for(lay: Layout, rule: Rule) -> Rule | None:
    """The reference rule from the same group over the same items (where 0 heads is reported)."""
    for other in lay.rules:
        if other.kind == "reference" and other.group == rule.group and other.items == rule.items:
            return other
    return None


def _undetected_message(lay: Layout) -> str:
    groups = "、".join(f"{g.name}（{g.code}）" for g in lay.groups)
    return (
        "見出し行からデータ群を判定できません。ファイル名をデータ群名にするか（例: person.csv）、"
        f"「データ群=パス」の形で指定してください。データ群：{groups}"
    )


class _Plan:
    """The compiled checks for one file of one group."""

    def __init__(
        self, run: _Run, file_index: int, group: Group, columns: dict[str, int], width: int
    ) -> None:
        self.run = run
        self.file_index = file_index
        self.group = group
        self.width = width
        self.checks = [
            (columns[item.code], item.name, run.compiled(group, item.code))
            for item in group
            if item.code in columns
        ]
        self.required = [
            (columns[item.code], item.name)
            for item in group
            if item.required and item.code in columns
        ]
        self.required_when: list[tuple[int, str, list[tuple[int, frozenset[str], str]]]] = []
        for item in group:
            if item.required_when and item.code in columns:
                conditions = [
                    (columns[other], frozenset(values), group.item(other).name)
                    for other, values in item.required_when.items()
                    if other in columns
                ]
                if len(conditions) == len(item.required_when):
                    self.required_when.append((columns[item.code], item.name, conditions))
        self.cross: list[RowRule] = []
        self.cross_needs: list[tuple[int, RowRule]] = []  # (columns a row needs, rule)
        self._cross_rules(columns)
        self.cross = [rule for _, rule in self.cross_needs]

    # --------------------------------------------------------------------------- rules

    def _cols(self, columns: dict[str, int], items: Iterable[str]) -> list[int] | None:
        cols = [columns.get(i) for i in items]
        return None if any(c is None for c in cols) else [c for c in cols if c is not None]

    def _cross_rules(self, columns: dict[str, int]) -> None:
        run, lay, group = self.run, self.run.layout, self.group
        unique_items = {r.items for r in lay.rules_for(group.code) if r.kind == "unique"}
        for number, rule in enumerate(lay.rules):
            if rule.group != group.code:
                continue
            cols = self._cols(columns, rule.items)
            if cols is None:
                continue  # header.missing already reported
            needed = 1 + max(columns.get(i, 0) for i in (*rule.items, *rule.match, *rule.where))
            if rule.kind == "unique":
                self.cross_needs.append((needed, self._unique(rule, cols)))
                run.indexed.add((group.code, rule.items))
            elif rule.kind == "reference":
                made = self._reference(rule, cols)
                if made is not None:
                    self.cross_needs.append((needed, made))
            else:
                made = self._one_per_key(number, rule, cols, columns)
                if made is not None:
                    self.cross_needs.append((needed, made))
        # Reference targets in this group that no unique rule indexes yet.
        for rule in lay.rules:
            if rule.kind != "reference" or rule.target_group != group.code:
                continue
            if rule.target_items in unique_items:
                continue
            cols = self._cols(columns, rule.target_items)
            if cols is not None:
                fill = self._fill(run.index(group.code, rule.target_items), cols)
                self.cross_needs.append((1 + max(cols), fill))
                run.indexed.add((group.code, rule.target_items))

    def _label(self, items: Iterable[str]) -> tuple[str, bool]:
        chosen = [self.group.item(i) for i in items]
        return "・".join(i.name for i in chosen), any(i.sensitive for i in chosen)

    def _location(self, line: int) -> int:
        return line * _FILE_SLOTS + self.file_index

    def _unique(self, rule: Rule, cols: list[int]) -> RowRule:
        index = self.run.index(self.group.code, rule.items)
        label, sensitive = self._label(rule.items)
        file_index, run = self.file_index, self.run

        read = key_reader(cols)

        def unique(fields: list[str], line: int) -> None:
            key = read(fields)
            if not key:
                return
            previous = index.setdefault(key, self._location(line))
            if previous is not None:
                shown = "" if sensitive else f"「{'・'.join(fields[c] for c in cols)}」"
                run.add(
                    file_index,
                    line,
                    label,
                    (
                        "unique",
                        f"{label}{shown}が重複しています"
                        f"（{run.where(previous, file_index)}と同じ）。",
                        "error",
                    ),
                )

        return unique

    def _fill(self, index: CompactMap, cols: list[int]) -> RowRule:
        read = key_reader(cols)

        def fill(fields: list[str], line: int) -> None:
            key = read(fields)
            if key:
                index.setdefault(key, self._location(line))

        return fill

    def _reference(self, rule: Rule, cols: list[int]) -> RowRule | None:
        run, lay = self.run, self.run.layout
        assert rule.target_group is not None
        target = lay.group(rule.target_group)
        label, sensitive = self._label(rule.items)
        if (target.code, rule.target_items) not in run.indexed:
            run.add(
                self.file_index,
                None,
                label,
                (
                    "reference.skipped",
                    f"データ群「{target.name}」のファイルがない（又は見出しが欠けている）ため、"
                    f"{label}が{target.name}にあるかは検査していません。",
                    "warning",
                ),
            )
            return None
        index = run.index(target.code, rule.target_items)
        file_index = self.file_index

        read = key_reader(cols)

        def reference(fields: list[str], line: int) -> None:
            key = read(fields)
            if key and key not in index:
                shown = "" if sensitive else f"「{'・'.join(fields[c] for c in cols)}」"
                run.add(
                    file_index,
                    line,
                    label,
                    (
                        "reference",
                        f"{label}{shown}が{target.name}のファイルにありません。",
                        "error",
                    ),
                )

        return reference

    def _one_per_key(
        self, number: int, rule: Rule, cols: list[int], columns: dict[str, int]
    ) -> RowRule | None:
        match = [(columns.get(i), frozenset(v)) for i, v in rule.match.items()]
        where = [(columns.get(i), frozenset(v)) for i, v in rule.where.items()]
        if any(c is None for c, _ in (*match, *where)):
            return None
        match_cols = [(c, v) for c, v in match if c is not None]
        where_cols = [(c, v) for c, v in where if c is not None]
        state = self.run.one_per_key.setdefault(number, CompactMap())
        label, sensitive = self._label(rule.items)
        what = rule.label or "該当する行"
        run, file_index = self.run, self.file_index

        read = key_reader(cols)

        def matches(fields: list[str]) -> bool:
            for col, allowed in match_cols:  # noqa: SIM110 (no generator per row)
                if fields[col] not in allowed:
                    return False
            return True

        def one_per_key(fields: list[str], line: int) -> None:
            for col, allowed in where_cols:
                if fields[col] not in allowed:
                    return
            key = read(fields)
            if not key:
                return
            previous = state.get(key)
            if matches(fields):
                if previous is None or previous < 0:
                    state.set(key, self._location(line))
                    return
                shown = "" if sensitive else f"「{'・'.join(fields[c] for c in cols)}」"
                run.add(
                    file_index,
                    line,
                    label,
                    (
                        "one_per_key",
                        f"{label}{shown}の{what}が複数います"
                        f"（{run.where(previous, file_index)}にも{what}）。",
                        "error",
                    ),
                )
            elif previous is None:
                state.set(key, -self._location(line))

        return one_per_key

    # --------------------------------------------------------------------------- rows

    def run_rows(self, rows: Iterable[Record]) -> int:
        """Check every record; returns the number of data records read."""
        run, file_index, width = self.run, self.file_index, self.width
        cross = self.cross
        add = run.add
        count = 0
        for record in rows:
            count += 1
            fields = record.fields
            line = record.line
            if len(fields) != width:
                if not fields:
                    add(file_index, line, "", ("row.empty", "空行です。", "warning"))
                else:
                    add(
                        file_index,
                        line,
                        "",
                        (
                            "row.columns",
                            f"列数が見出しと異なります（見出し{width}列、この行{len(fields)}列）。",
                            "error",
                        ),
                    )
                # Keys still count when the row reaches their columns (typically a missing
                # trailing column): otherwise one short row would cascade into reference errors
                # in every file that refers to it.
                for needed, rule in self.cross_needs:
                    if len(fields) >= needed:
                        rule(fields, line)
                continue
            if record.clean:
                self._values(fields, line)
            for rule in cross:
                rule(fields, line)
        return count

    def _values(self, fields: list[str], line: int) -> None:
        """Per-value checks and required items of one well-shaped, cleanly decoded record."""
        add, file_index = self.run.add, self.file_index
        for col, name, check in self.checks:
            value = fields[col]
            if value:
                problem = check(value)
                if problem is not None:
                    add(file_index, line, name, problem)
        for col, name in self.required:
            if not fields[col]:
                add(file_index, line, name, ("required", f"{name}が空です（必須項目）。", "error"))
        for col, name, conditions in self.required_when:
            if not fields[col] and all(fields[c] in v for c, v, _ in conditions):
                because = "、".join(f"{n}が「{fields[c]}」" for c, _, n in conditions)
                add(
                    file_index,
                    line,
                    name,
                    ("required", f"{because}のときは{name}が必要です。", "error"),
                )


# ------------------------------------------------------------------------------- inputs


def _read_header(path: Path) -> list[str] | None:
    """The first CSV record of ``path`` (BOM stripped, any encoding best-effort), or None."""
    try:
        with path.open("rb") as stream:
            raw = stream.readline(_HEADER_PROBE)
    except OSError:
        return None
    raw = raw.removeprefix(BOM)
    text, _ = decode_line(raw)
    try:
        return next(csv.reader(io.StringIO(text)), None)
    except csv.Error:
        return None


def _detect(lay: Layout, path: Path) -> tuple[Group | None, str]:
    by_name = lay.find_group(path.stem)
    if by_name is not None:
        return by_name, "file name"
    header = _read_header(path)
    if not header:
        return None, ""
    scores = sorted(
        ((sum(1 for h in header if g.find(h) is not None), n) for n, g in enumerate(lay.groups)),
        reverse=True,
    )
    best, number = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else -1
    if best * 2 >= len(header) and best > runner_up:
        return lay.groups[number], "header"
    return None, ""


def _inputs(lay: Layout, paths: Sequence[str | Path]) -> list[_Input]:
    out = []
    for number, spec in enumerate(paths):
        text = str(spec)
        prefix, sep, rest = text.partition("=")
        explicit = lay.find_group(prefix) if sep and isinstance(spec, str) else None
        if explicit is not None and not Path(text).exists():
            out.append(_Input(number, Path(rest), rest, explicit, "explicit"))
            continue
        path = Path(spec)
        group, how = _detect(lay, path)
        out.append(_Input(number, path, text, group, how))
    return out


def check_files(
    layout_name: str,
    paths: Sequence[str | Path],
    *,
    html: Path | None = None,
    csv: Path | None = None,
    max_per_rule: int = DEFAULT_MAX_PER_RULE,
) -> CheckReport:
    """Check ``paths`` against the layout ``layout_name`` ("住民記録" or "residents").

    Each path is a file of one data group: ``"個人=/data/p.csv"`` names the group explicitly;
    otherwise a file named after a group (``person.csv``, ``個人.csv``) or a header row that
    matches a group's items decides. Writes the HTML and/or CSV report when asked and returns
    the :class:`CheckReport` (``exit_code`` 1 if any error). Raises
    :class:`~kikan.standard.layouts.LayoutError` for an unknown layout.
    """
    lay = layout(layout_name)
    run = _Run(lay, max_per_rule)
    inputs = _inputs(lay, paths)
    run.names = [inp.name for inp in inputs]
    order = {code: n for n, code in enumerate(lay.check_order)}
    ordered = sorted(
        inputs, key=lambda i: (order.get(i.group.code, -1) if i.group else -1, i.index)
    )
    for inp in ordered:
        run.check_file(inp)
    run.finish()
    report = _report(lay, run, inputs)
    if html is not None:
        write_html(report, html)
    if csv is not None:
        write_csv(report, csv)
    return report


def _report(lay: Layout, run: _Run, inputs: list[_Input]) -> CheckReport:
    collector = run.collector
    # Per file: whole-file findings, then by line, then the "N more" summaries of capped rules.
    kept = [(i, 0, f) for i, f in collector.kept]
    kept += [(i, 1, f) for i, f in collector.overflow(run.names)]
    kept.sort(key=lambda entry: (entry[0], entry[1], entry[2].line or 0))
    files = []
    for inp in inputs:
        summary = run.summaries.get(inp.index, FileSummary(file=inp.name))
        summary.errors = collector.per_file[(inp.index, "error")]
        summary.warnings = collector.per_file[(inp.index, "warning")]
        files.append(summary)
    errors = sum(v for (_, s), v in collector.per_file.items() if s == "error")
    warnings = sum(v for (_, s), v in collector.per_file.items() if s == "warning")
    return CheckReport(
        layout=lay.name,
        layout_title=lay.title,
        layout_version=lay.version,
        layout_confidence=lay.confidence,
        files=files,
        findings=[f for _, _, f in kept],
        error_count=errors,
        warning_count=warnings,
        suppressed=sum(max(0, c - collector.max_per_rule) for c in collector.per_rule.values()),
    )
