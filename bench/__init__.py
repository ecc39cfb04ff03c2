"""Benchmarks (`python -m bench`); filled in by the benchmark issue."""
