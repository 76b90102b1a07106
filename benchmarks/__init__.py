"""Reproducible performance runs. Not part of the test suite; run with `python -m benchmarks.NAME`."""
