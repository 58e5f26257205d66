"""On a real Citus cluster (`make test-citus`; skipped elsewhere): the run's database
is distributed as docs/scaling.md says, and the migration runner distributes what a
migration creates, whether it starts from an empty database on Citus or from a schema
installed earlier and distributed by the operator with the document's block."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from service.storage import db
from service.storage.db import MIGRATION_LOCK_KEY, Migration, migrate, migrations
from service.storage.queries import QUERIES
from support import citus
from tests.integration.test_migrations import SNAPSHOT, schema_of

pytestmark = pytest.mark.skipif(
    os.environ.get("ROOMS_TEST_CITUS") != "1", reason="needs a Citus cluster: make test-citus"
)

# Every Citus table: its kind, distribution column, and whether it is colocated with rooms.
DISTRIBUTION = """
SELECT table_name::text AS name, citus_table_type AS kind, distribution_column AS column,
       colocation_id = (SELECT colocation_id FROM citus_tables
                         WHERE table_name = 'rooms'::regclass) AS with_rooms
FROM citus_tables ORDER BY 1"""

# A migration still to be written: a tenant table referencing rooms, and a global one.
FUTURE = Migration(
    9999,
    "future",
    """CREATE TABLE future_notes (
           tenant  text COLLATE "C" NOT NULL,
           room_id text COLLATE "C" NOT NULL,
           note    text NOT NULL,
           CONSTRAINT future_notes_pkey PRIMARY KEY (tenant, room_id),
           CONSTRAINT future_notes_room_fkey FOREIGN KEY (tenant, room_id)
               REFERENCES rooms (tenant, room_id) ON DELETE CASCADE);
       CREATE TABLE future_settings (name text PRIMARY KEY, value text NOT NULL);
       INSERT INTO future_settings VALUES ('shipped', 'yes');""",
)


# What Citus adds to the schema's listing: its views, and on the coordinator the
# reference tables' shards (a name ending in `_<shard id>`).
CITUS_OBJECTS = re.compile(r"^column citus_|\w_\d{6,}[. ]")


async def own_schema(dsn: str) -> str:
    """The schema as tests/integration/schema.expected lists it, without Citus's objects."""
    lines = (await schema_of(dsn)).splitlines(keepends=True)
    return "".join(line for line in lines if not CITUS_OBJECTS.search(line))


async def distribution(dsn: str) -> list[tuple[str, str, str, bool]]:
    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await connection.fetch(DISTRIBUTION)]
    finally:
        await connection.close()


def expected(tables: dict[str, bool]) -> list[tuple[str, str, str, bool]]:
    """What docs/scaling.md's rules give for tables named with whether they have a tenant."""
    return sorted(
        (name, "distributed", "tenant", True) if tenant else (name, "reference", "<none>", False)
        for name, tenant in tables.items()
    )


@pytest.fixture
async def cluster_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh database on every node, Citus only on the workers so far."""
    async with citus.citus_scratch_database(admin_url) as dsn:
        yield dsn


async def test_the_runs_database_is_distributed_as_documented(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        tables = {
            row["relname"]: row["tenant"]
            for row in await connection.fetch(
                """SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                          AND a.attname = 'tenant') AS tenant
                   FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
                    AND c.relkind = 'r' AND c.relname <> 'schema_migrations'"""
            )
        }
        nodes = await connection.fetchval(
            "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'rooms'::regclass"
        )
    finally:
        await connection.close()
    assert await distribution(database_url) == expected(tables)
    assert nodes == 2  # the rooms' shards are spread over both workers


async def test_an_earlier_schema_distributed_by_hand_migrates_to_the_latest(
    cluster_database: str, database_url: str, admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed up to 0007 by the runner of that time (plain PostgreSQL), distributed by
    the operator with the block's statements for the tables that existed, then upgraded:
    every later migration runs on the distributed schema and its tables are distributed,
    and so is a future migration's."""
    connection = await asyncpg.connect(cluster_database)
    try:
        await connection.execute(QUERIES["create_migrations_table"])
        for migration in [m for m in migrations() if m.version <= 7]:
            async with connection.transaction():
                await connection.execute(QUERIES["migration_lock"], MIGRATION_LOCK_KEY)
                await connection.execute(migration.sql)
                await connection.execute(
                    QUERIES["record_migration"], migration.version, migration.name
                )
        existing = {r[0] for r in await connection.fetch("SELECT tablename FROM pg_tables")}
        await citus.register(cluster_database, await citus.workers_of(admin_url))
        block = citus.documented_block()
        for statement, table in re.findall(r"(?m)^(SELECT create_\w+\('(\w+)'.*?\);)", block):
            if table in existing:
                await connection.execute(statement)
        applied = await migrate(connection)
        assert applied == [m.version for m in migrations() if m.version > 7]
        assert await distribution(cluster_database) == await distribution(database_url)
        assert await own_schema(cluster_database) == SNAPSHOT.read_text()

        monkeypatch.setattr(db, "migrations", lambda: [*migrations(), FUTURE])
        assert await migrate(connection) == [FUTURE.version]
        await connection.execute(
            "INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,"
            " valid_until) VALUES ('t', 'r', now(), now(), now(), now() + interval '1 hour')"
        )
        await connection.execute("INSERT INTO future_notes VALUES ('t', 'r', 'hello')")
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute("INSERT INTO future_notes VALUES ('t', 'gone', 'no room')")
        shipped = await connection.fetchval("SELECT value FROM future_settings")
    finally:
        await connection.close()
    after = await distribution(cluster_database)
    assert ("future_notes", "distributed", "tenant", True) in after
    assert ("future_settings", "reference", "<none>", False) in after
    assert shipped == "yes"


async def test_migrations_from_empty_on_citus_distribute_every_table(
    cluster_database: str, database_url: str, admin_url: str
) -> None:
    """A new installation on a cluster: Citus and the workers first, then the service's
    migrations alone give the documented distribution and the same schema."""
    await citus.register(cluster_database, await citus.workers_of(admin_url))
    connection = await asyncpg.connect(cluster_database)
    try:
        applied = await migrate(connection)
        again = await migrate(connection)
    finally:
        await connection.close()
    assert applied == [m.version for m in migrations()] and again == []
    assert await distribution(cluster_database) == await distribution(database_url)
    assert await own_schema(cluster_database) == SNAPSHOT.read_text()
