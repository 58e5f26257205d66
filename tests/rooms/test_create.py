"""CreateRoom end to end (the real server, the real generated client, real PostgreSQL):
the defaults, every setting, idempotency, caller-chosen ids, the window rules, and
bad input named field by field."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.conftest import T0
from tests.shared.calls import Rooms, ts, window
from tests.shared.errors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


# ---- CreateRoom -------------------------------------------------------------


async def test_create_applies_the_defaults(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    assert len(room.room_id) == 26
    assert room.valid_from.ToDatetime() == T0.replace(tzinfo=None)
    # valid_until defaults to now + 180 days (not valid_from + 180 days).
    assert room.valid_until == ts(timedelta(days=180))
    assert room.create_time == room.update_time == ts()
    assert room.join_policy == room_pb2.JOIN_POLICY_INVITE_ONLY
    assert room.open_join_role == pp.ROLE_ATTENDEE
    assert room.state == room_pb2.ROOM_STATE_OPEN
    assert not room.pstn_dial_out_enabled
    assert room.etag
    assert room.participant_count == 0


async def test_create_with_everything(rooms: Rooms) -> None:
    room_id = f"visit-{uuid.uuid4().hex[:8]}"
    request = rs.CreateRoomRequest(
        room_id=room_id,
        room=room_pb2.Room(
            valid_from=ts(timedelta(hours=3)),
            valid_until=ts(timedelta(hours=4)),
            pstn_dial_out_enabled=True,
            join_policy=room_pb2.JOIN_POLICY_OPEN,
            open_join_role=pp.ROLE_CONSUMER,
            metadata={"appointment": "A-17", "clinic/site": "north"},
        ),
        participants=[
            pp.Participant(user_id="doctor", role=pp.ROLE_PRESENTER),
            pp.Participant(user_id="patient"),
        ],
    )
    request.room.early_entry_duration.FromTimedelta(timedelta(minutes=15))
    room = await rooms.CreateRoom(request)
    assert room.room_id == room_id
    assert room.state == room_pb2.ROOM_STATE_SCHEDULED
    assert room.participant_count == 2
    assert dict(room.metadata) == {"appointment": "A-17", "clinic/site": "north"}
    assert room.early_entry_duration.ToTimedelta() == timedelta(minutes=15)
    assert room.open_join_role == pp.ROLE_CONSUMER
    assert await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id)) == room


async def test_create_is_idempotent_with_a_request_id(rooms: Rooms, clock: ManualClock) -> None:
    request = rs.CreateRoomRequest(
        request_id=str(uuid.uuid4()), room=window(timedelta(0), timedelta(days=1))
    )
    first = await rooms.CreateRoom(request)
    clock.advance(timedelta(seconds=5))
    again = await rooms.CreateRoom(request)
    assert again.room_id == first.room_id
    assert again.create_time == first.create_time

    different = rs.CreateRoomRequest()
    different.CopyFrom(request)
    different.room.pstn_dial_out_enabled = True
    error = await expect_error(rooms.CreateRoom(different), INVALID, "REQUEST_ID_REUSED")
    assert error.metadata["request_id"] == request.request_id
    # Like every other bad input, it names the field in a BadRequest.
    assert error.fields == ["request_id"]


async def test_caller_chosen_id_taken(rooms: Rooms) -> None:
    room_id = f"taken-{uuid.uuid4().hex[:8]}"
    await rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id))
    error = await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id)),
        grpc.StatusCode.ALREADY_EXISTS,
        "ROOM_ALREADY_EXISTS",
    )
    assert error.metadata == {"room_id": room_id}


@pytest.mark.parametrize(
    ("room", "field", "rule"),
    [
        (window(timedelta(0), timedelta(days=181)), "room.valid_until", "WINDOW_TOO_LONG"),
        (window(-timedelta(days=2), -timedelta(days=1)), "room.valid_until", "ENDS_IN_PAST"),
        (window(timedelta(days=181), timedelta(days=182)), "room.valid_from", "STARTS_TOO_LATE"),
        (window(timedelta(days=2), timedelta(days=1)), "room.valid_until", "ENDS_BEFORE_START"),
    ],
)
async def test_window_rules(rooms: Rooms, room: room_pb2.Room, field: str, rule: str) -> None:
    error = await expect_error(
        rooms.CreateRoom(rs.CreateRoomRequest(room=room)), INVALID, "INVALID_WINDOW"
    )
    assert field in error.fields
    assert error.metadata["field"] == field
    assert error.metadata["rule"] == rule


async def test_a_180_day_window_and_a_slightly_past_start_are_accepted(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room=window(-timedelta(seconds=30), timedelta(days=180) - timedelta(seconds=30))
        )
    )
    assert room.state == room_pb2.ROOM_STATE_OPEN


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (rs.CreateRoomRequest(room_id="-bad"), "room_id"),
        (rs.CreateRoomRequest(room_id="x" * 129), "room_id"),
        (rs.CreateRoomRequest(room_id="has space"), "room_id"),
        (rs.CreateRoomRequest(request_id="a b"), "request_id"),
        (rs.CreateRoomRequest(room=room_pb2.Room(join_policy=7)), "room.join_policy"),  # type: ignore[arg-type]
        (rs.CreateRoomRequest(room=room_pb2.Room(open_join_role=42)), "room.open_join_role"),  # type: ignore[arg-type]
        (rs.CreateRoomRequest(room=room_pb2.Room(metadata={"": "x"})), "room.metadata['']"),
        (
            rs.CreateRoomRequest(participants=[pp.Participant(user_id="a b")]),
            "participants[0].user_id",
        ),
        (
            rs.CreateRoomRequest(
                room=room_pb2.Room(valid_from=timestamp_pb2.Timestamp(seconds=-(10**12)))
            ),
            "room.valid_from",
        ),
    ],
)
async def test_bad_input_names_the_field(
    rooms: Rooms, request_: rs.CreateRoomRequest, field: str
) -> None:
    error = await expect_error(rooms.CreateRoom(request_), INVALID, "INVALID_ARGUMENT")
    assert field in error.fields, error


async def test_every_bad_field_is_reported_at_once(rooms: Rooms) -> None:
    request = rs.CreateRoomRequest(
        room_id="-bad",
        room=room_pb2.Room(metadata={"ok": "\x00"}),
        participants=[pp.Participant(user_id="")],
    )
    error = await expect_error(rooms.CreateRoom(request), INVALID, "INVALID_ARGUMENT")
    assert set(error.fields) == {"room_id", "room.metadata['ok']", "participants[0].user_id"}
