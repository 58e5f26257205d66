"""`rooms knocks|admit|deny|seats|release-seat`: the waiting room and seats."""

from __future__ import annotations

import click

from rooms.cli.common import (
    Connection,
    as_json,
    choices,
    cli,
    collect,
    echo_json,
    echo_table,
    etag_option,
    format_time,
    json_option,
    limit_option,
    role_choice,
    role_name,
)
from rooms.v1 import (
    waiting_room_pb2,
)

# ---- waiting room and seats -------------------------------------------------------

KNOCK_STATES = choices(waiting_room_pb2.KnockState, "KNOCK_STATE_")


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
    found = connection.run(
        lambda client: collect(client.list_knocks(room_id, state=None if every else state), limit)
    )
    if as_json_:
        echo_json([as_json(knock) for knock in found])
        return
    echo_table(
        ("USER_ID", "NAME", "STATE", "ROLE", "FIRST_KNOCK", "LAST_KNOCK"),
        (
            [
                k.user_id,
                k.display_name or "-",
                waiting_room_pb2.KnockState.Name(k.state).removeprefix("KNOCK_STATE_").lower(),
                role_name(k.role) if k.role else "-",
                format_time(k.first_knock_time) if k.HasField("first_knock_time") else "-",
                format_time(k.last_knock_time) if k.HasField("last_knock_time") else "-",
            ]
            for k in found
        ),
    )


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
    if as_json_:
        echo_json(as_json(response))
    else:
        role_text = role_name(response.knock.role) if response.knock.role else "-"
        click.echo(f"admitted {user_id} as {role_text}")
        click.echo(f"etag {response.etag}")


@cli.command()
@click.argument("room_id")
@click.argument("user_id")
@etag_option
@json_option
@click.pass_obj
def deny(connection: Connection, room_id: str, user_id: str, etag: str, as_json_: bool) -> None:
    """Keep USER_ID out of ROOM_ID until admitted."""
    response = connection.run(lambda client: client.deny_participant(room_id, user_id, etag=etag))
    if as_json_:
        echo_json(as_json(response))
    else:
        click.echo(f"denied {user_id}")
        click.echo(f"etag {response.etag}")


@cli.command()
@click.argument("room_id")
@limit_option
@json_option
@click.pass_obj
def seats(connection: Connection, room_id: str, limit: int | None, as_json_: bool) -> None:
    """Who is in ROOM_ID now (its live seats)."""
    found = connection.run(lambda client: collect(client.list_seats(room_id), limit))
    if as_json_:
        echo_json([as_json(seat) for seat in found])
        return
    echo_table(
        ("USER_ID", "ROLE", "SINCE", "EXPIRES", "SEAT_ID"),
        (
            [
                s.user_id,
                role_name(s.role),
                format_time(s.create_time),
                format_time(s.expire_time),
                s.seat_id,
            ]
            for s in found
        ),
    )


@cli.command("release-seat")
@click.argument("seat_id")
@click.pass_obj
def release_seat(connection: Connection, seat_id: str) -> None:
    """Free SEAT_ID."""
    connection.run(lambda client: client.release_seat(seat_id))
    click.echo(f"released {seat_id}")
