"""docs/scaling.md, "Distributing the schema": the SQL block names every table of the
migrated schema, a table with a `tenant` column distributed colocated with `rooms`, one
without it a reference table (schema_migrations stays local, as the block says)."""

from __future__ import annotations

import re

import asyncpg

from service.storage.db import migrate
from support.database import ROOT

SCALING = ROOT / "docs" / "scaling.md"


async def test_scaling_md_distributes_every_table(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await migrate(connection)
        rows = await connection.fetch(
            """SELECT t.table_name,
                      EXISTS (SELECT 1 FROM information_schema.columns c
                               WHERE c.table_schema = t.table_schema
                                 AND c.table_name = t.table_name
                                 AND c.column_name = 'tenant') AS has_tenant
                 FROM information_schema.tables t
                WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'"""
        )
    finally:
        await connection.close()
    text = SCALING.read_text()
    distributed = set(
        re.findall(
            r"create_distributed_table\('(\w+)', 'tenant'(?:, colocate_with => 'rooms')?\)", text
        )
    )
    reference = set(re.findall(r"create_reference_table\('(\w+)'\)", text))
    tables = {row["table_name"]: row["has_tenant"] for row in rows}
    assert distributed == {name for name, tenant in tables.items() if tenant}
    assert reference == {n for n, t in tables.items() if not t} - {"schema_migrations"}
