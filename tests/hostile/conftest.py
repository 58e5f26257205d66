"""The server under attack: one tenant with a key and one room, shared by the
package's tests that use `target` (which run in file order: the attacks, grpcurl, then
the reads afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.hostile.calling import Target
from tests.shared.calls import bearer


@pytest.fixture(scope="package")
async def target(start: ServerFactory) -> AsyncIterator[Target]:
    key, entry = new_key(f"hostile-{uuid.uuid4().hex[:8]}", "k1")
    running = await start(api_keys=entry.line(), health_check_interval_seconds=2)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        auth = bearer(key)
        room = await channel.unary_unary(
            "/rooms.v1.RoomsService/CreateRoom",
            request_serializer=rs.CreateRoomRequest.SerializeToString,
            response_deserializer=room_pb2.Room.FromString,
        )(
            rs.CreateRoomRequest(
                room_id=f"target-{uuid.uuid4().hex[:8]}",
                participants=[{"user_id": "alice"}],  # type: ignore[list-item]
            ),
            metadata=auth,
        )
        yield Target(channel, auth, room.room_id, running.port)
    await running.stop(0)
