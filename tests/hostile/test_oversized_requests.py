"""Oversized lists from outside: an error names at most 20 fields (BadRequest) and
counts the rest (ErrorInfo `violation_count`); a role_capacity longer than there are
roles, or a batch over the limit, is refused whole with one violation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from google.protobuf import field_mask_pb2
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import unique
from tests.shared.errors import expect_error

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

INVALID = grpc.StatusCode.INVALID_ARGUMENT
HUGE = 20_000


async def test_a_huge_role_capacity_is_one_violation(rooms: RoomsServiceAsyncStub) -> None:
    capacity = [room_pb2.RoleCapacity(role=pp.ROLE_PRESENTER, max_participants=1)] * HUGE
    room_id = unique("huge-capacity")
    error = await expect_error(
        rooms.CreateRoom(
            rs.CreateRoomRequest(room_id=room_id, room=room_pb2.Room(role_capacity=capacity))
        ),
        INVALID,
        "INVALID_CAPACITY",
    )
    assert error.fields == ["room.role_capacity"]
    assert error.metadata == {"field": "room.role_capacity", "rule": "DUPLICATE_ROLE", "limit": "4"}
    assert "20000 entries" in error.message

    room = await rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id))
    update = rs.UpdateRoomRequest(
        room=room_pb2.Room(room_id=room_id, role_capacity=capacity),
        update_mask=field_mask_pb2.FieldMask(paths=["role_capacity"]),
    )
    error = await expect_error(rooms.UpdateRoom(update), INVALID, "INVALID_CAPACITY")
    assert error.fields == ["room.role_capacity"]
    assert (await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id))).etag == room.etag


async def test_many_bad_fields_name_twenty_and_count_them_all(
    rooms: RoomsServiceAsyncStub,
) -> None:
    """1,000 bad roles (the most one batch may hold): every one counted, 20 named."""
    roster = [pp.Participant(user_id=f"u{n}", role=99) for n in range(1_000)]  # type: ignore[arg-type]
    error = await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(participants=roster)), INVALID, "INVALID_ARGUMENT"
    )
    assert error.fields == [f"participants[{n}].role" for n in range(20)]
    assert error.metadata["violation_count"] == "1000"
    assert error.message.endswith("; and 997 more")


async def test_an_oversized_batch_is_refused_before_its_entries(
    rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
) -> None:
    """Bad roles in a batch over the limit: the size is the answer, not 20,000 roles."""
    roster = [pp.Participant(user_id="u", role=99)] * HUGE  # type: ignore[arg-type]
    expected = {"field": "participants", "limit": "1000", "size": str(HUGE)}
    error = await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(participants=roster)), INVALID, "BATCH_TOO_LARGE"
    )
    assert (error.fields, error.metadata) == (["participants"], expected)
    error = await expect_error(
        participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(room_id=unique("absent"), participants=roster)
        ),
        INVALID,
        "BATCH_TOO_LARGE",
    )
    assert (error.fields, error.metadata) == (["participants"], expected)
