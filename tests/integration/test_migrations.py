"""Migrations from an empty database give exactly the expected schema, and replicas
starting at once apply each migration once."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg

from service.storage.db import migrate, migrations
from tests.database import scratch_database

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
    # Parallel branches use numbers reserved for them (0007 is webhook delivery's), so
    # a branch may skip numbers that another branch fills; no number may repeat.
    assert versions[0] == 1
    assert len(set(versions)) == len(versions)
