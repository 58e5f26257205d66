"""Benchmarks of the rooms server: `make bench` (see docs/performance.md)."""
