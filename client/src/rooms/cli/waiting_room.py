"""`rooms knocks|admit|deny|seats|release-seat`: the waiting room and seats."""

from __future__ import annotations

import click

from rooms.cli.output import echo_list, echo_said, enum_name, format_time, role_name
from rooms.cli.parsing import choices, role_choice
from rooms.cli.root import Connection, cli, etag_option, json_option, limit_option
from rooms.v1 import waiting_room_pb2

KNOCK_STATES = choices(waiting_room_pb2.KnockState)
KNOCK_HEADERS = ("USER_ID", "NAME", "STATE", "ROLE", "FIRST_KNOCK", "LAST_KNOCK")
SEAT_HEADERS = ("USER_ID", "ROLE", "SINCE", "EXPIRES", "SEAT_ID")


def knock_row(knock: waiting_room_pb2.Knock) -> list[str]:
    return [
        knock.user_id,
        knock.display_name or "-",
        enum_name(waiting_room_pb2.KnockState, knock.state),
        role_name(knock.role),
        format_time(knock.first_knock_time) if knock.HasField("first_knock_time") else "-",
        format_time(knock.last_knock_time) if knock.HasField("last_knock_time") else "-",
    ]


def seat_row(seat: waiting_room_pb2.Seat) -> list[str]:
    return [
        seat.user_id,
        role_name(seat.role),
        format_time(seat.create_time),
        format_time(seat.expire_time),
        seat.seat_id,
    ]


@cli.command()
@click.argument("room_id")
@click.option(
    "--state",
    type=click.Choice(KNOCK_STATES, case_sensitive=False),
    default="waiting",
    show_default=True,
)
@click.option("--all", "every", is_flag=True, help="Every state.")
@limit_option
@json_option
@click.pass_obj
def knocks(
    connection: Connection,
    room_id: str,
    state: str,
    every: bool,
    limit: int | None,
    as_json_: bool,
) -> None:
    """Who knocked on ROOM_ID's waiting room, oldest first."""
    found = connection.collect(
        lambda client: client.list_knocks(room_id, state=None if every else state), limit
    )
    echo_list(found, as_json_, KNOCK_HEADERS, knock_row)


@cli.command()
@click.argument("room_id")
@click.argument("user_id")
@click.option("--role", type=role_choice, help="The role to join with [the one it would have].")
@etag_option
@json_option
@click.pass_obj
def admit(
    connection: Connection,
    room_id: str,
    user_id: str,
    role: str | None,
    etag: str,
    as_json_: bool,
) -> None:
    """Let USER_ID into ROOM_ID."""
    response = connection.run(
        lambda client: client.admit_participant(room_id, user_id, role=role or 0, etag=etag)
    )
    echo_said(
        response,
        as_json_,
        f"admitted {user_id} as {role_name(response.knock.role)}",
        f"etag {response.etag}",
    )


@cli.command()
@click.argument("room_id")
@click.argument("user_id")
@etag_option
@json_option
@click.pass_obj
def deny(connection: Connection, room_id: str, user_id: str, etag: str, as_json_: bool) -> None:
    """Keep USER_ID out of ROOM_ID until admitted."""
    response = connection.run(lambda client: client.deny_participant(room_id, user_id, etag=etag))
    echo_said(response, as_json_, f"denied {user_id}", f"etag {response.etag}")


@cli.command()
@click.argument("room_id")
@limit_option
@json_option
@click.pass_obj
def seats(connection: Connection, room_id: str, limit: int | None, as_json_: bool) -> None:
    """Who is in ROOM_ID now (its live seats)."""
    found = connection.collect(lambda client: client.list_seats(room_id), limit)
    echo_list(found, as_json_, SEAT_HEADERS, seat_row)


@cli.command("release-seat")
@click.argument("seat_id")
@click.pass_obj
def release_seat(connection: Connection, seat_id: str) -> None:
    """Free SEAT_ID."""
    connection.run(lambda client: client.release_seat(seat_id))
    click.echo(f"released {seat_id}")
