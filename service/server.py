"""The composition root: start every part of the server in order, each registering its
clean-up on one exit stack right after it starts, and run until SIGINT or SIGTERM.

The parts: below the edge (service/wiring.py: database, stores, use cases, delivery,
lifecycle), the gRPC edge (service/grpc_server.py), the calendar feed server, the
metrics exporter, the ACS REST API, and the background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import asyncpg

from service import background
from service.acs.app import AcsServer, start_acs
from service.calendar import wiring as calendar_wiring
from service.calendar.server import FeedServer
from service.config import Settings
from service.delivery.engine import DeliveryEngine
from service.domain.clock import Clock, SystemClock
from service.grpc_server import HEALTH_NAMES, GrpcEdge, start_grpc
from service.media.janus.control import JanusControl
from service.observability import metrics
from service.observability.metrics import MetricsExporter, start_exporter
from service.security.exposure import check_configuration, log_exposure
from service.security.signing import SigningKeys
from service.storage.notify import EventHub
from service.transport import convert
from service.usecases.lifecycle import Lifecycle
from service.wiring import Core, checked_media_config, database_of, start_core

log = logging.getLogger(__name__)


@dataclass
class _Grace:
    """The grace a stop gives calls in flight (a failed start stops at once)."""

    seconds: float = 0.0


class _Tasks:
    """The background tasks: each runs until cancelled at stop."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(work))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(kw_only=True)
class RunningServer:
    """A started server. `stop()` shuts it down gracefully."""

    port: int
    grace: float
    core: Core
    edge: GrpcEdge
    exporter: MetricsExporter | None
    feeds: FeedServer | None
    acs: AcsServer | None
    stack: contextlib.AsyncExitStack
    stop_grace: _Grace

    # What tests and tools reach for by name.
    @property
    def pool(self) -> asyncpg.Pool:
        return self.core.pool

    @property
    def hub(self) -> EventHub:
        return self.core.hub

    @property
    def signing_keys(self) -> SigningKeys:
        return self.core.signing_keys

    @property
    def janus(self) -> JanusControl | None:
        return self.core.janus

    @property
    def delivery(self) -> DeliveryEngine:
        return self.core.delivery

    @property
    def lifecycle(self) -> Lifecycle:
        return self.core.lifecycle

    async def stop(self, grace: float | None = None) -> None:
        """Health goes NOT_SERVING; the background tasks stop (the delivery engine hands
        its leases back); the ACS REST API finishes its calls in flight; open streams
        end and new calls are refused, both with UNAVAILABLE; unary calls in flight get
        `grace` seconds to finish and then end with UNAVAILABLE too; then the server
        stops, and every other part in the reverse order of its start (the database
        pool last). The exit stack holds these steps in that order (`start_server`)."""
        self.stop_grace.seconds = self.grace if grace is None else grace
        await self.stack.aclose()

    async def wait_for_termination(self) -> None:
        await self.edge.server.wait_for_termination()


async def start_server(
    settings: Settings,
    dsn: str,
    *,
    clock: Clock | None = None,
    address: str | None = None,
) -> RunningServer:
    """Check the configuration, connect, migrate, and start serving on `address`
    (default: the settings'). A bad configuration raises ConfigError before anything
    is started; a failure while starting stops what had started, in reverse order."""
    listen = address or settings.listen_address
    api_keys, tls = check_configuration(settings, listen)
    media = checked_media_config(settings)
    clock = clock or SystemClock()
    grace = _Grace()
    async with contextlib.AsyncExitStack() as stack:
        core = await start_core(
            stack, settings, dsn, media=media, clock=clock, event_out=convert.event_out
        )
        edge = await start_grpc(
            stack,
            settings,
            listen=listen,
            api_keys=api_keys,
            tls=tls,
            usecases=core.usecases,
            signing_keys=core.signing_keys,
            clock=clock,
        )
        feeds = await calendar_wiring.start(settings, core.usecases.calendar)
        if feeds is not None:
            stack.push_async_callback(feeds.stop)
        exporter = start_exporter(
            settings.metrics_address, jwks=lambda: core.signing_keys.jwks(clock.now())
        )
        if exporter is not None:
            stack.callback(exporter.stop)
        # Unwound in reverse: the gRPC calls drain after the ACS REST API has stopped.
        stack.push_async_callback(lambda: edge.drain(grace.seconds))
        acs = None
        if settings.acs_listen_address:
            acs = await start_acs(
                settings,
                rooms=core.usecases.rooms,
                participants=core.usecases.participants,
                pool=core.pool,
            )
            stack.push_async_callback(acs.stop)
        tasks = _Tasks()
        stack.push_async_callback(tasks.stop)
        _start_background(tasks, settings, dsn, core, edge, clock)
        # The first step of a stop.
        stack.push_async_callback(edge.announce_shutdown)
        running = RunningServer(
            port=edge.port,
            grace=settings.shutdown_grace_seconds,
            core=core,
            edge=edge,
            exporter=exporter,
            feeds=feeds,
            acs=acs,
            stack=stack.pop_all(),
            stop_grace=grace,
        )
    log_exposure(settings, api_keys, listen)
    log.info("serving rooms.v1 on %s (port %d)", listen, edge.port)
    return running


def _start_background(
    tasks: _Tasks, settings: Settings, dsn: str, core: Core, edge: GrpcEdge, clock: Clock
) -> None:
    """The database health check, the signing keys' refresh, the pools' metrics (of a
    worker), the lifecycle, the delivery engine and the Janus check."""
    tasks.start(
        background.watch_database(
            dsn, edge.health, HEALTH_NAMES, settings.health_check_interval_seconds
        )
    )
    tasks.start(
        background.refresh_keys(core.signing_keys, clock, settings.signing_key_refresh_seconds)
    )
    if metrics.MULTIPROCESS:
        tasks.start(metrics.publish_pools())
    if settings.lifecycle_interval_seconds > 0:
        tasks.start(core.lifecycle.run(settings.lifecycle_interval_seconds))
    if settings.delivery_poll_seconds > 0:
        tasks.start(core.delivery.run())
    if core.janus is not None and settings.janus_check_seconds > 0:
        tasks.start(background.check_janus(core.janus, settings.janus_check_seconds))


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully."""
    async with contextlib.AsyncExitStack() as stack:
        dsn, embedded = await asyncio.to_thread(database_of, settings)
        if embedded is not None:
            stack.push_async_callback(asyncio.to_thread, embedded.cleanup)
        running = await start_server(settings, dsn)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("shutting down: finishing in-flight calls (grace %.1fs)", running.grace)
        await running.stop()
        log.info("stopped")
