"""Calendar feeds: parsed with `icalendar`; SEQUENCE grows with each change; a removed
identity's and a deleted room's events are CANCELLED; a deleted feed, and any token of
another tenant, is a 404 like a missing one; ETag / If-None-Match give 304."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import calendar_service_pb2 as cs
from rooms.v1 import participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.calendar.conftest import Calendar
from tests.calendar.helpers import expanded, feed, feed_url, recurring_room, vevents
from tests.shared.calls import unique
from tests.shared.errors import expect_error

FIRST = datetime(2026, 6, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULE = ["RRULE:FREQ=WEEKLY;COUNT=4"]


async def _update(cal: Calendar, room_id: str, paths: list[str], **fields: object) -> None:
    await cal.a.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room_id, **fields),  # type: ignore[arg-type]
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        ),
        metadata=cal.a.auth,
    )


async def test_a_room_feed_follows_changes_and_the_deletion(cal: Calendar) -> None:
    room = await recurring_room(
        cal.a, FIRST, HOUR, RULE, metadata={"join_url": "https://meet.example/r/1", "title": "Tea"}
    )
    url = await feed_url(cal.a, room_id=room.room_id)
    (event,) = vevents(await feed(cal, url))
    assert (event["SUMMARY"], str(event["URL"])) == ("Tea", "https://meet.example/r/1")
    assert event["STATUS"] == "CONFIRMED"
    uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
    assert cal.a.tenant not in uid and room.room_id in uid

    # Cancel the second occurrence: an EXDATE, and the feed says so with a new SEQUENCE.
    await _update(cal, room.room_id, ["recurrence"], recurrence=[*RULE, "EXDATE:20260609T090000Z"])
    calendar = await feed(cal, url)
    (event,) = vevents(calendar)
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) > sequence
    assert datetime(2026, 6, 9, 9, tzinfo=UTC) not in [s for s, _ in expanded(calendar)]
    assert len(expanded(calendar)) == 3

    await cal.a.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id), metadata=cal.a.auth)
    (gone,) = vevents(await feed(cal, url))
    assert gone["STATUS"] == "CANCELLED" and int(gone["SEQUENCE"]) > int(event["SEQUENCE"])


async def test_a_user_feed_shows_the_users_rooms_and_cancels_on_removal(cal: Calendar) -> None:
    user = unique("pat")
    mine, other = [await recurring_room(cal.a, FIRST, HOUR, RULE) for _ in range(2)]
    await cal.a.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=mine.room_id, participants=[participant_pb2.Participant(user_id=user)]
        ),
        metadata=cal.a.auth,
    )
    url = await feed_url(cal.a, user_id=user)
    (event,) = vevents(await feed(cal, url))
    assert mine.room_id in str(event["UID"]) and other.room_id not in str(event["UID"])
    await cal.a.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=mine.room_id, user_ids=[user]), metadata=cal.a.auth
    )
    (removed,) = vevents(await feed(cal, url))
    assert removed["STATUS"] == "CANCELLED"
    assert int(removed["SEQUENCE"]) > int(event["SEQUENCE"])
    # A room of the identity's that is deleted is cancelled in its feed too.
    await cal.a.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=other.room_id, participants=[participant_pb2.Participant(user_id=user)]
        ),
        metadata=cal.a.auth,
    )
    await cal.a.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=other.room_id), metadata=cal.a.auth)
    statuses = {
        str(e["UID"]).split(".")[0]: str(e["STATUS"]) for e in vevents(await feed(cal, url))
    }
    assert statuses == {mine.room_id: "CANCELLED", other.room_id: "CANCELLED"}


async def test_etag_and_if_none_match(cal: Calendar) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, RULE)
    url = await feed_url(cal.a, room_id=room.room_id)
    status, headers, body = await cal.get(url)
    assert status == 200 and headers["ETag"]
    status, again, empty = await cal.get(url, **{"If-None-Match": headers["ETag"]})
    assert (status, empty, again["ETag"]) == (304, b"", headers["ETag"])
    await _update(cal, room.room_id, ["metadata"], metadata={"title": "New"})
    status, changed, body2 = await cal.get(url, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and changed["ETag"] != headers["ETag"] and body2 != body


async def test_deleted_feeds_and_other_tenants_tokens_are_404(cal: Calendar) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, RULE)
    feed_a = await cal.a.calendar.CreateCalendarFeed(
        cs.CreateCalendarFeedRequest(feed=cs.CalendarFeed(room_id=room.room_id)),
        metadata=cal.a.auth,
    )
    base, token = feed_a.url.rsplit("/", 1)
    _, feed_id, secret = token.removesuffix(".ics").split(".")
    as_b = base64.urlsafe_b64encode(cal.b.tenant.encode()).decode().rstrip("=")
    missing = [
        f"{base}/{as_b}.{feed_id}.{secret}.ics",  # the same feed, under another tenant
        f"{base}/{token[:-8]}AAAA.ics",  # a wrong secret
        f"{base}/nonsense.ics",
        f"{base}/{'x' * 5000}.ics",
    ]
    for url in missing:
        status, _, body = await cal.get(url)
        assert status == 404 and secret not in body.decode(), url
    # Tenant B sees neither the feed nor the room.
    listed_b = await cal.b.calendar.ListCalendarFeeds(
        cs.ListCalendarFeedsRequest(), metadata=cal.b.auth
    )
    assert feed_a.feed_id not in [f.feed_id for f in listed_b.feeds]
    await expect_error(
        cal.b.calendar.DeleteCalendarFeed(
            cs.DeleteCalendarFeedRequest(feed_id=feed_a.feed_id), metadata=cal.b.auth
        ),
        grpc.StatusCode.NOT_FOUND,
        "CALENDAR_FEED_NOT_FOUND",
    )
    await expect_error(
        cal.b.calendar.CreateCalendarFeed(
            cs.CreateCalendarFeedRequest(feed=cs.CalendarFeed(room_id=room.room_id)),
            metadata=cal.b.auth,
        ),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    listed_a = await cal.a.calendar.ListCalendarFeeds(
        cs.ListCalendarFeedsRequest(), metadata=cal.a.auth
    )
    mine = [f for f in listed_a.feeds if f.feed_id == feed_a.feed_id]
    assert mine and mine[0].url == ""  # the URL is shown once, at creation
    # Revoked: deleting the feed makes its URL a 404.
    assert (await cal.get(feed_a.url))[0] == 200
    await cal.a.calendar.DeleteCalendarFeed(
        cs.DeleteCalendarFeedRequest(feed_id=feed_a.feed_id), metadata=cal.a.auth
    )
    assert (await cal.get(feed_a.url))[0] == 404


async def test_a_feed_needs_exactly_one_subject(cal: Calendar) -> None:
    for subject in (cs.CalendarFeed(), cs.CalendarFeed(room_id="r", user_id="u")):
        error = await expect_error(
            cal.a.calendar.CreateCalendarFeed(
                cs.CreateCalendarFeedRequest(feed=subject), metadata=cal.a.auth
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
        )
        assert error.fields == ["feed.room_id"]


async def test_a_feeds_secret_never_reaches_the_logs(
    cal: Calendar, caplog: pytest.LogCaptureFixture
) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, RULE)
    with caplog.at_level(logging.DEBUG):
        url = await feed_url(cal.a, room_id=room.room_id)
        assert (await cal.get(url))[0] == 200
        assert (await cal.get(url[:-8] + "AAAA.ics"))[0] == 404
    secret = url.removesuffix(".ics").rsplit(".", 1)[1]
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
