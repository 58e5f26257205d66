"""Connection pool and schema migrations.

Migrations are the numbered `migrations/NNNN_name.sql` files, applied in order,
each in its own transaction, under a transaction-scoped PostgreSQL advisory lock so
that replicas starting together apply each migration exactly once.

On a Citus coordinator (the `citus` extension is in the database) whose schema is
distributed, a migration runs one statement at a time (`citus_statements`), in
Citus's sequential mode, and each table it creates is distributed right away by the
rules of docs/scaling.md (`distribute_new_tables`): an upgrade needs nothing but the
migrations. A new installation on a coordinator runs its migrations on local tables
and then distributes every table the same way.
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

from service.storage.queries import QUERIES, load

log = logging.getLogger(__name__)

# A connection of its own or one borrowed from a pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

# pg_advisory_xact_lock key for migrations: the bytes of "roomsmig" as a bigint.
MIGRATION_LOCK_KEY = int.from_bytes(b"roomsmig", "big") & 0x7FFF_FFFF_FFFF_FFFF
_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
# The statements sent only to a database with Citus (and the check for it).
CITUS = load(resources.files("service.storage").joinpath("citus.sql").read_text("utf-8"))


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
            if await _distributed(connection):
                await connection.execute(CITUS["sequential_ddl"])
                for statement in citus_statements(migration.sql):
                    await connection.execute(statement)
                    await distribute_new_tables(connection)
            else:
                await connection.execute(migration.sql)
            await connection.execute(
                QUERIES["record_migration"],
                migration.version,
                migration.name,
            )
        log.info("applied migration %04d_%s", migration.version, migration.name)
        applied_now.append(migration.version)
    if await connection.fetchval(CITUS["citus_present"]):
        # A new installation on a Citus coordinator: its migrations ran on local tables
        # (as on PostgreSQL); now every table is distributed as docs/scaling.md does.
        async with connection.transaction():
            await connection.execute(QUERIES["migration_lock"], MIGRATION_LOCK_KEY)
            await distribute_new_tables(connection)
    return applied_now


async def _distributed(connection: Connection) -> bool:
    """Whether this is a Citus coordinator where `rooms` is distributed already."""
    if not await connection.fetchval(CITUS["citus_present"]):
        return False
    return bool(await connection.fetchval(CITUS["rooms_distributed"]))


def citus_statements(sql: str) -> list[str]:
    """A migration's statements, one at a time, as Citus takes them: it refuses a
    string of several statements when it propagates a DDL statement by its text
    (citusdata/citus#6608), and an ALTER TABLE adding a constraint among other
    subcommands, so such an ALTER TABLE becomes one statement a subcommand (in order).
    Split by PostgreSQL's own parser (pglast)."""
    from pglast import ast, parse_sql, split
    from pglast.stream import RawStream

    statements: list[str] = []
    for text, raw in zip(split(sql), parse_sql(sql), strict=True):
        node = raw.stmt
        if isinstance(node, ast.AlterTableStmt) and node.cmds and len(node.cmds) > 1:
            statements += [
                RawStream()(
                    ast.AlterTableStmt(
                        relation=node.relation,
                        cmds=(command,),
                        objtype=node.objtype,
                        missing_ok=node.missing_ok,
                    )
                )
                for command in node.cmds
            ]
        else:
            statements.append(text)
    return statements


async def distribute_new_tables(connection: Connection) -> list[str]:
    """Distribute every table Citus does not distribute yet, as docs/scaling.md does by
    hand: a table with a `tenant` column by `tenant`, colocated with `rooms` (`rooms`
    first), any other table as a reference table (a copy on every node); a table after
    the tables its foreign keys reference. Returns the tables, in that order. The
    runner calls it after each statement of a migration, in its transaction, so a table
    is distributed before the next statement fills it (a foreign key of a table not yet
    distributed would be checked against the coordinator's empty copy of `rooms`)."""
    rows = await connection.fetch(CITUS["undistributed_tables"])
    pending = {row["name"]: row for row in rows}
    order: list[str] = []
    while pending:
        ready = [r for r in pending.values() if not set(r["refs"]) & set(pending)]
        if not ready:
            raise RuntimeError(f"cannot distribute: a foreign key cycle in {sorted(pending)}")
        row = min(ready, key=lambda r: (r["name"] != "rooms", not r["has_tenant"], r["name"]))
        if row["name"] == "rooms":
            await connection.execute(CITUS["distribute_rooms"])
        elif row["has_tenant"]:
            await connection.execute(CITUS["distribute_by_tenant"], row["name"])
        else:
            await connection.execute(CITUS["make_reference_table"], row["name"])
        log.info(
            "distributed table %s (%s)",
            row["name"],
            "by tenant" if row["has_tenant"] else "reference",
        )
        order.append(row["name"])
        del pending[row["name"]]
    return order


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
    tests record every statement (tests/shared/statements.py)."""
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
