"""Benchmarks for the SPEC §12 targets: `python -m bench` (see bench/README.md)."""
