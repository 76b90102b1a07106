"""Throughput of the conformance checker against Python's csv module merely reading the files.

    .venv/bin/python -m benchmarks.checker_bench --n 1000000

Data: a valid 住民記録 set generated from the layout (kikan.conformance.samples): about N persons
(person.csv, 43 items, half of the optional items filled) in N/2.5 households (household.csv),
deterministic seed. Generation is not timed. Cases, on the same files in the same run:

- ``csv_read`` (baseline): ``csv.reader`` over both files, UTF-8 text mode, nothing else;
- ``check``: ``check_files("住民記録", [household.csv, person.csv])`` with every rule.

The ratio is the checker's throughput over the baseline's (e.g. 0.07 = 14× slower than reading).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from benchmarks.runner import Benchmark
from kikan.conformance import check_files
from kikan.conformance.samples import residents_rows, write_group_csv
from kikan.standard.layouts import layout


def generate(directory: Path, n: int, seed: int) -> tuple[list[Path], int]:
    lay = layout("residents")
    households = max(1, int(n / 2.5))
    rows = residents_rows(households, seed=seed)
    paths, total = [], 0
    for code in ("household", "person"):
        path = directory / f"{code}.csv"
        total += write_group_csv(path, lay.group(code), rows[code])
        paths.append(path)
    return paths, total


def read_all(paths: list[Path]) -> int:
    count = 0
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for _row in csv.reader(handle):
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="persons (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        paths, total = generate(Path(tmp), args.n, args.seed)
        generated = time.perf_counter() - started
        size = sum(p.stat().st_size for p in paths)
        bench = Benchmark(
            "checker",
            dataset={"persons_requested": args.n, "rows": total, "bytes": size, "seed": args.seed},
        )
        with bench.case("csv_read", items=total, unit="rows", baseline=True):
            read_all(paths)
        with bench.case("check", items=total, unit="rows"):
            report = check_files("住民記録", paths)
        bench.note(f"generation (not timed in cases): {generated:.1f} s for {size / 1e6:.1f} MB")
        bench.note(
            f"check verdict: errors={report.error_count} warnings={report.warning_count} "
            f"(a valid set: both must be 0)"
        )
        ratio = bench.ratio("check")
        if ratio:
            bench.note(f"checker is {1 / ratio:.1f}× slower than csv reading alone")
        bench.finish()


if __name__ == "__main__":
    main()
