"""The gRPC edge: the server, its call guard, the five rooms.v1 services (each given
only the use-case areas it serves), health and reflection. The one module that wires
service/transport."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

from service.config import ConfigError, Settings
from service.domain.clock import Clock
from service.security.keys import KeyRing
from service.security.signing import SigningKeys
from service.transport.auth import Authenticator, refused
from service.transport.calendar import CalendarServicer
from service.transport.credentials import CredentialsServicer
from service.transport.edge import Edge
from service.transport.guard import CallGuard
from service.transport.participants import ParticipantsServicer
from service.transport.rooms import RoomsServicer
from service.transport.webhooks import WebhooksServicer
from service.usecases import UseCases

SERVICE_NAMES = (
    rooms_service_pb2.DESCRIPTOR.services_by_name["RoomsService"].full_name,
    participants_service_pb2.DESCRIPTOR.services_by_name["ParticipantsService"].full_name,
    credentials_service_pb2.DESCRIPTOR.services_by_name["CredentialsService"].full_name,
    webhooks_service_pb2.DESCRIPTOR.services_by_name["WebhooksService"].full_name,
    calendar_service_pb2.DESCRIPTOR.services_by_name["CalendarService"].full_name,
)
HEALTH_NAMES = ("", *SERVICE_NAMES)
_HEALTH_WATCH_TURNS = 5
# Reflection answers from the default descriptor pool, which holds the files of the
# imported modules: these put the error vocabulary there (rooms.v1.ErrorReason and the
# google.rpc detail types), so `grpcurl describe rooms.v1.ErrorReason` works.
DESCRIBED_BY_REFLECTION = (
    error_reason_pb2.DESCRIPTOR,
    status_pb2.DESCRIPTOR,
    error_details_pb2.DESCRIPTOR,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GrpcEdge:
    """The started gRPC server: its port, health and call guard."""

    server: grpc.aio.Server
    port: int
    health: HealthServicer
    guard: CallGuard

    async def announce_shutdown(self) -> None:
        """Health goes NOT_SERVING. A few turns of the event loop let each Health.Watch
        stream, just woken, hand its NOT_SERVING to gRPC before the stream is ended
        (best effort: a watcher that misses it sees the stream end with UNAVAILABLE,
        which says as much)."""
        await self.health.enter_graceful_shutdown()
        for _ in range(_HEALTH_WATCH_TURNS):
            await asyncio.sleep(0)

    async def drain(self, grace: float) -> None:
        """Open streams end and new calls are refused, both with UNAVAILABLE; unary
        calls in flight get `grace` seconds to finish and then end with UNAVAILABLE
        too; then the server stops."""
        started = time.monotonic()
        await self.guard.drain(grace)
        await self.guard.quiet(max(grace - (time.monotonic() - started), 0.0))
        # Nothing of ours is running any more: this returns as soon as gRPC has sent
        # the last answers.
        await self.server.stop(grace)


async def start_grpc(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    *,
    listen: str,
    api_keys: KeyRing,
    tls: grpc.ServerCredentials | None,
    usecases: UseCases,
    signing_keys: SigningKeys,
    clock: Clock,
) -> GrpcEdge:
    """Build the server, listen on `listen` and start. Its clean-up (stop at once) is
    registered on `stack` as soon as it exists; a graceful stop drains it first."""
    server = grpc.aio.server(
        options=[
            # A second server on a taken port must fail, not share it; only the
            # worker processes of one `ROOMS_WORKERS=N` server share their port.
            ("grpc.so_reuseport", 1 if settings.workers > 1 else 0),
            ("grpc.max_receive_message_length", settings.max_request_bytes),
            ("grpc.max_metadata_size", settings.max_metadata_bytes),
        ],
    )
    stack.push_async_callback(server.stop, None)
    # Before any service is registered: every handler registered on the server, of
    # every service, gets its request id, authentication, metrics and access line
    # (the edge, outermost: calls it refuses are counted and logged, and their body
    # is never parsed), parses its own request body and is ended at shutdown.
    auth = Authenticator(api_keys, protect_open=settings.auth_protect_health_and_reflection)
    Edge(auth.authenticate, refused, settings.access_log).install(server)
    guard = CallGuard()
    guard.install(server)
    uc = usecases
    services: list[tuple[Callable[[Any, grpc.aio.Server], None], object]] = [
        (
            rooms_service_pb2_grpc.add_RoomsServiceServicer_to_server,
            RoomsServicer(
                rooms=uc.rooms,
                history=uc.history,
                admission=uc.admission,
                calendar=uc.calendar,
                clock=clock,
            ),
        ),
        (
            participants_service_pb2_grpc.add_ParticipantsServiceServicer_to_server,
            ParticipantsServicer(
                participants=uc.participants,
                waiting_room=uc.waiting_room,
                seats=uc.seats,
                moderation=uc.moderation,
                clock=clock,
            ),
        ),
        (
            credentials_service_pb2_grpc.add_CredentialsServiceServicer_to_server,
            CredentialsServicer(admission=uc.admission, keys=signing_keys, clock=clock),
        ),
        (
            webhooks_service_pb2_grpc.add_WebhooksServiceServicer_to_server,
            WebhooksServicer(webhooks=uc.webhooks),
        ),
        (
            calendar_service_pb2_grpc.add_CalendarServiceServicer_to_server,
            CalendarServicer(calendar=uc.calendar),
        ),
    ]
    for add_to_server, servicer in services:
        add_to_server(servicer, server)
    health = HealthServicer()
    for name in HEALTH_NAMES:
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
        if tls is None:
            port = server.add_insecure_port(listen)
        else:
            port = server.add_secure_port(listen, tls)
    except RuntimeError as error:
        raise ConfigError("ROOMS_LISTEN_ADDRESS", f"cannot listen on {listen}: {error}") from None
    await server.start()
    return GrpcEdge(server=server, port=port, health=health, guard=guard)
