"""`kikan check` as an operator or another vendor runs it: exit status and report files."""

from __future__ import annotations

import csv
from pathlib import Path

from kikan.conformance.samples import write_residents_sample
from tests.platform.test_cli import run


def test_kikan_check_passes_a_valid_set_and_fails_a_broken_one(tmp_path: Path) -> None:
    files = write_residents_sample(tmp_path, 5)
    ok = run({}, "check", *map(str, files.values()), "--html", str(tmp_path / "ok.html"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "適合" in ok.stdout and (tmp_path / "ok.html").exists()
    person = files["person"]
    person.write_bytes(person.read_bytes() + "壊れた行\n".encode("cp932"))
    bad = run({}, "check", *map(str, files.values()), "--csv", str(tmp_path / "bad.csv"))
    assert bad.returncode == 1
    with (tmp_path / "bad.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert any("person.csv" in " ".join(r) for r in rows[1:])
    assert "Traceback" not in bad.stderr
