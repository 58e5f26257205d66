"""A PostgreSQL cluster with stock settings, started for one test run and removed after.

`initdb` into a temporary directory, the default configuration, a free port of its
own: what a fresh machine's PostgreSQL is, whatever the machine's own server has been
tuned to. pytest-postgresql's executor (`PostgreSQLExecutor`) does the start-up and
tear-down with the machine's `pg_ctl`. PostgreSQL refuses to run as root; as root, the
cluster runs as the `postgres` system user (Debian's packages create it) through a
two-line `pg_ctl` wrapper."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
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


def _wait_until_accepting(dsn: str, seconds: float = 120.0) -> None:
    """Return once the server answers a query. The executor returns when the port is
    open, which PostgreSQL does before its start-up ends: until then connections are
    refused with "the database system is starting up" (seconds on a busy machine)."""
    import asyncpg

    async def attempt() -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                connection = await asyncpg.connect(dsn, timeout=10)
            except (TimeoutError, asyncpg.CannotConnectNowError, OSError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
            else:
                await connection.close()
                return

    asyncio.run(attempt())


@contextlib.contextmanager
def stock_cluster(executable: str) -> Iterator[str]:
    """Start a stock cluster with `executable` (a pg_ctl); yield a superuser DSN."""
    from mirakuru.exceptions import ExecutorError
    from pytest_postgresql.executors.proc import PostgreSQLExecutor

    from support.processes import free_port  # (support.processes imports this package)

    folder = Path(tempfile.mkdtemp(prefix="rooms-pg-"))
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            executable = _as_system_user(executable, folder)
        # A port found free can be taken by another process before PostgreSQL binds it
        # (other test runs start servers too): then start again on another one.
        for attempt in range(3):
            port = free_port()
            cluster = PostgreSQLExecutor(
                executable=executable,
                host="127.0.0.1",
                port=port,
                datadir=str(folder / f"data{attempt}"),
                unixsocketdir=str(folder),
                logfile=str(folder / f"postgresql{attempt}.log"),
                startparams="-w",
                dbname="postgres",
            )
            try:
                cluster.start()
                break
            except (ExecutorError, subprocess.CalledProcessError):
                with contextlib.suppress(Exception):
                    cluster.stop()
                if attempt == 2:
                    raise
        try:
            dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
            _wait_until_accepting(dsn)
            yield dsn
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
