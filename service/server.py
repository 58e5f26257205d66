"""Assemble and run the gRPC server: services, health, reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from rooms.v1 import (
    calendar_service_pb2,
    calendar_service_pb2_grpc,
    credentials_service_pb2,
    credentials_service_pb2_grpc,
    error_reason_pb2,
    participants_service_pb2,
    participants_service_pb2_grpc,
    rooms_service_pb2,
    rooms_service_pb2_grpc,
    webhooks_service_pb2,
    webhooks_service_pb2_grpc,
)

from service import background
from service.acs.app import AcsServer, start_acs
from service.calendar import wiring as calendar_wiring
from service.calendar.server import FeedServer
from service.config import ConfigError, Settings
from service.database import connect_database
from service.delivery.engine import DeliveryEngine
from service.delivery.sink import Sink
from service.delivery.webhook import WebhookSink
from service.domain.clock import Clock, SystemClock
from service.domain.paging import PageTokens
from service.http_client import HttpClient
from service.lifecycle import Lifecycle
from service.media.base import MediaConfigError
from service.media.config import MediaConfig, load_media_config
from service.media.janus import sink as janus_sink
from service.media.janus.control import JanusControl
from service.media.livekit import push as livekit_sink
from service.observability import metrics
from service.observability.metrics import MetricsExporter, observe_pool, start_exporter
from service.security.credentials import Credentials
from service.security.exposure import check_configuration, log_exposure
from service.security.signing import SigningKeys
from service.storage import delivery as delivery_sql
from service.storage.db import migrate, page_token_secret
from service.storage.notify import EventHub
from service.storage.repository import PgRoomStore
from service.storage.webhooks import PgWebhookStore
from service.transport import convert
from service.transport.auth import Authenticator, refused
from service.transport.calendar import CalendarServicer
from service.transport.credentials import CredentialsServicer
from service.transport.edge import Edge
from service.transport.guard import CallGuard
from service.transport.participants import ParticipantsServicer
from service.transport.rooms import RoomsServicer
from service.transport.webhooks import WebhooksServicer
from service.usecases import RoomsUseCases
from service.usecases_webhooks import WebhooksUseCases

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    rooms_service_pb2.DESCRIPTOR.services_by_name["RoomsService"].full_name,
    participants_service_pb2.DESCRIPTOR.services_by_name["ParticipantsService"].full_name,
    credentials_service_pb2.DESCRIPTOR.services_by_name["CredentialsService"].full_name,
    webhooks_service_pb2.DESCRIPTOR.services_by_name["WebhooksService"].full_name,
    calendar_service_pb2.DESCRIPTOR.services_by_name["CalendarService"].full_name,
)
_HEALTH_NAMES = ("", *SERVICE_NAMES)
_HEALTH_WATCH_TURNS = 5
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
    signing_keys: SigningKeys
    guard: CallGuard
    delivery: DeliveryEngine
    http: HttpClient
    exporter: MetricsExporter | None = None
    janus: JanusControl | None = None
    feeds: FeedServer | None = None
    acs: AcsServer | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self, grace: float | None = None) -> None:
        """Health goes NOT_SERVING; open streams end and new calls are refused, both with
        UNAVAILABLE; unary calls in flight get `grace` seconds to finish and then end
        with UNAVAILABLE too; then the server stops and the database pool closes."""
        grace = self.grace if grace is None else grace
        await self.health.enter_graceful_shutdown()
        for task in self._tasks:
            task.cancel()
        # A few turns of the event loop let each Health.Watch stream, just woken, hand
        # its NOT_SERVING to gRPC before the stream is ended (best effort: a watcher
        # that misses it sees the stream end with UNAVAILABLE, which says as much).
        for _ in range(_HEALTH_WATCH_TURNS):
            await asyncio.sleep(0)
        started = time.monotonic()
        if self.acs is not None:  # the ACS REST API: its calls in flight finish first
            await self.acs.stop()
        await self.guard.drain(grace)
        await self.guard.quiet(max(grace - (time.monotonic() - started), 0.0))
        # Nothing of ours is running any more: this returns as soon as gRPC has sent
        # the last answers.
        await self.server.stop(grace)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.hub.stop()
        if self.feeds is not None:
            await self.feeds.stop()
        if self.janus is not None:
            await self.janus.close()
        await self.http.close()
        await self.pool.close()
        if self.exporter is not None:
            self.exporter.stop()

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()


def checked_media_config(settings: Settings) -> MediaConfig:
    """The media configuration (ROOMS_MEDIA_CONFIG_FILE), or ConfigError naming it."""
    try:
        return load_media_config(settings.media_config_file)
    except MediaConfigError as error:
        raise ConfigError("ROOMS_MEDIA_CONFIG_FILE", str(error)) from None


def database_of(settings: Settings) -> tuple[str, Any]:
    """The DSN to serve from, and the embedded PostgreSQL's handle (for its `cleanup()`)
    when `ROOMS_DATABASE_URL` is unset and one was started for it, else None. Blocking
    when it starts one."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), None
    from service.embedded import start_embedded

    log.warning(
        "ROOMS_DATABASE_URL is not set: using the embedded PostgreSQL in %s", settings.data_dir
    )
    return start_embedded(settings.data_dir)


