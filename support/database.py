"""Where the tests' PostgreSQL comes from, and a fresh database per test run.

In order: `ROOMS_TEST_DATABASE_URL`; else a cluster with stock settings started for
this run with the machine's `pg_ctl` (support/cluster.py; `ROOMS_TEST_CLUSTER=0` skips
it, `=1` requires it); else a server on 127.0.0.1:5432 (user postgres, trust auth); else a
testcontainers PostgreSQL when a Docker engine answers; else the embedded PostgreSQL
from `pgserver`. `ROOMS_TEST_EMBEDDED=1` skips straight to the embedded one (CI uses
it to prove the fresh-machine path). Whatever the machine's own server was tuned to,
the default run meets a stock PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from support.cluster import pg_ctl, stock_cluster

log = logging.getLogger(__name__)

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent  # the repository


def with_database(dsn: str, database: str) -> str:
    """The same server, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def _answers(dsn: str) -> bool:
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def admin_dsn(
    url_variable: str = "ROOMS_TEST_DATABASE_URL",
    embedded_dir: Path = ROOT / ".data" / "test",
    *,
    containers: bool = True,
    cluster: bool = True,
) -> Iterator[tuple[str, str]]:
    """A DSN of a server where databases may be created, and where it came from: the
    URL in `url_variable`, a stock cluster of this run's own (if `cluster`), the local
    server, a container (if `containers`), or an embedded PostgreSQL in
    `embedded_dir`. Used by the tests and by the benchmark."""
    explicit = os.environ.get(url_variable)
    if explicit:
        yield explicit, url_variable
        return
    if os.environ.get("ROOMS_TEST_EMBEDDED") != "1":
        wanted = os.environ.get("ROOMS_TEST_CLUSTER")  # "0": never, "1": required
        executable = pg_ctl() if cluster and wanted != "0" else None
        if wanted == "1" and executable is None:
            raise RuntimeError("ROOMS_TEST_CLUSTER=1, but no pg_ctl: install PostgreSQL")
        if executable:
            with stock_cluster(executable) as dsn:
                yield dsn, f"a stock PostgreSQL cluster started for this run ({executable})"
            return
        if asyncio.run(_answers(LOCAL_SERVER)):
            yield LOCAL_SERVER, "PostgreSQL at 127.0.0.1:5432"
            return
        if containers and _docker_answers():
            from testcontainers.postgres import PostgresContainer

            with PostgresContainer("postgres:16-alpine", driver=None) as container:
                yield container.get_connection_url(), "testcontainers"
            return
    from service.embedded import start_embedded

    # Stock settings: the suite fits PostgreSQL's default 100 connections.
    dsn, server = start_embedded(embedded_dir, database="postgres")
    try:
        yield dsn, "embedded PostgreSQL (pgserver)"
    finally:
        server.cleanup()


@contextlib.asynccontextmanager
async def scratch_database(admin: str, prefix: str = "rooms_test") -> AsyncIterator[str]:
    """Create an empty database for this run; drop it afterwards."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield with_database(admin, name)
    finally:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
