"""Small valid 住民記録 sample sets generated from the layout, and report helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kikan.conformance import CheckReport, check_files
from kikan.conformance.samples import residents_rows, write_group_csv
from kikan.standard.layouts import layout

Rows = dict[str, list[dict[str, str]]]
HOUSEHOLDS = 4


def sample_rows(households: int = HOUSEHOLDS, *, seed: int = 7, fill: float = 0.5) -> Rows:
    """Valid rows per group code (lists, so a test can change one cell)."""
    return {
        code: list(rows) for code, rows in residents_rows(households, seed=seed, fill=fill).items()
    }


def write(
    tmp: Path, rows: Rows, groups: tuple[str, ...] | None = None, **options: bool
) -> list[Path]:
    lay = layout("residents")
    paths = []
    for code in groups or tuple(rows):
        path = tmp / f"{code}.csv"
        write_group_csv(path, lay.group(code), rows[code], **options)
        paths.append(path)
    return paths


def check(
    tmp: Path,
    change: Callable[[Rows], None] | None = None,
    groups: tuple[str, ...] | None = ("household", "person"),
) -> CheckReport:
    """Generate a valid set, apply ``change``, write ``groups`` and check them."""
    rows = sample_rows()
    if change is not None:
        change(rows)
    return check_files("住民記録", write(tmp, rows, groups))


def lines(report: CheckReport) -> list[tuple[str, int | None, str, str, str]]:
    """(file name, line, item, rule, severity) of every finding, in report order."""
    return [(Path(f.file).name, f.line, f.item, f.rule, f.severity) for f in report.findings]


def person_index(rows: Rows, *, head: bool) -> int:
    """Index of the first person row that is (or is not) a 世帯主."""
    return next(i for i, r in enumerate(rows["person"]) if (r["zokugara_code"] == "01") == head)
