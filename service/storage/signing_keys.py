"""The signing keys of join credentials (all tenants)."""

from __future__ import annotations

from service.domain.credentials import StoredSigningKey
from service.storage.base import (
    StoreBase,
    translate_errors,
)
from service.storage.queries import QUERIES


class SigningKeysStore(StoreBase):
    """The signing keys of join credentials (all tenants)."""

    @translate_errors
    async def signing_keys(self) -> list[StoredSigningKey]:
        rows = await self._pool.fetch(QUERIES["signing_keys"])
        return [StoredSigningKey(**dict(row)) for row in rows]

    @translate_errors
    async def add_signing_key(self, key: StoredSigningKey, *, only_if_none: bool) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if only_if_none:
                # Replicas starting together: one makes the first key, the others wait
                # for its transaction and then see it.
                await conn.execute(QUERIES["add_signing_key"])
                if await conn.fetchval(QUERIES["any_signing_key"]):
                    return False
            await conn.execute(
                QUERIES["insert_signing_key"],
                key.key_id,
                key.algorithm,
                key.private_key,
                dict(key.public_jwk),
                key.create_time,
                key.activate_time,
            )
            return True
