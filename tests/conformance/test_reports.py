"""HTML / CSV reports, the CLI entry and the package boundary."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from rich.console import Console

from kikan.conformance import main, run_check
from tests.conformance.helpers import Rows, sample_rows, write


def broken(tmp: Path) -> list[Path]:
    rows: Rows = sample_rows()
    rows["person"][0]["sex"] = "<b>3</b>"
    return write(tmp, rows, ("household", "person"))


def test_csv_and_html_reports(tmp_path: Path) -> None:
    paths = broken(tmp_path)
    html, report_csv = tmp_path / "r.html", tmp_path / "r.csv"
    console = Console(record=True, width=200)
    status = run_check("住民記録", paths, html=html, csv=report_csv, console=console)
    assert status == 1
    raw = report_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows the Japanese correctly
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0] == ["file", "line", "item", "rule", "severity", "message"]
    assert table[1][1:5] == ["2", "性別", "type.digits", "error"]
    page = html.read_text("utf-8")
    assert "不適合" in page and "&lt;b&gt;" not in page  # a type error does not echo the value
    assert "<b>3</b>" not in page
    text = console.export_text()
    assert "不適合" in text and "性別" in text


def test_main_exit_status(tmp_path: Path) -> None:
    good = write(tmp_path, sample_rows(), ("household", "person"))
    assert main(["--layout", "住民記録", *map(str, good)]) == 0
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    assert main(["--layout", "residents", *map(str, broken(bad_dir))]) == 1
    assert main(["--layout", "戸籍", *map(str, good)]) == 2


def test_conformance_never_imports_business_modules() -> None:
    """kikan.conformance must run against any vendor's files: no kikan.residents & co."""
    allowed = ("kikan.conformance", "kikan.standard", "kikan.calendar", "kikan.moji")
    root = Path(__file__).resolve().parents[2] / "kikan" / "conformance"
    for source in root.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kikan"):
                name = node.module
                if name == "kikan.platform":
                    assert [a.name for a in node.names] == ["ids"], source
                    continue
                assert name.startswith(allowed), f"{source.name} imports {name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("kikan") or alias.name.startswith(allowed)
