"""The client's room settings (`rooms.values.RoomSettings`): written once into a Room
message for `create_room` and `update_room` alike, each enum by name or number, and a
name that is not a setting refused before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rooms.client import RoomsClient
from rooms.v1 import events_pb2, participant_pb2, room_pb2, waiting_room_pb2
from rooms.values import (
    RoomSettings,
    event_type_value,
    join_policy_value,
    knock_state_value,
    role_value,
    room_state_value,
    write_settings,
)

T0 = datetime(2031, 5, 1, 9, tzinfo=UTC)


def test_every_setting_is_written_with_its_update_mask_path() -> None:
    room = room_pb2.Room()
    paths = write_settings(
        room,
        RoomSettings(
            valid_from=T0,
            valid_until=T0 + timedelta(hours=1),
            join_policy="open",
            open_join_role="consumer",
            pstn_dial_out_enabled=True,
            early_entry=timedelta(minutes=5),
            metadata={"a": "b"},
            waiting_room_enabled=True,
            max_participants=9,
            role_capacity={"presenter": (2, 1)},
            recurrence=["RRULE:FREQ=WEEKLY;COUNT=2"],
            time_zone="Europe/Paris",
        ),
    )
    assert paths == [
        "valid_from",
        "valid_until",
        "join_policy",
        "open_join_role",
        "pstn_dial_out_enabled",
        "early_entry_duration",
        "metadata",
        "waiting_room_enabled",
        "max_participants",
        "role_capacity",
        "recurrence",
        "time_zone",
    ]
    assert sorted(RoomSettings.__optional_keys__) == sorted(
        name if name != "early_entry_duration" else "early_entry" for name in paths
    )
    assert room.join_policy == room_pb2.JOIN_POLICY_OPEN
    assert room.open_join_role == participant_pb2.ROLE_CONSUMER
    assert room.early_entry_duration.ToTimedelta() == timedelta(minutes=5)
    assert list(room.recurrence) == ["RRULE:FREQ=WEEKLY;COUNT=2"]
    assert list(room.role_capacity) == [
        room_pb2.RoleCapacity(role=participant_pb2.ROLE_PRESENTER, max_participants=2, reserved=1)
    ]


def test_none_is_not_given() -> None:
    room = room_pb2.Room()
    assert write_settings(room, RoomSettings(valid_from=None, max_participants=0)) == [
        "max_participants"
    ]
    assert room == room_pb2.Room()


@pytest.mark.parametrize("method", ["create_room", "update_room"])
async def test_a_name_that_is_not_a_setting_is_refused_before_calling(method: str) -> None:
    async with RoomsClient("127.0.0.1:1") as client:  # nothing listens: nothing is sent
        call: Any = getattr(client, method)
        args = ("room",) if method == "update_room" else ()
        with pytest.raises(TypeError, match="valid_form"):
            await call(*args, valid_form=T0)


@pytest.mark.parametrize(
    ("parse", "given", "expected"),
    [
        (role_value, "presenter", participant_pb2.ROLE_PRESENTER),
        (role_value, "ROLE_ATTENDEE", participant_pb2.ROLE_ATTENDEE),
        (role_value, 3, participant_pb2.ROLE_CONSUMER),
        (room_state_value, "open", room_pb2.ROOM_STATE_OPEN),
        (join_policy_value, "invite-only", room_pb2.JOIN_POLICY_INVITE_ONLY),
        (knock_state_value, "waiting", waiting_room_pb2.KNOCK_STATE_WAITING),
        (event_type_value, "deleted", events_pb2.ROOM_EVENT_TYPE_DELETED),
    ],
)
def test_enums_by_name_or_number(parse: Any, given: str | int, expected: int) -> None:
    assert parse(given) == expected


def test_an_unknown_name_says_which_vocabulary() -> None:
    with pytest.raises(ValueError, match="unknown join policy 'sometimes'"):
        join_policy_value("sometimes")
    with pytest.raises(ValueError, match="unknown event type 'x'"):
        event_type_value("x")
