"""An embedded PostgreSQL (from the `pgserver` package) for `make run` and tests on a
machine with no database configured. Its data lives in a project-local directory and
survives restarts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE = "rooms"


def start_embedded(data_dir: Path, database: str = DATABASE) -> tuple[str, Any]:
    """Start (or reuse) the embedded server; return a DSN for `database` and the handle.

    Blocking: call it from a thread in async code. Keep the handle alive as long as
    the database is in use; `handle.cleanup()` stops the server when no other
    process uses it.
    """
    import pgserver  # imported here: only this path needs the bundled binaries

    # pgserver narrates every command at INFO; keep its warnings only.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata = (data_dir / "postgres").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
        log.info("created database %s in the embedded PostgreSQL at %s", database, pgdata)
    dsn = f"postgresql://postgres@/{database}?host={pgdata}"
    return dsn, server
