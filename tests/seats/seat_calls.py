"""The seat tests' calls through the real generated client (`rooms.client`): a room open
to all, its seats, a claim, its events, and a timestamp read as a datetime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import timestamp_pb2
from rooms.client import RoomsClient
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import events_pb2 as ev
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import waiting_room_pb2 as wr

ROOM_FULL = ad.JOIN_DECISION_REASON_ROOM_FULL


T = ev.RoomEventType


def at(value: timestamp_pb2.Timestamp) -> datetime:
    return value.ToDatetime(tzinfo=UTC)


async def open_room(client: RoomsClient, **settings: Any) -> str:
    room = await client.create_room(join_policy="open", **settings)
    return room.room_id


async def seats(client: RoomsClient, room_id: str, **kw: Any) -> list[wr.Seat]:
    return [s async for s in client.list_seats(room_id, **kw)]


async def claim(client: RoomsClient, room_id: str, user_id: str) -> rs.AuthorizeJoinResponse:
    return await client.authorize_join(room_id, user_id, claim_seat=True)


async def events_of(client: RoomsClient, room_id: str) -> list[ev.RoomEvent]:
    return [e async for e in client.list_room_events(room_id)]
