"""A real server whose caller is a tenant of its own, with the feed server and plain
http webhooks to loopback, and a stub for every service of rooms.v1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from rooms.v1 import (
    calendar_service_pb2_grpc,
    credentials_service_pb2_grpc,
    participant_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)

from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory


@dataclass(frozen=True)
class Api:
    running: RunningServer
    metadata: tuple[tuple[str, str], ...]
    # The async stubs by service name (their precise types exist for type checkers only).
    stubs: dict[str, Any]

    async def call(self, service: str, method: str, request: Any) -> Any:
        """Call a method; a streaming one answers with its first message."""
        answer = getattr(self.stubs[service], method)(request, metadata=self.metadata)
        if isinstance(answer, grpc.aio.UnaryStreamCall):
            try:
                return await answer.read()
            finally:
                answer.cancel()
        return await answer

    async def room(self) -> str:
        """A room open now, with a waiting room, a host (Presenter) and a guest."""
        room = await self.call(
            "rooms.v1.RoomsService",
            "CreateRoom",
            rooms_service_pb2.CreateRoomRequest(
                room=room_pb2.Room(waiting_room_enabled=True),
                participants=[
                    participant_pb2.Participant(
                        user_id="host", role=participant_pb2.ROLE_PRESENTER
                    ),
                    participant_pb2.Participant(user_id="guest"),
                ],
            ),
        )
        return str(room.room_id)


@pytest.fixture(scope="package")
async def api(start: ServerFactory) -> AsyncIterator[Api]:
    key, entry = new_key(f"protos-{uuid.uuid4().hex[:8]}", "tests")
    running = await start(
        api_keys=entry.line(),
        http_listen_address="127.0.0.1:0",
        webhook_allowed_http_hosts="127.0.0.1",
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stubs = {
            "rooms.v1.RoomsService": rooms_service_pb2_grpc.RoomsServiceStub(channel),
            "rooms.v1.ParticipantsService": (
                participants_service_pb2_grpc.ParticipantsServiceStub(channel)
            ),
            "rooms.v1.CredentialsService": (
                credentials_service_pb2_grpc.CredentialsServiceStub(channel)
            ),
            "rooms.v1.WebhooksService": webhooks_service_pb2_grpc.WebhooksServiceStub(channel),
            "rooms.v1.CalendarService": calendar_service_pb2_grpc.CalendarServiceStub(channel),
        }
        yield Api(running, (("authorization", f"Bearer {key}"),), stubs)
