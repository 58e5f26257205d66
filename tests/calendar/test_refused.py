"""Bad recurrences are refused with INVALID_ARGUMENT and the field that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.calendar.conftest import Calendar
from tests.calendar.helpers import recurring_room
from tests.shared.calls import timestamp
from tests.shared.errors import expect_error

FIRST = datetime(2026, 6, 2, 9, tzinfo=UTC)  # a Tuesday
HOUR = timedelta(hours=1)

REFUSED = [
    # (recurrence, time zone, length, field, words in the description)
    (["RRULE:FREQ=WEEKLY;COUNT=3"], "Mars/Olympus_Mons", HOUR, "room.time_zone", "IANA"),
    (["RRULE:FREQ=WEEKLY;BYHOUR=9;COUNT=3"], "", HOUR, "room.recurrence[0]", "BYHOUR"),
    (["RRULE:FREQ=MINUTELY;COUNT=3"], "", HOUR, "room.recurrence[0]", "MINUTELY"),
    (["EXRULE:FREQ=WEEKLY;COUNT=3"], "", HOUR, "room.recurrence[0]", "EXRULE"),
    (["RRULE:FREQ=HOURLY;INTERVAL=2;COUNT=1001"], "", HOUR, "room.recurrence", "1000"),
    (["RRULE:FREQ=DAILY"], "", HOUR, "room.recurrence", "731 days"),
    (["RRULE:FREQ=WEEKLY;UNTIL=20290101"], "", HOUR, "room.recurrence", "731 days"),
    (["RRULE:FREQ=DAILY;COUNT=3"], "", 25 * HOUR, "room.recurrence", "overlap"),
    (["RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=3"], "", HOUR, "room.recurrence", "first occurrence"),
    (
        ["RRULE:FREQ=DAILY;COUNT=2", "RRULE:FREQ=DAILY;COUNT=3"],
        "",
        HOUR,
        "room.recurrence[1]",
        "one RRULE",
    ),
    (["\x00garbage\u202e"], "", HOUR, "room.recurrence[0]", "RFC 5545"),
    (["RRULE:FREQ=DAILY;COUNT=x"], "", HOUR, "room.recurrence", "not valid"),
    (
        ["RRULE:FREQ=DAILY;COUNT=2", "EXDATE;VALUE=DATE:20260603"],
        "",
        HOUR,
        "room.recurrence[1]",
        "VALUE=DATE",
    ),
    (
        ["RRULE:FREQ=DAILY;COUNT=2", "RDATE;TZID=Nowhere/City:20260610T090000"],
        "",
        HOUR,
        "room.recurrence[1]",
        "TZID",
    ),
    (
        ["RRULE:FREQ=DAILY;COUNT=2;UNTIL=20260610T000000Z"],
        "",
        HOUR,
        "room.recurrence[0]",
        "COUNT and UNTIL",
    ),
    (["EXDATE:20260602T090000Z"], "", HOUR, "room.recurrence", "no occurrence"),
]


@pytest.mark.parametrize(("recurrence", "zone", "length", "field", "words"), REFUSED)
async def test_bad_recurrences_are_refused_naming_the_field(
    cal: Calendar,
    recurrence: list[str],
    zone: str,
    length: timedelta,
    field: str,
    words: str,
) -> None:
    error = await expect_error(
        recurring_room(cal.a, FIRST, length, recurrence, zone),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert field in error.fields, error
    assert words in error.message, error


async def test_each_occurrence_keeps_the_180_day_rule(cal: Calendar) -> None:
    error = await expect_error(
        recurring_room(cal.a, FIRST, timedelta(days=181), ["RRULE:FREQ=YEARLY;COUNT=2"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_WINDOW",
    )
    assert "room.valid_until" in error.fields


async def test_an_update_is_checked_like_a_create(cal: Calendar) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=DAILY;COUNT=3"])
    error = await expect_error(
        cal.a.rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room.room_id, time_zone="Not/AZone"),
                update_mask=field_mask_pb2.FieldMask(paths=["time_zone"]),
            ),
            metadata=cal.a.auth,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room.time_zone"]
    error = await expect_error(
        cal.a.rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(
                    room_id=room.room_id,
                    valid_until=timestamp(FIRST + 30 * HOUR),
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
            ),
            metadata=cal.a.auth,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room.recurrence"] and "overlap" in error.message


async def test_a_series_starts_on_a_whole_second(cal: Calendar) -> None:
    error = await expect_error(
        recurring_room(
            cal.a, FIRST + timedelta(microseconds=5), HOUR, ["RRULE:FREQ=DAILY;COUNT=2"]
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room.valid_from"]


async def test_a_series_under_way_may_change_its_length(cal: Calendar, clock: ManualClock) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=WEEKLY;COUNT=4"])
    clock.set(FIRST + timedelta(days=8))  # the first occurrence is long past
    updated = await cal.a.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, valid_until=timestamp(FIRST + 2 * HOUR)),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
        ),
        metadata=cal.a.auth,
    )
    assert updated.valid_until.ToDatetime(tzinfo=UTC) == FIRST + 2 * HOUR
    clock.set(FIRST + timedelta(days=30))  # and now every one is
    await expect_error(
        cal.a.rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room.room_id, valid_until=timestamp(FIRST + HOUR)),
                update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
            ),
            metadata=cal.a.auth,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_WINDOW",
    )
