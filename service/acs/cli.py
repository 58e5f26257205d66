"""`python -m service acs-keys create|list|revoke`: a tenant's ACS access keys.

`create` prints exactly one line, the connection string (the only time the key is
shown); `list` prints one key id per line, never a key; `revoke` makes a key answer
401 on every replica within a second (service/acs/keys.py)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from service.config import ConfigError, Settings, load_settings
from service.domain.acs import connection_string, new_acs_key
from service.storage import acs_keys

EXIT_CONFIG_ERROR = 2


def run(action: str, tenant: str, endpoint: str | None, key_id: str | None) -> int:
    """The exit status of one acs-keys command."""
    if not tenant:
        print("error: --tenant must not be empty", file=sys.stderr)
        return 2
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        print("error: --endpoint must be an https:// (or http://) URL", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        if settings.database_url is None:
            raise ConfigError("ROOMS_DATABASE_URL", "set it to the server's database")
        return asyncio.run(_run(settings, action, tenant, endpoint, key_id))
    except ConfigError as error:
        print(f"rooms: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR


async def _run(
    settings: Settings, action: str, tenant: str, endpoint: str | None, key_id: str | None
) -> int:
    from service.database import connect_database
    from service.storage.db import migrate

    assert settings.database_url is not None
    pool = await connect_database(settings.database_url.get_secret_value(), settings, size=1)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        now = datetime.now(UTC)
        if action == "create":
            assert endpoint is not None
            key = new_acs_key(tenant)
            await acs_keys.add_key(pool, key, now)
            print(connection_string(endpoint.rstrip("/") + "/", key))
        elif action == "list":
            for found in await acs_keys.key_ids(pool, tenant):
                print(found)
        else:
            assert key_id is not None
            if not await acs_keys.revoke_key(pool, tenant, key_id, now):
                print(f"error: tenant {tenant!r} has no key {key_id!r} in force", file=sys.stderr)
                return 1
        return 0
    finally:
        await pool.close()
