"""RoomsService.AuthorizeJoin of rooms that are not there (a decision) and of bad
input (an INVALID_ARGUMENT status naming every bad field)."""

from __future__ import annotations

import pytest
from rooms.v1 import rooms_service_pb2 as rs

from tests.admission.decisions import INVALID, PRESENTER, assert_room_not_found, authorize
from tests.shared.calls import Rooms, make_room, person, unique
from tests.shared.errors import expect_error


async def test_deleted_room_is_a_room_not_found_decision(rooms: Rooms) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    assert (await authorize(rooms, room.room_id, "host")).allowed
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    assert_room_not_found(await authorize(rooms, room.room_id, "host"))


async def test_never_existing_room_is_a_room_not_found_decision(rooms: Rooms) -> None:
    assert_room_not_found(await authorize(rooms, unique("never"), "someone"))


@pytest.mark.parametrize(
    ("room_id", "user_id", "field"),
    [
        pytest.param("", "someone", "room_id", id="empty-room-id"),
        pytest.param("bad room", "someone", "room_id", id="room-id-with-space"),
        pytest.param("r" * 129, "someone", "room_id", id="room-id-too-long"),
        pytest.param("room-ok", "", "user_id", id="empty-user-id"),
        pytest.param("room-ok", "two words", "user_id", id="user-id-with-space"),
        pytest.param("room-ok", "u" * 257, "user_id", id="user-id-too-long"),
        pytest.param("room-ok", "ctl\x1b", "user_id", id="user-id-control-char"),
    ],
)
async def test_malformed_input_is_an_invalid_argument_status(
    rooms: Rooms, room_id: str, user_id: str, field: str
) -> None:
    error = await expect_error(
        rooms.AuthorizeJoin(rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id)),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == [field]
    assert error.metadata["field"] == field


async def test_both_fields_bad_are_both_named(rooms: Rooms) -> None:
    error = await expect_error(
        rooms.AuthorizeJoin(rs.AuthorizeJoinRequest(room_id="", user_id="")),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room_id", "user_id"]
