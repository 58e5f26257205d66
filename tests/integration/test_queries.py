"""Every statement of service/storage/sql/, as the server sends it (fragments
spliced in), is complete SQL that PostgreSQL parses and plans against the migrated
schema: also those no other test happens to send."""

from __future__ import annotations

import asyncpg

from service.storage.queries import QUERIES


async def test_every_statement_prepares_on_the_migrated_schema(pool: asyncpg.Pool) -> None:
    failed: dict[str, str] = {}
    async with pool.acquire() as connection:
        for name, statement in QUERIES.items():
            try:
                await connection.prepare(statement)
            except asyncpg.PostgresError as error:
                failed[name] = f"{type(error).__name__}: {error}"
    assert failed == {}
