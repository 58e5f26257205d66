"""The calendar feed server: plain HTTP (aiohttp) on ROOMS_HTTP_LISTEN_ADDRESS, no API
key (the URL is the capability). GET/HEAD /calendar/<token>.ics answers text/calendar
with an ETag, 304 to a matching If-None-Match, and 404 to any token that names no
feed: malformed, wrong secret, deleted, or another tenant's (one answer for all)."""

from __future__ import annotations

import logging

from aiohttp import web

from service.domain.calendar import etag_matches
from service.domain.errors import DomainError
from service.usecases.calendar import CalendarUseCases

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _not_found() -> web.Response:
    return web.Response(status=404, text="no such calendar feed\n")


def app_of(usecases: CalendarUseCases) -> web.Application:
    async def feed(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        try:
            rendered = await usecases.render_feed(token)
        except DomainError as error:  # the database is away: say so, never a token
            log.warning("calendar feed unavailable: %s", error.reason)
            return web.Response(status=503, text="calendar feed unavailable\n")
        if rendered is None:
            return _not_found()
        headers = {"ETag": rendered.etag, "Cache-Control": "private, max-age=60"}
        if etag_matches(request.headers.get("If-None-Match", ""), rendered.etag):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=rendered.body,
            headers={**headers, "Content-Type": CONTENT_TYPE},
        )

    app = web.Application(client_max_size=1024)
    app.router.add_get("/calendar/{token}.ics", feed)  # HEAD too
    return app


class FeedServer:
    """The running feed server."""

    def __init__(self, runner: web.AppRunner, port: int) -> None:
        self._runner = runner
        self.port = port

    async def stop(self) -> None:
        await self._runner.cleanup()


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


async def start_feed_server(usecases: CalendarUseCases, address: str) -> FeedServer:
    """Listen on `address` (`host:port`, port 0 for any free one)."""
    host, port = split_address(address)
    runner = web.AppRunner(app_of(usecases), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return FeedServer(runner, bound)
