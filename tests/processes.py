"""Real server processes for tests: see support/processes.py (the benchmarks use it too)."""

from support.processes import free_port, spawn_server

__all__ = ["free_port", "spawn_server"]
