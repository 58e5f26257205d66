"""How the server builds the calendar function: its use cases (on PostgreSQL) and, when
ROOMS_HTTP_LISTEN_ADDRESS is set, the feed server."""

from __future__ import annotations

import logging

import asyncpg

from service.calendar.ics import calendar_of
from service.calendar.server import FeedServer, split_address, start_feed_server
from service.config import ConfigError, Settings
from service.storage.calendar import CalendarStore
from service.usecases.calendar import CalendarUseCases
from service.usecases.deps import Deps

log = logging.getLogger(__name__)


def public_url(settings: Settings, port: int | None = None) -> str:
    """The base of the feed URLs: ROOMS_HTTP_PUBLIC_URL, else the address listened on."""
    if settings.http_public_url:
        return settings.http_public_url.rstrip("/")
    if not settings.http_listen_address:
        return ""
    host, configured = split_address(settings.http_listen_address)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{host}:{port if port is not None else configured}"


def usecases(settings: Settings, pool: asyncpg.Pool, deps: Deps) -> CalendarUseCases:
    feeds = CalendarStore(pool, statement_ceiling=settings.db_command_timeout_seconds)
    return CalendarUseCases(
        deps, feeds=feeds, public_url=public_url(settings), render_feed=calendar_of
    )


async def start(settings: Settings, calendar: CalendarUseCases) -> FeedServer | None:
    """The feed server, if configured; its URLs then name the port it got."""
    if not settings.http_listen_address:
        return None
    try:
        split_address(settings.http_listen_address)
        feeds = await start_feed_server(calendar, settings.http_listen_address)
    except (ValueError, OSError) as error:
        raise ConfigError(
            "ROOMS_HTTP_LISTEN_ADDRESS",
            f"cannot listen on {settings.http_listen_address}: {error}",
        ) from None
    calendar.set_public_url(public_url(settings, feeds.port))
    log.info("serving calendar feeds on %s (port %d)", settings.http_listen_address, feeds.port)
    return feeds
