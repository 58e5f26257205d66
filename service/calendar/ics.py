"""A feed's rooms as iCalendar (RFC 5545), written with `icalendar`: one VEVENT per
room, its recurrence as RRULE / EXDATE / RDATE in its zone (with the VTIMEZONE), a
stable UID, SEQUENCE growing with each change, STATUS:CANCELLED once it is gone."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event, vRecur

from service.domain import recurrence
from service.domain.calendar import FeedEntry, join_link, sequence_of

PRODID = "-//rooms//calendar feed//EN"


def uid_of(tenant: str, room_id: str) -> str:
    """A room's UID: stable, distinct per tenant, without the tenant's name."""
    digest = hashlib.sha256(f"{len(tenant)}:{tenant}".encode()).hexdigest()[:16]
    return f"{room_id}.{digest}@rooms"


def _zoned(instant: datetime, zone_name: str) -> datetime:
    tz = recurrence.zone(zone_name) if zone_name else None
    return instant.astimezone(tz) if tz is not None else instant.astimezone(UTC)


def event_of(tenant: str, entry: FeedEntry) -> Event:
    room = entry.room
    event = Event()
    event.add("uid", uid_of(tenant, room.room_id))
    event.add("dtstamp", room.update_time.astimezone(UTC))
    event.add("created", room.create_time.astimezone(UTC))
    event.add("last-modified", room.update_time.astimezone(UTC))
    event.add("sequence", sequence_of(room))
    event.add("summary", room.metadata.get("title") or room.metadata.get("name") or room.room_id)
    event.add("dtstart", _zoned(room.valid_from, room.time_zone))
    event.add("dtend", _zoned(room.valid_until, room.time_zone))
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    link = join_link(room)
    if link is not None:
        event.add("url", link)
        event.add("description", f"Join: {link}")
    series = room.series
    if series is not None:
        parsed = recurrence.parse(series)
        if parsed.rrule is not None:
            event.add("rrule", vRecur.from_ical(parsed.rrule))
        for name, instants in (("rdate", parsed.rdates), ("exdate", parsed.exdates)):
            if instants:
                event.add(name, [_zoned(i, room.time_zone) for i in instants])
    return event


def calendar_of(tenant: str, entries: Sequence[FeedEntry], name: str) -> bytes:
    """The iCalendar text of a feed."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for entry in sorted(entries, key=lambda e: e.room.room_id):
        calendar.add_component(event_of(tenant, entry))
    calendar.add_missing_timezones()
    body: bytes = calendar.to_ical()
    return body
