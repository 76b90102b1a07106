"""The conformance report: findings, per-file summaries, and the terminal / HTML / CSV outputs.

Findings are bounded: at most ``max_per_rule`` detailed findings are kept per (file, rule);
beyond that only a count is kept and one summary line says how many more there were. Why: a
CP932 file of a million rows has a million encoding findings, and neither memory nor a reader
benefits from all of them. The counts (and so the exit status) always cover every finding.

The CSV report is UTF-8 with a BOM so that Excel, which municipal staff open it with, shows the
Japanese correctly; the HTML report is one self-contained file with everything escaped.
"""

from __future__ import annotations

import csv
import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kikan.conformance.cells import Severity

__all__ = [
    "DEFAULT_MAX_PER_RULE",
    "CheckReport",
    "FileSummary",
    "Finding",
    "write_csv",
    "write_html",
]

DEFAULT_MAX_PER_RULE = 1000
_SEVERITY_LABEL = {"error": "エラー", "warning": "警告"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One report line. ``line`` is the physical line (1 = header) or None for the whole file."""

    file: str
    line: int | None
    item: str
    rule: str
    message: str
    severity: Severity = "error"


@dataclass(slots=True)
class FileSummary:
    """What was read from one file."""

    file: str
    group: str = ""
    rows: int = 0
    bytes: int = 0
    encoding: str = ""
    newline: str = ""
    errors: int = 0
    warnings: int = 0


@dataclass
class CheckReport:
    """The result of :func:`kikan.conformance.check_files`.

    ``findings`` is sorted by file (in the order given) and line; ``error_count`` and
    ``warning_count`` count every finding, including those beyond the per-rule cap.
    """

    layout: str
    layout_title: str
    layout_version: str
    layout_confidence: str
    files: list[FileSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    suppressed: int = 0

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not make a file non-conforming)."""
        return self.error_count == 0

    @property
    def exit_code(self) -> int:
        """0 when conforming, 1 when any error was found."""
        return 0 if self.ok else 1


class Collector:
    """Collects findings with the per-(file, rule) cap and keeps exact counts."""

    def __init__(self, max_per_rule: int = DEFAULT_MAX_PER_RULE) -> None:
        self.max_per_rule = max_per_rule
        self.kept: list[tuple[int, Finding]] = []
        self.per_rule: Counter[tuple[int, str, Severity]] = Counter()
        self.per_file: Counter[tuple[int, Severity]] = Counter()

    def add(self, file_index: int, finding: Finding) -> None:
        key = (file_index, finding.rule, finding.severity)
        self.per_rule[key] += 1
        self.per_file[(file_index, finding.severity)] += 1
        if self.per_rule[key] <= self.max_per_rule:
            self.kept.append((file_index, finding))

    def overflow(self, names: list[str]) -> list[tuple[int, Finding]]:
        """One summary finding per (file, rule) whose findings were cut at the cap."""
        out = []
        for (index, rule, severity), count in sorted(self.per_rule.items()):
            if count > self.max_per_rule:
                out.append(
                    (
                        index,
                        Finding(
                            names[index],
                            None,
                            "",
                            rule,
                            f"同じ種類の指摘がほかに{count - self.max_per_rule}件あります"
                            f"（表示は先頭{self.max_per_rule}件まで）。",
                            severity,
                        ),
                    )
                )
        return out


# ------------------------------------------------------------------------------------ outputs


def _line_text(line: int | None) -> str:
    return "" if line is None else str(line)


def write_csv(report: CheckReport, path: Path) -> None:
    """file, line, item, rule, severity, message — one row per finding, UTF-8 with BOM."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "item", "rule", "severity", "message"])
        for f in report.findings:
            writer.writerow([f.file, _line_text(f.line), f.item, f.rule, f.severity, f.message])


_STYLE = """
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}.error{color:#b00020}.warning{color:#8a5a00}.ok{color:#1b5e20}
td.num{text-align:right}
"""


def write_html(report: CheckReport, path: Path) -> None:
    """A self-contained HTML page: verdict, layout, per-file summary, findings per file."""
    e = html.escape
    verdict = (
        '<p class="ok">適合：エラーはありません。</p>'
        if report.ok
        else f'<p class="error">不適合：エラー {report.error_count} 件。</p>'
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja"><head><meta charset="utf-8">',
        f"<title>適合性検査 {e(report.layout_title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>標準データレイアウト適合性検査：{e(report.layout_title)}</h1>",
        f"<p>レイアウト {e(report.layout)} 版 {e(report.layout_version)}"
        f"（確からしさ：{e(report.layout_confidence)}）</p>",
        verdict,
        f"<p>エラー {report.error_count} 件、警告 {report.warning_count} 件。</p>",
        "<h2>ファイル</h2><table><tr><th>ファイル</th><th>データ群</th><th>行数</th>"
        "<th>文字コード</th><th>改行</th><th>エラー</th><th>警告</th></tr>",
    ]
    for s in report.files:
        parts.append(
            f"<tr><td>{e(s.file)}</td><td>{e(s.group)}</td><td class=num>{s.rows}</td>"
            f"<td>{e(s.encoding)}</td><td>{e(s.newline)}</td>"
            f"<td class=num>{s.errors}</td><td class=num>{s.warnings}</td></tr>"
        )
    parts.append("</table><h2>指摘事項</h2>")
    current = None
    for f in report.findings:
        if f.file != current:
            if current is not None:
                parts.append("</table>")
            current = f.file
            parts.append(
                f"<h3>{e(f.file)}</h3><table><tr><th>行</th><th>項目</th><th>規則</th>"
                "<th>重大度</th><th>内容</th></tr>"
            )
        parts.append(
            f'<tr class="{f.severity}"><td class=num>{_line_text(f.line)}</td>'
            f"<td>{e(f.item)}</td><td>{e(f.rule)}</td>"
            f"<td>{_SEVERITY_LABEL[f.severity]}</td><td>{e(f.message)}</td></tr>"
        )
    if current is not None:
        parts.append("</table>")
    if not report.findings:
        parts.append("<p>指摘事項はありません。</p>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def print_summary(report: CheckReport, console: Console, *, limit: int = 30) -> None:
    """Terminal summary: per-file table, the first ``limit`` findings, and the verdict."""
    console.print(
        f"[bold]標準データレイアウト適合性検査[/]：{report.layout_title}"
        f"（{report.layout} 版 {report.layout_version}、確からしさ {report.layout_confidence}）"
    )
    files = Table("ファイル", "データ群", "行数", "文字コード", "改行", "エラー", "警告")
    for s in report.files:
        files.add_row(
            s.file,
            s.group,
            f"{s.rows:,}",
            s.encoding,
            s.newline,
            f"[red]{s.errors:,}[/]" if s.errors else "0",
            f"[yellow]{s.warnings:,}[/]" if s.warnings else "0",
        )
    console.print(files)
    shown: Iterable[Finding] = report.findings[:limit]
    if report.findings:
        table = Table("ファイル", "行", "項目", "規則", "内容")
        for f in shown:
            style = "red" if f.severity == "error" else "yellow"
            table.add_row(
                Path(f.file).name, _line_text(f.line), f.item, f.rule, f"[{style}]{f.message}[/]"
            )
        console.print(table)
        if len(report.findings) > limit:
            console.print(f"ほか {len(report.findings) - limit:,} 件（HTML・CSV の報告を参照）。")
    if report.ok:
        console.print(f"[green]適合[/]：エラーはありません（警告 {report.warning_count:,} 件）。")
    else:
        console.print(
            f"[red]不適合[/]：エラー {report.error_count:,} 件、警告 {report.warning_count:,} 件。"
        )
