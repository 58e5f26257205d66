"""The participants tests' vocabulary and calls over the raw stubs: the roles and
status codes by name, one batch added, the roster as a dict, a room's etag and count,
every page of a listing."""

from __future__ import annotations

from typing import TypeAlias

import grpc
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import People, Rooms, every_page

Role: TypeAlias = pp.Role.ValueType

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
ABORTED = grpc.StatusCode.ABORTED

PRESENTER = pp.ROLE_PRESENTER
ATTENDEE = pp.ROLE_ATTENDEE
CONSUMER = pp.ROLE_CONSUMER
COLLABORATOR = pp.ROLE_COLLABORATOR

# The limits of the small server: the roster holds 3, a batch holds 2.
SMALL_ROSTER = 3
SMALL_BATCH = 2


async def add(
    participants: People, room_id: str, *members: pp.Participant, etag: str = ""
) -> ps.AddOrUpdateParticipantsResponse:
    response: ps.AddOrUpdateParticipantsResponse = await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=members, etag=etag)
    )
    return response


async def roster(participants: People, room_id: str) -> dict[str, Role]:
    """The whole roster (one page of up to 500) as user_id -> role."""
    listed = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id, page_size=500)
    )
    assert listed.next_page_token == ""
    return {p.user_id: p.role for p in listed.participants}


async def get(rooms: Rooms, room_id: str) -> room_pb2.Room:
    room: room_pb2.Room = await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id))
    return room


async def etag_of(rooms: Rooms, room_id: str) -> str:
    return (await get(rooms, room_id)).etag


async def count_of(rooms: Rooms, room_id: str) -> int:
    return (await get(rooms, room_id)).participant_count


async def delete(rooms: Rooms, room_id: str) -> None:
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id))


async def list_all(
    participants: People, room_id: str, page_size: int, role: Role = pp.ROLE_UNSPECIFIED
) -> tuple[list[list[str]], list[pp.Participant]]:
    """Every page of a listing: the user ids per page, and every participant in order."""
    pages = await every_page(
        lambda token: participants.ListParticipants(
            ps.ListParticipantsRequest(
                room_id=room_id, page_size=page_size, page_token=token, role=role
            )
        )
    )
    return (
        [[p.user_id for p in page.participants] for page in pages],
        [p for page in pages for p in page.participants],
    )


def tampered(token: str) -> str:
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]


async def memberships_of(
    participants: People,
    user_id: str,
    page_size: int = 0,
    state: room_pb2.RoomState.ValueType = room_pb2.ROOM_STATE_UNSPECIFIED,
) -> tuple[list[list[str]], list[ps.RoomMembership]]:
    """Every page of a participant's rooms: the room ids per page, and every membership
    in order."""
    pages = await every_page(
        lambda token: participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(
                user_id=user_id, page_size=page_size, page_token=token, state=state
            )
        )
    )
    return (
        [[m.room.room_id for m in page.memberships] for page in pages],
        [m for page in pages for m in page.memberships],
    )
