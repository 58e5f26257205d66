"""The CLI and the client: `rooms create --repeat ... --tz ...`, `rooms occurrences`,
`rooms feeds create|list|delete`."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from service.domain.clock import ManualClock
from tests.calendar.conftest import Calendar
from tests.calendar.helpers import vevents
from tests.cli.in_process import Cli, fields, rows
from tests.shared.calls import unique


async def test_a_weekly_appointment_from_the_command_line(
    cal: Calendar, clock: ManualClock
) -> None:
    key = dict(cal.a.auth)["authorization"].removeprefix("Bearer ")
    rooms = Cli(cal.running.port, key)
    room_id = unique("therapy")
    created = fields(
        await rooms.ok(
            "create",
            "--id",
            room_id,
            "--from",
            "2026-10-20T09:00+02:00",
            "--until",
            "2026-10-20T09:50+02:00",
            "--repeat",
            "FREQ=WEEKLY;BYDAY=TU;COUNT=3",
            "--tz",
            "Europe/Paris",
            "--attendee",
            "pat",
        )
    )
    assert created["recurrence"] == "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3"
    assert created["time_zone"] == "Europe/Paris"
    listed = rows(await rooms.ok("occurrences", room_id))
    assert listed[0] == ["START", "END", "STATE"]
    assert [r[0] for r in listed[1:]] == [
        "2026-10-20T07:00:00Z",
        "2026-10-27T08:00:00Z",  # still 09:00 in Paris, after the change of time
        "2026-11-03T08:00:00Z",
    ]
    cancelled = await rooms.ok(
        "update",
        room_id,
        "--recurrence",
        "RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3",
        "--recurrence",
        "EXDATE;TZID=Europe/Paris:20261027T090000",
    )
    assert "EXDATE" in fields(cancelled)["recurrence"]
    assert len(rows(await rooms.ok("occurrences", room_id))) == 3

    feed = fields(await rooms.ok("feeds", "create", "--user", "pat"))
    status, _, body = await cal.get(feed["url"])
    assert status == 200
    (event,) = vevents(icalendar.Calendar.from_ical(body))
    assert event["DTSTART"].dt == datetime(2026, 10, 20, 7, tzinfo=UTC)
    assert feed["feed_id"] in [r[0] for r in rows(await rooms.ok("feeds", "list"))]
    assert (
        await rooms.ok("feeds", "delete", feed["feed_id"])
    ).strip() == f"deleted {feed['feed_id']}"
    assert (await cal.get(feed["url"]))[0] == 404
    assert "CALENDAR_FEED_NOT_FOUND" in await rooms.fails("feeds", "delete", feed["feed_id"])
