"""Assemble and run the gRPC server: services, health, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field

import asyncpg
import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from rooms.v1 import (
    error_reason_pb2,
    participants_service_pb2,
    participants_service_pb2_grpc,
    rooms_service_pb2,
    rooms_service_pb2_grpc,
)

from service.config import Settings
from service.domain.clock import Clock, SystemClock
from service.domain.paging import PageTokens
from service.lifecycle import Lifecycle
from service.observability import metrics
from service.observability.interceptor import ObservingInterceptor
from service.observability.metrics import observe_pool, start_exporter
from service.security.exposure import check_exposure, load_keys, server_credentials
from service.storage.db import create_pool, migrate, page_token_secret
from service.storage.notify import EventHub
from service.storage.repository import PgRoomStore
from service.transport.auth import AuthInterceptor
from service.transport.participants import ParticipantsServicer
from service.transport.rooms import RoomsServicer
from service.usecases import RoomsUseCases

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    rooms_service_pb2.DESCRIPTOR.services_by_name["RoomsService"].full_name,
    participants_service_pb2.DESCRIPTOR.services_by_name["ParticipantsService"].full_name,
)
_HEALTH_NAMES = ("", *SERVICE_NAMES)
# Reflection answers from the default descriptor pool, which holds the files of the
# imported modules: these put the error vocabulary there (rooms.v1.ErrorReason and the
# google.rpc detail types), so `grpcurl describe rooms.v1.ErrorReason` works.
DESCRIBED_BY_REFLECTION = (
    error_reason_pb2.DESCRIPTOR,
    status_pb2.DESCRIPTOR,
    error_details_pb2.DESCRIPTOR,
)


@dataclass
class RunningServer:
    """A started server. `stop()` shuts it down gracefully."""

    server: grpc.aio.Server
    port: int
    pool: asyncpg.Pool
    health: HealthServicer
    grace: float
    hub: EventHub
    lifecycle: Lifecycle
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self, grace: float | None = None) -> None:
        """Health goes NOT_SERVING, new calls are refused, in-flight calls get
        `grace` seconds to finish, then the database pool closes."""
        await self.health.enter_graceful_shutdown()
        for task in self._tasks:
            task.cancel()
        await self.server.stop(self.grace if grace is None else grace)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.hub.stop()
        await self.pool.close()

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()


async def _watch_database(dsn: str, health: HealthServicer, interval: float) -> None:
    """SERVING only while the database answers. The check has a connection of its own,
    so a pool busy with calls never makes a healthy replica look down."""
    serving: bool | None = None
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
                for name in _HEALTH_NAMES:
                    await health.set(name, status)
                serving = now_serving
            await asyncio.sleep(interval)
    finally:
        if connection is not None:
            connection.terminate()


async def start_server(
    settings: Settings,
    dsn: str,
    *,
    clock: Clock | None = None,
    address: str | None = None,
) -> RunningServer:
    """Connect, migrate, and start serving on `address` (default: the settings')."""
    pool = await create_pool(
        dsn,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        command_timeout=settings.db_command_timeout_seconds,
    )
    observe_pool(pool)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
        secret = (
            settings.page_token_secret.get_secret_value().encode()
            if settings.page_token_secret
            else await page_token_secret(pool)
        )
        clock = clock or SystemClock()
        store = PgRoomStore(pool, statement_ceiling=settings.db_command_timeout_seconds)
        hub = EventHub(dsn)
        await hub.start()
        usecases = RoomsUseCases(store, clock, settings.limits(), PageTokens(secret), hub)

        keys = load_keys(settings)
        listen = address or settings.listen_address
        check_exposure(settings, keys, listen)
        server = grpc.aio.server(
            interceptors=[
                # First, so that calls refused by authentication are counted and logged.
                ObservingInterceptor(settings.access_log),
                AuthInterceptor(keys, protect_open=settings.auth_protect_health_and_reflection),
            ],
            options=[
                # A second server on a taken port must fail, not share it; only the
                # worker processes of one `ROOMS_WORKERS=N` server share their port.
                ("grpc.so_reuseport", 1 if settings.workers > 1 else 0),
                ("grpc.max_receive_message_length", settings.max_request_bytes),
                ("grpc.max_metadata_size", settings.max_metadata_bytes),
            ],
        )
        rooms_service_pb2_grpc.add_RoomsServiceServicer_to_server(
            RoomsServicer(usecases, clock), server
        )
        participants_service_pb2_grpc.add_ParticipantsServiceServicer_to_server(
            ParticipantsServicer(usecases, clock), server
        )
        health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        try:
            credentials = server_credentials(settings)
            if credentials is None:
                port = server.add_insecure_port(listen)
            else:
                port = server.add_secure_port(listen, credentials)
        except RuntimeError as error:
            raise RuntimeError(f"cannot listen on {listen}: {error}") from error
        await server.start()
    except BaseException:
        if "hub" in locals():
            await hub.stop()
        await pool.close()
        raise
    lifecycle = Lifecycle(pool, clock, settings.retention(), settings.lifecycle_batch_size)
    running = RunningServer(
        server, port, pool, health, settings.shutdown_grace_seconds, hub, lifecycle
    )
    running._tasks.append(
        asyncio.create_task(_watch_database(dsn, health, settings.health_check_interval_seconds))
    )
    if metrics.MULTIPROCESS:
        running._tasks.append(asyncio.create_task(metrics.publish_pools()))
    if settings.lifecycle_interval_seconds > 0:
        running._tasks.append(
            asyncio.create_task(lifecycle.run(settings.lifecycle_interval_seconds))
        )
    log.info("serving rooms.v1 on %s (port %d)", listen, port)
    return running


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully."""
    embedded = None
    if settings.database_url is not None:
        dsn = settings.database_url.get_secret_value()
    else:
        from service.embedded import start_embedded

        log.warning(
            "ROOMS_DATABASE_URL is not set: using the embedded PostgreSQL in %s",
            settings.data_dir,
        )
        dsn, embedded = await asyncio.to_thread(start_embedded, settings.data_dir)
    try:
        running = await start_server(settings, dsn)
        exporter = start_exporter(settings.metrics_address)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("shutting down: finishing in-flight calls (grace %.1fs)", running.grace)
        await running.stop()
        if exporter is not None:
            exporter.stop()
        log.info("stopped")
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.cleanup)
