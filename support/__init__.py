"""Helpers shared by the test suite (tests/) and the benchmarks (bench/): where a
PostgreSQL comes from, a scratch database per run, and a real server process on a free
port. Not part of the installed service (pyproject installs `service*` only); both
tests/ and bench/ run from the repository root, where this package is importable."""
