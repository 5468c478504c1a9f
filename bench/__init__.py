"""Benchmark: the nightly job against bare DuckDB and a pandas script (see README.md)."""
