"""The lifecycle announces OPENED and ENDED for each occurrence of a recurring room, at
the bounds of each; the purge waits for the last occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rooms.v1 import events_pb2, room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.calendar.conftest import Calendar
from tests.calendar.helpers import recurring_room
from tests.shared.calls import every_page

FIRST = datetime(2026, 6, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
KINDS = [events_pb2.ROOM_EVENT_TYPE_OPENED, events_pb2.ROOM_EVENT_TYPE_ENDED]


async def _transitions(cal: Calendar, room_id: str) -> list[tuple[str, datetime]]:
    page = await cal.a.rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(room_id=room_id, types=KINDS), metadata=cal.a.auth
    )
    return [
        (
            events_pb2.RoomEventType.Name(e.type).rsplit("_", 1)[1],
            e.event_time.ToDatetime(tzinfo=UTC),
        )
        for e in page.events
    ]


async def test_each_occurrence_opens_and_ends(cal: Calendar, clock: ManualClock) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=DAILY;COUNT=3"])
    lifecycle = cal.running.lifecycle
    expected: list[tuple[str, datetime]] = []
    for day in range(3):
        start = FIRST + day * DAY
        clock.set(start + timedelta(minutes=1))
        await lifecycle.run_once()
        expected.append(("OPENED", start))
        assert await _transitions(cal, room.room_id) == expected
        clock.set(start + HOUR + timedelta(minutes=1))
        await lifecycle.run_once()
        expected.append(("ENDED", start + HOUR))
        assert await _transitions(cal, room.room_id) == expected
    clock.set(FIRST + 10 * DAY)
    await lifecycle.run_once()
    assert await _transitions(cal, room.room_id) == expected  # nothing after the last


async def test_a_late_lifecycle_announces_the_occurrence_under_way(
    cal: Calendar, clock: ManualClock
) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=DAILY;COUNT=5"])
    clock.set(FIRST + 3 * DAY + timedelta(minutes=5))  # the fourth occurrence is open
    await cal.running.lifecycle.run_once()
    assert await _transitions(cal, room.room_id) == [
        ("OPENED", FIRST),
        ("ENDED", FIRST + HOUR),
        ("OPENED", FIRST + 3 * DAY),
    ]


async def test_the_purge_waits_for_the_last_occurrence(cal: Calendar, clock: ManualClock) -> None:
    # Daily for 60 days: the first occurrence ends long before the retention (30 days).
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=DAILY;COUNT=60"])
    clock.set(FIRST + 45 * DAY)
    await cal.running.lifecycle.run_once()
    got = await cal.a.rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id), metadata=cal.a.auth)
    assert got.room_id == room.room_id
    clock.set(FIRST + 60 * DAY + 31 * DAY)
    await cal.running.lifecycle.run_once()
    rows = await cal.running.pool.fetchval(
        "SELECT count(*) FROM rooms WHERE room_id = $1", room.room_id
    )
    assert rows == 0


async def test_lists_by_state_follow_the_occurrence_the_lifecycle_tracks(
    cal: Calendar, clock: ManualClock
) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=DAILY;COUNT=2"])

    async def listed_in(state: room_pb2.RoomState.ValueType) -> bool:
        pages = await every_page(
            lambda token: cal.a.rooms.ListRooms(
                rs.ListRoomsRequest(state=state, page_size=500, page_token=token),
                metadata=cal.a.auth,
            )
        )
        return any(room.room_id == r.room_id for page in pages for r in page.rooms)

    async def states() -> set[room_pb2.RoomState.ValueType]:
        return {
            state
            for state in (room_pb2.ROOM_STATE_SCHEDULED, room_pb2.ROOM_STATE_OPEN)
            if await listed_in(state)
        }

    for moment, state in (
        (HOUR / 2, room_pb2.ROOM_STATE_OPEN),
        (2 * HOUR, room_pb2.ROOM_STATE_SCHEDULED),  # between: the second is next
        (DAY + HOUR / 2, room_pb2.ROOM_STATE_OPEN),
    ):
        clock.set(FIRST + moment)
        await cal.running.lifecycle.run_once()
        assert await states() == {state}, moment
