"""Reproducible performance runs, not part of the test suite: `python -m benchmarks.NAME`."""
