"""The occurrences rooms computes are those an independent expander
(`recurring-ical-events`) finds in the room's own feed, rule by rule; and ListOccurrences
pages and bounds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from rooms.v1 import rooms_service_pb2 as rs

from tests.calendar.conftest import Calendar
from tests.calendar.helpers import (
    expanded,
    feed,
    feed_url,
    listed,
    local,
    recurring_room,
    vevents,
)
from tests.shared.calls import timestamp
from tests.shared.errors import rich_error

HOUR = timedelta(hours=1)

# (name, zone, first occurrence, length, recurrence, how many occurrences)
CASES = [
    (
        "weekly BYDAY across the end of summer time, with EXDATE and RDATE",
        "Europe/Paris",
        local("Europe/Paris", 2026, 10, 13, 9),
        HOUR,
        [
            "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10",
            "EXDATE;TZID=Europe/Paris:20261020T090000",
            "RDATE;TZID=Europe/Paris:20261024T100000",
        ],
        10,
    ),
    (
        "every other Monday UNTIL a date, across the US change",
        "America/New_York",
        local("America/New_York", 2026, 10, 5, 18),
        90 * timedelta(minutes=1),
        ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20261231"],
        7,
    ),
    (
        "daily COUNT in UTC, an EXDATE in UTC",
        "",
        datetime(2026, 6, 2, 7, 30, tzinfo=UTC),
        30 * timedelta(minutes=1),
        ["RRULE:FREQ=DAILY;COUNT=5", "EXDATE:20260604T073000Z"],
        4,
    ),
    (
        "monthly on the 15th across the start of Sydney's summer time",
        "Australia/Sydney",
        local("Australia/Sydney", 2026, 7, 15, 10),
        2 * HOUR,
        ["RRULE:FREQ=MONTHLY;BYMONTHDAY=15;COUNT=6"],
        6,
    ),
]


@pytest.mark.parametrize(("name", "zone", "first", "length", "recurrence", "count"), CASES)
async def test_occurrences_equal_an_independent_expansion_of_the_feed(
    cal: Calendar,
    name: str,
    zone: str,
    first: datetime,
    length: timedelta,
    recurrence: list[str],
    count: int,
) -> None:
    room = await recurring_room(cal.a, first, length, recurrence, zone)
    ours = await listed(cal.a, room.room_id)
    theirs = expanded(await feed(cal, await feed_url(cal.a, room_id=room.room_id)))
    assert len(ours) == count, name
    assert ours == theirs, name
    assert ours[0] == (first, first + length)
    assert all(end - start == length for start, end in ours)


async def test_wall_time_holds_across_a_daylight_saving_change(cal: Calendar) -> None:
    zone, first = "Europe/Paris", local("Europe/Paris", 2026, 10, 20, 9)
    room = await recurring_room(cal.a, first, HOUR, ["RRULE:FREQ=WEEKLY;COUNT=2"], zone)
    (before, _), (after, _) = await listed(cal.a, room.room_id)
    assert (before.hour, after.hour) == (7, 8)  # 09:00 in Paris, summer then winter
    event = vevents(await feed(cal, await feed_url(cal.a, room_id=room.room_id)))[0]
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"


async def test_list_occurrences_bounds_and_a_room_that_does_not_repeat(cal: Calendar) -> None:
    first = datetime(2026, 6, 2, 7, tzinfo=UTC)
    room = await recurring_room(cal.a, first, HOUR, ["RRULE:FREQ=DAILY;COUNT=10"])
    inside = await listed(
        cal.a,
        room.room_id,
        start_time=first + timedelta(days=2, minutes=30),
        end_time=first + timedelta(days=5),
    )
    assert [start.day for start, _ in inside] == [4, 5, 6]
    single = await recurring_room(cal.a, first, HOUR, [])
    assert await listed(cal.a, single.room_id) == [(first, first + HOUR)]


async def test_list_occurrences_refuses_bad_paging_and_ranges(cal: Calendar) -> None:
    first = datetime(2026, 6, 2, 7, tzinfo=UTC)
    room = await recurring_room(cal.a, first, HOUR, ["RRULE:FREQ=DAILY;COUNT=5"])
    other = await recurring_room(cal.a, first, HOUR, ["RRULE:FREQ=DAILY;COUNT=5"])
    page = await cal.a.rooms.ListOccurrences(
        rs.ListOccurrencesRequest(room_id=room.room_id, page_size=2), metadata=cal.a.auth
    )
    assert len(page.occurrences) == 2 and page.next_page_token
    cases = [
        (rs.ListOccurrencesRequest(room_id=room.room_id, page_size=-1), "page_size"),
        (
            rs.ListOccurrencesRequest(room_id=other.room_id, page_token=page.next_page_token),
            "page_token",
        ),
        (
            rs.ListOccurrencesRequest(
                room_id=room.room_id, start_time=timestamp(first), end_time=timestamp(first)
            ),
            "end_time",
        ),
    ]
    for request, field in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await cal.a.rooms.ListOccurrences(request, metadata=cal.a.auth)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in rich_error(caught.value).fields
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cal.b.rooms.ListOccurrences(
            rs.ListOccurrencesRequest(room_id=room.room_id), metadata=cal.b.auth
        )
    assert rich_error(caught.value).reason == "ROOM_NOT_FOUND"
