"""Migrations from an empty database give exactly the expected schema, and replicas
starting at once apply each migration once."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from service.storage.db import migrate, migrations
from support.database import scratch_database

SNAPSHOT = Path(__file__).with_name("schema.expected")

_SCHEMA_QUERY = """
SELECT 'column ' || c.table_name || '.' || c.column_name || ' ' || c.data_type
       || CASE WHEN c.is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END
       || COALESCE(' COLLATE ' || c.collation_name, '')
       || COALESCE(' DEFAULT ' || c.column_default, '') AS line
FROM information_schema.columns c WHERE c.table_schema = 'public'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || '.' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
ORDER BY line
"""


async def install_before(connection: asyncpg.Connection, version: int) -> None:
    """The schema as the migrations before `version` left it, recorded as applied."""
    await connection.execute(
        """CREATE TABLE schema_migrations (version integer PRIMARY KEY,
               name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    for migration in migrations():
        if migration.version < version:
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )


@contextlib.asynccontextmanager
async def before_migration(admin_url: str, version: int) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a scratch database whose schema stands just before `version`."""
    async with scratch_database(admin_url, f"rooms_migrate_{version:04d}") as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await install_before(connection, version)
            yield connection
        finally:
            await connection.close()


async def schema_of(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(_SCHEMA_QUERY)
    finally:
        await connection.close()
    return "".join(row["line"] + "\n" for row in rows)


async def test_migrations_from_empty_give_the_expected_schema(admin_url: str) -> None:
    async with scratch_database(admin_url, "rooms_migrate") as dsn:
        connections = [await asyncpg.connect(dsn) for _ in range(3)]
        try:
            # Three replicas start at once: the advisory lock serializes them.
            applied = await asyncio.gather(*(migrate(c) for c in connections))
            again = await migrate(connections[0])
            recorded = await connections[0].fetch(
                "SELECT version FROM schema_migrations ORDER BY version"
            )
        finally:
            for connection in connections:
                await connection.close()
        every = [m.version for m in migrations()]
        assert sorted(v for versions in applied for v in versions) == every
        assert again == []
        assert [row["version"] for row in recorded] == every

        schema = await schema_of(dsn)
    if os.environ.get("ROOMS_UPDATE_SCHEMA_SNAPSHOT") == "1":
        SNAPSHOT.write_text(schema)
    assert schema == SNAPSHOT.read_text(), (
        "the migrated schema differs from tests/integration/schema.expected; if the change"
        " is intended, run with ROOMS_UPDATE_SCHEMA_SNAPSHOT=1 and review the diff"
    )


def test_migration_files_are_numbered_once_each_from_one() -> None:
    versions = [m.version for m in migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_migration_0003_repairs_instants_stored_as_infinity(admin_url: str) -> None:
    """Rows written before the accepted range existed: the window's infinities (and an
    opened event's) become the ends of the range, and can no longer be written."""
    async with before_migration(admin_url, 3) as connection:
        await connection.execute(
            """INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
                   valid_until)
               VALUES ('t', 'past', now(), now(), '-infinity', now() + interval '1 day'),
                      ('t', 'future', now(), now(), now(), 'infinity'),
                      ('t', 'fine', now(), now(), '2026-01-01Z', '2026-02-01Z');
               INSERT INTO room_events (tenant, room_id, revision, event_time,
                   record_time, type, actor)
               VALUES ('t', 'past', 1, '-infinity', now(), 'opened', 'system')"""
        )
        assert await migrate(connection) == [m.version for m in migrations()][2:]
        rows = await connection.fetch(
            """SELECT room_id, valid_from::text AS f, valid_until::text AS u FROM rooms
               ORDER BY room_id"""
        )
        event_time = await connection.fetchval("SELECT event_time::text FROM room_events")
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("UPDATE rooms SET valid_from = '-infinity'")
    by_id = {row["room_id"]: row for row in rows}
    assert by_id["past"]["f"] == "1970-01-01 00:00:00+00"
    assert by_id["future"]["u"] == "9999-01-01 00:00:00+00"
    assert (by_id["fine"]["f"], by_id["fine"]["u"]) == (
        "2026-01-01 00:00:00+00",
        "2026-02-01 00:00:00+00",
    )
    assert event_time == "1970-01-01 00:00:00+00"
