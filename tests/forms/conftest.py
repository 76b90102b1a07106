"""Helpers for the forms tests: text extraction with poppler and sample page images."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "forms"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return path


def pdftotext(pdf: bytes, *pages: int) -> str:
    """Text of the whole PDF, or of one page (``pdftotext -f N -l N``)."""
    args = [_need("pdftotext")]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[0])]
    done = subprocess.run([*args, "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pdfimages_list(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([_need("pdfimages"), "-list", str(path)], capture_output=True,
                          check=True, text=True)  # fmt: skip
    return done.stdout


def save_pages(name: str, pdf: bytes) -> None:
    """Write the PDF and 60 dpi PNGs of its pages to test-artifacts/forms/ for reviewers."""
    tool = shutil.which("pdftoppm")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    if tool:
        subprocess.run([tool, "-png", "-r", "60", str(ARTIFACTS / f"{name}.pdf"),
                        str(ARTIFACTS / name)], check=True)  # fmt: skip
