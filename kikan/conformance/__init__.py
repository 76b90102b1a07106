"""kikan.conformance: the open conformance checker for standard data layouts.

Checks any vendor's CSV files against a layout of :mod:`kikan.standard.layouts` (encoding, line
endings, header, row shape, types, lengths, required items, codes, dates, check digits, MJ
characters and 外字, and cross-row rules such as one 世帯主 per 世帯), streaming, and reports in
the terminal, as HTML and as CSV. How to run it and what each rule means:
docs/conformance-checker.md.

Boundaries: may import kikan.standard, kikan.calendar, kikan.moji and kikan.platform.ids; never a
business module (kikan.residents …), so a vendor can run it against files from any system.

Public API::

    check_files(layout_name, paths, *, html=None, csv=None) -> CheckReport
    run_check(layout, paths, *, html=None, csv=None, console=None) -> int   # for kikan.cli
    main(argv=None) -> int                                                  # argparse entry
"""

from kikan.conformance.checker import check_files
from kikan.conformance.cli import main, run_check
from kikan.conformance.report import CheckReport, FileSummary, Finding

__all__ = ["CheckReport", "FileSummary", "Finding", "check_files", "main", "run_check"]
