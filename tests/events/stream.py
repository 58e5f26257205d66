"""Reading a room's history (every page) and its change stream (a number of events
within a deadline)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rooms.v1 import events_pb2 as ev
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import every_page

if TYPE_CHECKING:
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub


T = ev.RoomEventType


async def history(rooms: RoomsServiceAsyncStub, room_id: str) -> list[ev.RoomEvent]:
    pages = await every_page(
        lambda token: rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room_id, page_size=3, page_token=token)
        )
    )
    return [event for page in pages for event in page.events]


async def read(stream: Any, count: int, within: float = 10) -> list[ev.RoomEvent]:
    got = []
    async with asyncio.timeout(within):
        for _ in range(count):
            got.append(await stream.read())
    return got
