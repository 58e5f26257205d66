"""The access keys of the ACS Rooms REST API (service/acs/), per tenant.

The key itself is stored, not a hash: an HMAC is verified with the key (docs/azure.md,
"Access keys"). Nothing here logs a key."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from service.domain.acs import AcsKey
from service.storage.queries import QUERIES


async def keys_in_force(pool: asyncpg.Pool) -> list[AcsKey]:
    """Every tenant's keys that are not revoked."""
    rows = await pool.fetch(QUERIES["acs_keys_in_force"])
    return [AcsKey(row["tenant"], row["key_id"], bytes(row["secret"])) for row in rows]


async def add_key(pool: asyncpg.Pool, key: AcsKey, now: datetime) -> None:
    await pool.execute(QUERIES["insert_acs_key"], key.tenant, key.key_id, key.secret, now)


async def key_ids(pool: asyncpg.Pool, tenant: str) -> list[str]:
    """The ids of a tenant's keys in force, oldest first."""
    return [row["key_id"] for row in await pool.fetch(QUERIES["acs_key_ids"], tenant)]


async def revoke_key(pool: asyncpg.Pool, tenant: str, key_id: str, now: datetime) -> bool:
    """Whether a key in force was revoked (False: no such key, or revoked before)."""
    return await pool.fetchval(QUERIES["revoke_acs_key"], tenant, key_id, now) is not None
