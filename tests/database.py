"""The tests' PostgreSQL chooser lives in support/database.py (the benchmarks use it too)."""

from support.database import (
    LOCAL_SERVER,
    ROOT,
    admin_dsn,
    scratch_database,
    with_database,
)

__all__ = ["LOCAL_SERVER", "ROOT", "admin_dsn", "scratch_database", "with_database"]
