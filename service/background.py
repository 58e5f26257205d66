"""The server's background tasks: the database health check, the signing keys'
refresh, and the Janus check. Each runs until cancelled and survives its failures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from service.domain.clock import Clock
from service.media.janus.control import JanusControl
from service.observability import metrics
from service.security.signing import SigningKeys

log = logging.getLogger(__name__)


async def watch_database(
    dsn: str, health: HealthServicer, names: Sequence[str], interval: float
) -> None:
    """SERVING only while the database answers. The check has a connection of its own,
    so a pool busy with calls never makes a healthy replica look down. (The server
    starts SERVING: it has just connected and migrated.)"""
    serving: bool | None = True
    connection: asyncpg.Connection[asyncpg.Record] | None = None
    try:
        while True:
            try:
                async with asyncio.timeout(max(interval, 1.0)):
                    if connection is None or connection.is_closed():
                        connection = await asyncpg.connect(dsn)
                    await connection.fetchval("SELECT 1")
                now_serving = True
            except Exception as error:  # any failure means "not serving"
                now_serving = False
                if connection is not None:
                    connection.terminate()
                    connection = None
                if serving is not False:
                    log.warning("database check failed: %r", error)
            if now_serving != serving:
                status = (
                    health_pb2.HealthCheckResponse.SERVING
                    if now_serving
                    else health_pb2.HealthCheckResponse.NOT_SERVING
                )
                for name in names:
                    await health.set(name, status)
                serving = now_serving
            await asyncio.sleep(interval)
    finally:
        if connection is not None:
            connection.terminate()


async def refresh_keys(keys: SigningKeys, clock: Clock, interval: float) -> None:
    """Pick up keys another replica (or `signing-keys rotate`) stored. A worker of
    ROOMS_WORKERS=N also hands the JWKS to its parent, which serves it."""
    while True:
        if metrics.MULTIPROCESS:
            metrics.publish_jwks(keys.jwks(clock.now()))
        await asyncio.sleep(interval)
        try:
            await keys.refresh()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # kept: the keys in memory stay good; retried
            log.warning("reading the signing keys failed: %r", error)


async def check_janus(janus: JanusControl, interval: float) -> None:
    """Every `interval`: does each tenant's Janus still hold its rooms? (docs/janus.md)"""
    while True:
        try:
            await janus.check_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be away: try again later
            log.warning("Janus check failed: %r", error)
        await asyncio.sleep(interval)
