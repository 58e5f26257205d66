"""The ACS REST edge: its aiohttp application, its middleware (authentication, the
api-version, errors), and starting it on the gRPC server's event loop.

Configuration (README "Use rooms with the Azure SDKs"): ROOMS_ACS_LISTEN_ADDRESS,
ROOMS_ACS_TLS_CERT_FILE / ROOMS_ACS_TLS_KEY_FILE (HTTPS), ROOMS_ACS_ALLOW_PLAINTEXT
(plain HTTP, loopback only), ROOMS_ACS_PAGE_SIZE. With ROOMS_WORKERS > 1 every worker
listens on the address with SO_REUSEPORT, as gRPC does."""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from service.acs import routes
from service.acs.auth import authenticate
from service.acs.errors import AcsError, bad_request, from_domain
from service.acs.keys import KeyRing
from service.config import ConfigError, Settings
from service.domain.errors import DomainError
from service.domain.models import Caller
from service.security.exposure import is_loopback
from service.storage import acs_keys
from service.usecases.participants import ParticipantUseCases
from service.usecases.rooms import RoomUseCases

log = logging.getLogger(__name__)

KEYS = web.AppKey("keys", KeyRing)
# What the Python SDK sends as api-version on a continuation request (the repr of its
# ApiVersion enum member) besides the real one.
_API_VERSIONS = {routes.API_VERSION, "ApiVersion.V2025_03_13"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The HTTPS context, or None for plain HTTP; ConfigError for what may not run."""
    cert, key = settings.acs_tls_cert_file, settings.acs_tls_key_file
    if (cert is None) != (key is None):
        raise ConfigError("ROOMS_ACS_TLS_KEY_FILE", "set both ROOMS_ACS_TLS_CERT_FILE and it")
    if cert is None or key is None:
        if not settings.acs_allow_plaintext:
            raise ConfigError(
                "ROOMS_ACS_TLS_CERT_FILE",
                "the ACS API needs HTTPS (or ROOMS_ACS_ALLOW_PLAINTEXT=true on loopback)",
            )
        if not is_loopback(settings.acs_listen_address):
            raise ConfigError("ROOMS_ACS_ALLOW_PLAINTEXT", "plain HTTP only on a loopback address")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError("ROOMS_ACS_TLS_CERT_FILE", f"cannot load: {error}") from None
    return context


@web.middleware
async def _edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        body = await request.read()
        key = await authenticate(request, body, request.app[KEYS])
        request[routes.CALLER] = Caller(tenant=key.tenant, key_name=key.actor)
        version = request.query.get("api-version")
        if not version:
            raise AcsError(400, "MissingApiVersionParameter", "api-version is required")
        if request.path.startswith("/rooms") and version not in _API_VERSIONS:
            raise AcsError(400, "UnsupportedApiVersion", f"api-version {routes.API_VERSION} only")
        try:
            request[routes.BODY] = json.loads(body) if body else None
        except ValueError:
            raise bad_request("body", "is not valid JSON") from None
        return await handler(request)
    except AcsError as error:
        return error.response()
    except DomainError as error:
        return from_domain(error).response()
    except web.HTTPException as error:  # 404 and 405 of the router, 413 of aiohttp
        code = error.reason.replace(" ", "")
        return AcsError(error.status, code, error.reason).response()
    except Exception:  # a bug: logged without the request's headers or body
        log.exception("ACS %s %s failed", request.method, request.path)
        return AcsError(500, "InternalError", "internal error").response()


@dataclass
class AcsServer:
    """The running REST API: its port, and `stop()`."""

    runner: web.AppRunner
    port: int
    keys: KeyRing

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.keys.stop()


async def start_acs(
    settings: Settings,
    *,
    rooms: RoomUseCases,
    participants: ParticipantUseCases,
    pool: asyncpg.Pool,
) -> AcsServer:
    """Serve the ACS Rooms API on ROOMS_ACS_LISTEN_ADDRESS (port 0: any free port)."""
    context = tls_context(settings)
    host, _, port = settings.acs_listen_address.rpartition(":")
    if not port.isdigit():
        raise ConfigError("ROOMS_ACS_LISTEN_ADDRESS", "must be host:port")
    if settings.workers > 1 and int(port) == 0:
        raise ConfigError("ROOMS_ACS_LISTEN_ADDRESS", "ROOMS_WORKERS > 1 needs a fixed port")
    keys = KeyRing(lambda: acs_keys.keys_in_force(pool))
    await keys.start()
    app = web.Application(middlewares=[_edge], client_max_size=settings.max_request_bytes)
    app[KEYS] = keys
    app[routes.ROOMS] = rooms
    app[routes.PARTICIPANTS] = participants
    app[routes.PAGE_SIZE] = min(settings.acs_page_size, settings.max_page_size)
    routes.add_routes(app)
    # No access log: a request's headers (the signature) are never written anywhere.
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=settings.shutdown_grace_seconds,
    )
    await runner.setup()
    site = web.TCPSite(
        runner,
        host.strip("[]"),
        int(port),
        ssl_context=context,
        reuse_port=settings.workers > 1,
    )
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        await keys.stop()
        raise ConfigError(
            "ROOMS_ACS_LISTEN_ADDRESS", f"cannot listen on {settings.acs_listen_address}: {error}"
        ) from None
    bound = int(runner.addresses[0][1])  # the port actually bound (port 0: a free one)
    scheme = "https" if context else "http"
    log.info("serving the ACS Rooms API on %s://%s:%d", scheme, host.strip("[]"), bound)
    return AcsServer(runner, bound, keys)
