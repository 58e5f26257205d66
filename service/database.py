"""Opening the database pool from the settings, for the server and the command-line tools
(`python -m service`, `python -m service.acs`, the workers' parent): a refused connection
becomes a ConfigError naming ROOMS_DATABASE_URL, never the URL itself."""

from __future__ import annotations

import contextlib
import urllib.parse

import asyncpg

from service.config import ConfigError, Settings
from service.storage.db import create_pool


async def connect_database(
    dsn: str, settings: Settings, *, size: int | None = None
) -> asyncpg.Pool:
    """The database pool (of `size` connections, else the settings'); ConfigError naming
    ROOMS_DATABASE_URL when the database cannot be reached or refuses us (without the
    URL, which may hold a password)."""
    try:
        return await create_pool(
            dsn,
            min_size=size or settings.db_pool_min_size,
            max_size=size or settings.db_pool_max_size,
            command_timeout=settings.db_command_timeout_seconds,
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
        problem = f"cannot connect to the database: {type(error).__name__}: {error}"
        for secret in (dsn, _password_of(dsn)):
            if secret:
                problem = problem.replace(secret, "***")
        raise ConfigError("ROOMS_DATABASE_URL", problem) from None


async def check_database(dsn: str, settings: Settings) -> None:
    """Connect once and let go, or ConfigError as `start_server` would raise it: what the
    parent of `ROOMS_WORKERS` workers checks once, before starting them."""
    pool = await connect_database(dsn, settings, size=1)
    await pool.close()


def _password_of(dsn: str) -> str:
    with contextlib.suppress(ValueError):
        return urllib.parse.urlsplit(dsn).password or ""
    return ""
