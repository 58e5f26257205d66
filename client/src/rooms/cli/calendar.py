"""`rooms occurrences ROOM` and `rooms feeds create|list|delete`: the calendar function."""

from __future__ import annotations

from datetime import datetime

import click

from rooms.cli.output import echo_deleted, echo_list, echo_one, enum_name, format_time
from rooms.cli.parsing import TIME
from rooms.cli.root import Connection, cli, json_option, limit_option
from rooms.v1 import calendar_service_pb2, room_pb2

OCCURRENCE_HEADERS = ("START", "END", "STATE")
FEED_HEADERS = ("FEED_ID", "ROOM_ID", "USER_ID", "CREATED")


def occurrence_row(occurrence: room_pb2.Occurrence) -> list[str]:
    return [
        format_time(occurrence.start_time),
        format_time(occurrence.end_time),
        enum_name(room_pb2.RoomState, occurrence.state),
    ]


def feed_fields(feed: calendar_service_pb2.CalendarFeed) -> list[tuple[str, str]]:
    fields = [
        ("feed_id", feed.feed_id),
        ("room_id", feed.room_id or "-"),
        ("user_id", feed.user_id or "-"),
        ("created", format_time(feed.create_time)),
    ]
    if feed.url:
        fields.append(("url", feed.url))
    return fields


def feed_row(feed: calendar_service_pb2.CalendarFeed) -> list[str]:
    return [feed.feed_id, feed.room_id or "-", feed.user_id or "-", format_time(feed.create_time)]


@cli.command()
@click.argument("room_id")
@click.option("--from", "start", type=TIME, help="Only occurrences ending after this.")
@click.option("--until", "end", type=TIME, help="Only occurrences starting before this.")
@limit_option
@json_option
@click.pass_obj
def occurrences(
    connection: Connection,
    room_id: str,
    start: datetime | None,
    end: datetime | None,
    limit: int | None,
    as_json_: bool,
) -> None:
    """List a room's occurrences, oldest first."""
    found = connection.collect(
        lambda client: client.list_occurrences(room_id, start=start, end=end, page_size=limit or 0),
        limit,
    )
    echo_list(found, as_json_, OCCURRENCE_HEADERS, occurrence_row)


@cli.group()
def feeds() -> None:
    """Calendar feeds: URLs that serve rooms as iCalendar, without an API key."""


@feeds.command("create")
@click.option("--room", "room_id", default="", help="A feed of this room.")
@click.option("--user", "user_id", default="", help="A feed of this identity's rooms.")
@json_option
@click.pass_obj
def create_feed(connection: Connection, room_id: str, user_id: str, as_json_: bool) -> None:
    """Create a feed; its URL is shown this once."""
    if bool(room_id) == bool(user_id):
        raise click.UsageError("give exactly one of --room and --user")
    feed = connection.run(
        lambda client: client.create_calendar_feed(room_id=room_id, user_id=user_id)
    )
    echo_one(feed, as_json_, feed_fields)


@feeds.command("list")
@limit_option
@json_option
@click.pass_obj
def list_feeds(connection: Connection, limit: int | None, as_json_: bool) -> None:
    """List the feeds, newest first (without their URLs)."""
    found = connection.collect(
        lambda client: client.list_calendar_feeds(page_size=limit or 0), limit
    )
    echo_list(found, as_json_, FEED_HEADERS, feed_row)


@feeds.command("delete")
@click.argument("feed_id")
@json_option
@click.pass_obj
def delete_feed(connection: Connection, feed_id: str, as_json_: bool) -> None:
    """Revoke a feed: its URL answers 404 from then on."""
    connection.run(lambda client: client.delete_calendar_feed(feed_id))
    echo_deleted("feed", feed_id, as_json_)