async def start_server(
    settings: Settings,
    dsn: str,
    *,
    clock: Clock | None = None,
    address: str | None = None,
) -> RunningServer:
    """Check the configuration, connect, migrate, and start serving on `address`
    (default: the settings'). A bad configuration raises ConfigError before anything
    is started."""
    listen = address or settings.listen_address
    keys, credentials = check_configuration(settings, listen)
    media = checked_media_config(settings)
    pool = await connect_database(dsn, settings)
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
        limits = settings.limits()
        signing_keys = SigningKeys(store, limits.credential_ttl)
        await signing_keys.start(clock.now())
        signer = Credentials(
            media,
            signing_keys,
            clock,
            issuer=settings.credential_issuer,
            audience=settings.credential_audience,
        )
        hub = EventHub(dsn)
        await hub.start()
        http = HttpClient(settings.http_limits())
        janus = (
            JanusControl(pool, clock, media.janus_for, media.janus_tenants(), http)
            if media.janus_tenants()
            else None
        )
        usecases = RoomsUseCases(
            store, clock, limits, PageTokens(secret), hub, credentials=signer, media=janus
        )
        webhook_store = PgWebhookStore(pool, statement_ceiling=settings.db_command_timeout_seconds)
        webhook_usecases = WebhooksUseCases(
            webhook_store,
            clock,
            limits,
            PageTokens(secret),
            allowed_http_hosts=settings.allowed_http_hosts(),
            max_webhooks=settings.max_webhooks_per_tenant,
        )
        # Only the tenants configured now get LiveKit pushes (every replica reads the
        # same file, so they agree).
        await delivery_sql.sync_sink(
            pool,
            livekit_sink.SINK,
            livekit_sink.DESTINATION,
            media.livekit_tenants(),
            clock.now(),
        )
        # Likewise the tenants with a Janus: their VideoRooms follow the history.
        await delivery_sql.sync_sink(
            pool, janus_sink.SINK, janus_sink.DESTINATION, media.janus_tenants(), clock.now()
        )
        sinks: list[Sink] = [
            WebhookSink(webhook_store, http, settings.allowed_http_hosts(), convert.event_out),
            livekit_sink.LiveKitSink(media.livekit_for, http),
        ]
        if janus is not None:
            sinks.append(janus_sink.JanusSink(janus))
        delivery = DeliveryEngine(
            pool,
            clock,
            sinks,
            settings.delivery(),
            wake=hub.subscribe_all,
        )

        server = grpc.aio.server(
            options=[
                # A second server on a taken port must fail, not share it; only the
                # worker processes of one `ROOMS_WORKERS=N` server share their port.
                ("grpc.so_reuseport", 1 if settings.workers > 1 else 0),
                ("grpc.max_receive_message_length", settings.max_request_bytes),
                ("grpc.max_metadata_size", settings.max_metadata_bytes),
            ],
        )
        # Before any service is registered: every handler registered on the server, of
        # every service, gets its request id, authentication, metrics and access line
        # (the edge, outermost: calls it refuses are counted and logged, and their body
        # is never parsed), parses its own request body and is ended at shutdown.
        auth = Authenticator(keys, protect_open=settings.auth_protect_health_and_reflection)
        Edge(auth.authenticate, refused, settings.access_log).install(server)
        guard = CallGuard()
        guard.install(server)
        calendar_usecases = calendar_wiring.usecases(settings, pool, store, clock, limits, secret)
        rooms_service_pb2_grpc.add_RoomsServiceServicer_to_server(
            RoomsServicer(usecases, clock, calendar_usecases), server
        )
        calendar_service_pb2_grpc.add_CalendarServiceServicer_to_server(
            CalendarServicer(calendar_usecases), server
        )
        participants_service_pb2_grpc.add_ParticipantsServiceServicer_to_server(
            ParticipantsServicer(usecases, clock), server
        )
        credentials_service_pb2_grpc.add_CredentialsServiceServicer_to_server(
            CredentialsServicer(usecases, signing_keys, clock), server
        )
        webhooks_service_pb2_grpc.add_WebhooksServiceServicer_to_server(
            WebhooksServicer(webhook_usecases), server
        )
        health = HealthServicer()
        for name in _HEALTH_NAMES:
            await health.set(name, health_pb2.HealthCheckResponse.SERVING)
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
            if credentials is None:
                port = server.add_insecure_port(listen)
            else:
                port = server.add_secure_port(listen, credentials)
        except RuntimeError as error:
            raise ConfigError(
                "ROOMS_LISTEN_ADDRESS", f"cannot listen on {listen}: {error}"
            ) from None
        await server.start()
        feeds = await calendar_wiring.start(settings, calendar_usecases)
        exporter = start_exporter(
            settings.metrics_address, jwks=lambda: signing_keys.jwks(clock.now())
        )
        acs = await start_acs(settings, usecases, pool) if settings.acs_listen_address else None
    except BaseException:
        if "exporter" in locals() and exporter is not None:
            exporter.stop()
        if "server" in locals():
            await server.stop(None)
        if "hub" in locals():
            await hub.stop()
        if "feeds" in locals() and feeds is not None:
            await feeds.stop()
        if "janus" in locals() and janus is not None:
            await janus.close()
        if "http" in locals():
            await http.close()
        await pool.close()
        raise
    lifecycle = Lifecycle(pool, clock, settings.retention(), settings.lifecycle_batch_size)
    running = RunningServer(
        server,
        port,
        pool,
        health,
        settings.shutdown_grace_seconds,
        hub,
        lifecycle,
        signing_keys,
        guard,
        delivery,
        http,
        exporter,
        janus,
        feeds=feeds,
        acs=acs,
    )
    running._tasks.append(
        asyncio.create_task(
            background.watch_database(
                dsn, health, _HEALTH_NAMES, settings.health_check_interval_seconds
            )
        )
    )
    running._tasks.append(
        asyncio.create_task(
            background.refresh_keys(signing_keys, clock, settings.signing_key_refresh_seconds)
        )
    )
    if metrics.MULTIPROCESS:
        running._tasks.append(asyncio.create_task(metrics.publish_pools()))
    if settings.lifecycle_interval_seconds > 0:
        running._tasks.append(
            asyncio.create_task(lifecycle.run(settings.lifecycle_interval_seconds))
        )
    if settings.delivery_poll_seconds > 0:
        running._tasks.append(asyncio.create_task(delivery.run()))
    if janus is not None and settings.janus_check_seconds > 0:
        running._tasks.append(
            asyncio.create_task(background.check_janus(janus, settings.janus_check_seconds))
        )
    log_exposure(settings, keys, listen)
    log.info("serving rooms.v1 on %s (port %d)", listen, port)
    return running


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then shut down gracefully."""
    dsn, embedded = await asyncio.to_thread(database_of, settings)
    try:
        running = await start_server(settings, dsn)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("shutting down: finishing in-flight calls (grace %.1fs)", running.grace)
        await running.stop()
        log.info("stopped")
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.cleanup)
