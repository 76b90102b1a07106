"""Command-line entry of the conformance checker (``kikan check`` and ``python -m``).

``kikan.cli`` wires :func:`run_check` into typer; :func:`main` is the same thing for argv, so the
checker can also run as ``python -m kikan.conformance --layout 住民記録 FILE…`` without the rest of
Kikan's command line (useful for a vendor who only has the files).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from kikan.conformance.checker import check_files
from kikan.conformance.report import print_summary
from kikan.standard.layouts import LayoutError

__all__ = ["main", "run_check"]


def run_check(
    layout: str,
    paths: Sequence[str | Path],
    *,
    html: Path | None = None,
    csv: Path | None = None,
    console: Console | None = None,
) -> int:
    """Check ``paths`` against ``layout``, print the summary, write the reports.

    Returns the exit status: 0 conforming, 1 any error found, 2 unusable arguments (unknown
    layout, no files).
    """
    out = console or Console()
    if not paths:
        out.print("[red]検査するファイルを指定してください。[/]")
        return 2
    try:
        report = check_files(layout, paths, html=html, csv=csv)
    except LayoutError as exc:
        out.print(f"[red]{exc.message}[/]")
        return 2
    print_summary(report, out)
    for label, path in (("HTML", html), ("CSV", csv)):
        if path is not None:
            out.print(f"{label} の報告：{path}")
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """``kikan check --layout 住民記録 PATH… [--html F] [--csv F]`` as a plain function."""
    parser = argparse.ArgumentParser(
        prog="kikan check",
        description="標準データレイアウトへの適合性を検査します（CSV、UTF-8）。",
    )
    parser.add_argument("--layout", required=True, help="レイアウト名（例: 住民記録 / residents）")
    parser.add_argument(
        "paths", nargs="+", help="CSV ファイル（データ群を明示するときは 個人=PATH の形）"
    )
    parser.add_argument("--html", type=Path, default=None, help="HTML の報告を書き出すファイル")
    parser.add_argument("--csv", type=Path, default=None, help="CSV の報告を書き出すファイル")
    args = parser.parse_args(argv)
    return run_check(args.layout, args.paths, html=args.html, csv=args.csv)
