"""What the calendar tests share: rooms made in a zone, occurrences read both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]
from rooms.v1 import calendar_service_pb2 as cs
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.calendar.conftest import Calendar, Side
from tests.shared.calls import every_page, timestamp, unique

Span = tuple[datetime, datetime]


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in `zone`, as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def recurring_room(
    side: Side,
    first: datetime,
    length: timedelta,
    recurrence: list[str],
    zone: str = "",
    **settings: object,
) -> room_pb2.Room:
    room: room_pb2.Room = await side.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=unique("series"),
            room=room_pb2.Room(
                valid_from=timestamp(first),
                valid_until=timestamp(first + length),
                recurrence=recurrence,
                time_zone=zone,
                **settings,  # type: ignore[arg-type]
            ),
        ),
        metadata=side.auth,
    )
    return room


async def listed(side: Side, room_id: str, page_size: int = 3, **bounds: datetime) -> list[Span]:
    """Every occurrence ListOccurrences gives, over all its pages."""
    times = {name: timestamp(value) for name, value in bounds.items()}
    pages = await every_page(
        lambda token: side.rooms.ListOccurrences(
            rs.ListOccurrencesRequest(
                room_id=room_id, page_size=page_size, page_token=token, **times
            ),
            metadata=side.auth,
        )
    )
    return [
        (o.start_time.ToDatetime(tzinfo=UTC), o.end_time.ToDatetime(tzinfo=UTC))
        for page in pages
        for o in page.occurrences
    ]


async def feed_url(side: Side, *, room_id: str = "", user_id: str = "") -> str:
    feed = await side.calendar.CreateCalendarFeed(
        cs.CreateCalendarFeedRequest(feed=cs.CalendarFeed(room_id=room_id, user_id=user_id)),
        metadata=side.auth,
    )
    assert feed.url.endswith(".ics") and feed.feed_id
    return str(feed.url)


async def feed(cal: Calendar, url: str) -> icalendar.Calendar:
    status, headers, body = await cal.get(url)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(body)


def expanded(calendar: icalendar.Calendar) -> list[Span]:
    """The occurrences an independent expander finds in a feed (all of them)."""
    events = recurring_ical_events.of(calendar).between(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC)
    )
    return sorted((e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC)) for e in events)


def vevents(calendar: icalendar.Calendar) -> list[Any]:
    """The VEVENTs (their properties read untyped, as the tests compare them)."""
    return list(calendar.walk("VEVENT"))
