from __future__ import annotations

from typing import TYPE_CHECKING

from rooms.v1 import rooms_service_pb2 as rs

if TYPE_CHECKING:
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub as Stub


async def test_create_then_get(rooms: Stub) -> None:
    created = await rooms.CreateRoom(rs.CreateRoomRequest())
    fetched = await rooms.GetRoom(rs.GetRoomRequest(room_id=created.room_id))
    assert fetched == created
