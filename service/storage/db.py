"""Connection pool and schema migrations.

Migrations are the numbered `migrations/NNNN_name.sql` files, applied in order,
each in its own transaction, under a transaction-scoped PostgreSQL advisory lock so
that replicas starting together apply each migration exactly once.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from service.storage.queries import QUERIES

log = logging.getLogger(__name__)

# A connection of its own or one borrowed from a pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# pg_advisory_xact_lock key for migrations: the bytes of "roomsmig" as a bigint.
MIGRATION_LOCK_KEY = int.from_bytes(b"roomsmig", "big") & 0x7FFF_FFFF_FFFF_FFFF
_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("service.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_FILE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
    found.sort(key=lambda m: m.version)
    return found


async def migrate(connection: Connection) -> list[int]:
    """Apply the pending migrations; return the versions applied by this call. Each
    step is one transaction holding a transaction-scoped advisory lock (no session
    state survives a failed step) and re-reading what is applied under it."""
    applied_now: list[int] = []
    async with connection.transaction():
        await connection.execute(QUERIES["migration_lock"], MIGRATION_LOCK_KEY)
        await connection.execute(QUERIES["create_migrations_table"])
    for migration in migrations():
        async with connection.transaction():
            await connection.execute(QUERIES["migration_lock"], MIGRATION_LOCK_KEY)
            done = await connection.fetchval(QUERIES["migration_applied"], migration.version)
            if done:
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                QUERIES["record_migration"],
                migration.version,
                migration.name,
            )
        log.info("applied migration %04d_%s", migration.version, migration.name)
        applied_now.append(migration.version)
    return applied_now


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def _keep_session(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """The pool's reset on release. The default runs `SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`, a second round trip on every call. The service
    keeps no session state (no SET, LISTEN, cursors, session-level advisory locks: its
    advisory locks are transaction-scoped), and asyncpg still rolls back an open
    transaction before calling this."""


async def create_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    command_timeout: float | None = None,
    connection_class: type[asyncpg.Connection[Any]] = asyncpg.Connection,
) -> asyncpg.Pool:
    """A pool whose connections speak JSON for jsonb columns. `connection_class` lets
    tests record every statement (tests/statements.py)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=command_timeout,
        connection_class=connection_class,
    )
    assert pool is not None
    return pool


async def page_token_secret(pool: asyncpg.Pool) -> bytes:
    """The secret that signs page tokens, shared through the database by all replicas."""
    value = await pool.fetchval(QUERIES["page_token_secret"])
    if not isinstance(value, bytes):
        raise RuntimeError("server_secrets has no page_token secret: were migrations applied?")
    return value
