"""What the server is built from, below the gRPC edge: the database (embedded or not,
migrated), the stores, the use cases, the media servers' control, the delivery engine
and the lifecycle. Each part that needs stopping registers its clean-up on the exit
stack right after it starts (service/server.py owns the stack)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from service.calendar import wiring as calendar_wiring
from service.config import ConfigError, Settings
from service.database import connect_database
from service.delivery.engine import DeliveryEngine
from service.delivery.sink import Sink
from service.delivery.webhook import EventToWire, WebhookSink
from service.domain.clock import Clock
from service.domain.paging import PageTokens
from service.http_client import HttpClient
from service.media.base import MediaConfigError
from service.media.config import MediaConfig, load_media_config
from service.media.janus import sink as janus_sink
from service.media.janus.control import JanusControl
from service.media.livekit import push as livekit_sink
from service.observability.metrics import observe_pool
from service.security.credentials import Credentials
from service.security.signing import SigningKeys
from service.storage import delivery as delivery_sql
from service.storage.db import migrate, page_token_secret
from service.storage.lifecycle import PgLifecycleStore
from service.storage.notify import EventHub
from service.storage.repository import PgRoomStore
from service.storage.webhooks import PgWebhookStore
from service.usecases import UseCases
from service.usecases.deps import Deps
from service.usecases.lifecycle import Lifecycle
from service.usecases.webhooks import WebhookUseCases

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Core:
    """The started parts below the edge."""

    pool: asyncpg.Pool
    hub: EventHub
    signing_keys: SigningKeys
    janus: JanusControl | None
    usecases: UseCases
    delivery: DeliveryEngine
    lifecycle: Lifecycle


async def start_core(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    dsn: str,
    *,
    media: MediaConfig,
    clock: Clock,
    event_out: EventToWire,
) -> Core:
    """Connect, migrate and build everything below the edge. `event_out` is how a
    webhook's body is written (the edge's conversion of an event, passed in so that
    nothing here imports the edge)."""
    pool = await connect_database(dsn, settings)
    stack.push_async_callback(pool.close)
    observe_pool(pool)
    async with pool.acquire() as connection:
        await migrate(connection)
    secret = (
        settings.page_token_secret.get_secret_value().encode()
        if settings.page_token_secret
        else await page_token_secret(pool)
    )
    ceiling = settings.db_command_timeout_seconds
    store = PgRoomStore(pool, statement_ceiling=ceiling)
    limits = settings.limits()
    signing_keys = SigningKeys(store, limits.credential_ttl)
    await signing_keys.start(clock.now())
    hub = EventHub(dsn)
    await hub.start()
    stack.push_async_callback(hub.stop)
    http = HttpClient(settings.http_limits())
    stack.push_async_callback(http.close)
    janus = None
    if media.janus_tenants():
        janus = JanusControl(pool, clock, media.janus_for, media.janus_tenants(), http)
        stack.push_async_callback(janus.close)
    deps = Deps(
        store=store,
        clock=clock,
        limits=limits,
        page_tokens=PageTokens(secret),
        notifier=hub,
        credentials=Credentials(
            media,
            signing_keys,
            clock,
            issuer=settings.credential_issuer,
            audience=settings.credential_audience,
        ),
        media=janus,
    )
    webhook_store = PgWebhookStore(pool, statement_ceiling=ceiling)
    usecases = UseCases.over(
        deps,
        webhooks=WebhookUseCases(
            deps,
            store=webhook_store,
            allowed_http_hosts=settings.allowed_http_hosts(),
            max_webhooks=settings.max_webhooks_per_tenant,
        ),
        calendar=calendar_wiring.usecases(settings, pool, deps),
    )
    # Only the tenants configured now get LiveKit pushes, and the tenants with a Janus
    # have their VideoRooms follow the history (every replica reads the same file, so
    # they agree).
    for sink, destination, tenants in (
        (livekit_sink.SINK, livekit_sink.DESTINATION, media.livekit_tenants()),
        (janus_sink.SINK, janus_sink.DESTINATION, media.janus_tenants()),
    ):
        await delivery_sql.sync_sink(pool, sink, destination, tenants, clock.now())
    sinks: list[Sink] = [
        WebhookSink(webhook_store, http, settings.allowed_http_hosts(), event_out),
        livekit_sink.LiveKitSink(media.livekit_for, http),
    ]
    if janus is not None:
        sinks.append(janus_sink.JanusSink(janus))
    delivery = DeliveryEngine(pool, clock, sinks, settings.delivery(), wake=hub.subscribe_all)
    lifecycle = Lifecycle(
        PgLifecycleStore(pool, batch_size=settings.lifecycle_batch_size),
        clock,
        settings.retention(),
    )
    return Core(
        pool=pool,
        hub=hub,
        signing_keys=signing_keys,
        janus=janus,
        usecases=usecases,
        delivery=delivery,
        lifecycle=lifecycle,
    )
