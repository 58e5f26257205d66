"""A PostgreSQL cluster with stock settings, started for one test run and removed after.

`initdb` into a temporary directory, the default configuration, a free port of its
own: what a fresh machine's PostgreSQL is, whatever the machine's own server has been
tuned to. pytest-postgresql's executor (`PostgreSQLExecutor`) does the start-up and
tear-down with the machine's `pg_ctl`. PostgreSQL refuses to run as root; as root, the
cluster runs as the `postgres` system user (Debian's packages create it) through a
two-line `pg_ctl` wrapper."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

SYSTEM_USER = "postgres"


def pg_ctl() -> str | None:
    """The machine's `pg_ctl` (on PATH, or the newest of Debian's versioned folders)."""
    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def _as_system_user(executable: str, folder: Path) -> str:
    """A `pg_ctl` that runs as SYSTEM_USER: root may not run PostgreSQL."""
    wrapper = folder / "pg_ctl"
    wrapper.write_text(f'#!/bin/sh\nexec runuser -u {SYSTEM_USER} -- "{executable}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@contextlib.contextmanager
def stock_cluster(executable: str) -> Iterator[str]:
    """Start a stock cluster with `executable` (a pg_ctl); yield a superuser DSN."""
    from pytest_postgresql.executors.proc import PostgreSQLExecutor

    from support.processes import free_port  # (support.processes imports this package)

    folder = Path(tempfile.mkdtemp(prefix="rooms-pg-"))
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            executable = _as_system_user(executable, folder)
        port = free_port()
        cluster = PostgreSQLExecutor(
            executable=executable,
            host="127.0.0.1",
            port=port,
            datadir=str(folder / "data"),
            unixsocketdir=str(folder),
            logfile=str(folder / "postgresql.log"),
            startparams="-w",
            dbname="postgres",
        )
        cluster.start()
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
