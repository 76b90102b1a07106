"""The conventions every Kikan benchmark follows.

A benchmark measures named cases, one of which is the *baseline* run in the same process on the
same data (e.g. raw COPY for an import, an empty page for a certificate). Results are printed with
the machine (CPU model, cores, memory), the database and the dataset size, as absolute figures and
as ratios to the baseline, and the same is written as JSON under ``benchmarks/results/``.

Why ratios: absolute numbers change with the machine; a ratio against a baseline measured in the
same run tells whether *our* code got slower.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory and OS of this machine, read from /proc where available."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


@dataclass
class Case:
    """One measured case: wall time over `items` units of work, optionally with latency samples."""

    name: str
    seconds: float = 0.0
    items: int = 0
    unit: str = "items"
    samples: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seconds": round(self.seconds, 6),
            "items": self.items,
            "unit": self.unit,
            "per_second": round(self.rate, 2),
        }
        if self.samples:
            ordered = sorted(self.samples)
            out["latency_ms"] = {
                "p50": round(percentile(ordered, 50) * 1000, 3),
                "p95": round(percentile(ordered, 95) * 1000, 3),
                "p99": round(percentile(ordered, 99) * 1000, 3),
                "mean": round(statistics.fmean(ordered) * 1000, 3),
                "n": len(ordered),
            }
        return out


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return 0.0
    rank = max(1, round(pct / 100 * len(ordered) + 0.5) - 1)
    return ordered[min(rank, len(ordered)) - 1] if rank > 0 else ordered[0]


class Benchmark:
    """Collects cases, prints a report and writes it as JSON.

    Usage::

        bench = Benchmark("text", dataset={"names": 1_000_000}, database="none")
        with bench.case("nfkc", items=n, baseline=True):
            ...
        with bench.case("search_key", items=n):
            ...
        bench.finish()
    """

    def __init__(self, name: str, *, dataset: dict[str, Any], database: str = "none") -> None:
        self.name = name
        self.dataset = dataset
        self.database = database
        self.cases: dict[str, Case] = {}
        self.baseline: str | None = None
        self.notes: list[str] = []
        self.started = datetime.now(UTC)

    @contextmanager
    def case(
        self, name: str, *, items: int, unit: str = "items", baseline: bool = False
    ) -> Iterator[Case]:
        c = Case(name=name, items=items, unit=unit)
        t0 = time.perf_counter()
        yield c
        c.seconds = time.perf_counter() - t0
        self.cases[name] = c
        if baseline:
            self.baseline = name

    def add(self, case: Case, *, baseline: bool = False) -> None:
        """Record a case measured elsewhere (e.g. latency samples from concurrent clients)."""
        self.cases[case.name] = case
        if baseline:
            self.baseline = case.name

    def note(self, text: str) -> None:
        self.notes.append(text)

    def ratio(self, name: str) -> float | None:
        """Throughput of `name` divided by the baseline's throughput (1.0 = as fast as baseline)."""
        if self.baseline is None or name not in self.cases:
            return None
        base = self.cases[self.baseline].rate
        return self.cases[name].rate / base if base else None

    def report(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "started": self.started.isoformat(),
            "machine": machine_info(),
            "database": self.database,
            "dataset": self.dataset,
            "baseline": self.baseline,
            "cases": {
                n: {**c.as_dict(), "ratio_to_baseline": _round(self.ratio(n))}
                for n, c in self.cases.items()
            },
            "notes": self.notes,
        }

    def finish(self, console: Console | None = None) -> Path:
        report = self.report()
        console = console or Console(width=max(120, Console().width))
        m = report["machine"]
        console.print(f"[bold]benchmark[/] {self.name}  {report['started']}")
        console.print(
            f"machine: {m['cpu']} · {m['cores']} cores · {m['memory_gib']} GiB · {m['os']}"
        )
        console.print(
            f"database: {self.database}   dataset: {json.dumps(self.dataset, ensure_ascii=False)}"
        )
        table = Table("case", "items", "seconds", "per second", "p50 ms", "p95 ms", "ratio")
        for n, c in report["cases"].items():
            lat = c.get("latency_ms", {})
            ratio = c["ratio_to_baseline"]
            table.add_row(
                n + (" (baseline)" if n == self.baseline else ""),
                f"{c['items']:,} {c['unit']}",
                f"{c['seconds']:.3f}",
                f"{c['per_second']:,.1f}",
                str(lat.get("p50", "")),
                str(lat.get("p95", "")),
                "" if ratio is None else f"{ratio:.3f}",
            )
        console.print(table)
        for text in self.notes:
            console.print(f"note: {text}")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"{self.name}-{stamp}.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        console.print(f"written: {path}")
        return path


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
