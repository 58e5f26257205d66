"""Cancelling or moving one occurrence is an update of `recurrence` (EXDATE / RDATE)
with the field mask; the change stream says which occurrences went and came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf import field_mask_pb2
from rooms.v1 import events_pb2, room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.calendar.conftest import Calendar
from tests.calendar.helpers import listed, recurring_room

FIRST = datetime(2026, 6, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULE = "RRULE:FREQ=WEEKLY;COUNT=4"


def spans(occurrences: object) -> list[tuple[datetime, datetime]]:
    return [
        (o.start_time.ToDatetime(tzinfo=UTC), o.end_time.ToDatetime(tzinfo=UTC))
        for o in occurrences  # type: ignore[attr-defined]
    ]


async def test_moving_one_occurrence_is_in_the_change_stream(cal: Calendar) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, [RULE])
    moved_from = FIRST + timedelta(days=7)
    moved_to = moved_from + timedelta(days=1, hours=2)
    updated = await cal.a.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room.room_id,
                recurrence=[RULE, "EXDATE:20260609T090000Z", "RDATE:20260610T110000Z"],
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["recurrence"]),
        ),
        metadata=cal.a.auth,
    )
    assert list(updated.recurrence)[1:] == ["EXDATE:20260609T090000Z", "RDATE:20260610T110000Z"]
    assert (moved_to, moved_to + HOUR) in await listed(cal.a, room.room_id)
    assert (moved_from, moved_from + HOUR) not in await listed(cal.a, room.room_id)
    history = await cal.a.rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id, types=[events_pb2.ROOM_EVENT_TYPE_SETTINGS_CHANGED]
        ),
        metadata=cal.a.auth,
    )
    (change,) = history.events
    assert list(change.changed_fields) == ["recurrence"]
    assert spans(change.removed_occurrences) == [(moved_from, moved_from + HOUR)]
    assert spans(change.added_occurrences) == [(moved_to, moved_to + HOUR)]
    assert list(change.room.recurrence) == list(updated.recurrence)

    # A change that leaves the occurrences as they were names none.
    await cal.a.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, metadata={"k": "v"}),
            update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
        ),
        metadata=cal.a.auth,
    )
    history = await cal.a.rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id, types=[events_pb2.ROOM_EVENT_TYPE_SETTINGS_CHANGED]
        ),
        metadata=cal.a.auth,
    )
    assert not history.events[-1].removed_occurrences and not history.events[-1].added_occurrences
