"""`rooms watch` and `rooms events`: a room's changes."""

from __future__ import annotations

import contextlib
import json

import click

from rooms.cli.output import as_json, echo_json
from rooms.cli.root import Connection, cli, json_option, limit_option
from rooms.client import RoomsClient
from rooms.errors import RoomsError
from rooms.events import describe_event


@cli.command()
@click.argument("room_id")
@click.option("--after", type=click.IntRange(min=0), default=0, help="Start after this revision.")
@json_option
@click.pass_obj
def watch(connection: Connection, room_id: str, after: int, as_json_: bool) -> None:
    """Print ROOM_ID's changes live (its retained history first) until it is deleted.

    Reconnects by itself when the stream breaks, and says so on stderr."""

    def resuming(error: RoomsError, last: int) -> None:
        click.echo(
            f"reconnecting after {error.reason or error.code.name}; resuming after #{last}",
            err=True,
        )

    async def follow(client: RoomsClient) -> None:
        async for event in client.watch_room(room_id, after_revision=after, on_resume=resuming):
            click.echo(json.dumps(as_json(event)) if as_json_ else describe_event(event))

    with contextlib.suppress(KeyboardInterrupt):
        connection.run(follow)


@cli.command()
@click.argument("room_id")
@click.option("--newest-first", is_flag=True, help="Newest events first.")
@limit_option
@json_option
@click.pass_obj
def events(
    connection: Connection, room_id: str, newest_first: bool, limit: int | None, as_json_: bool
) -> None:
    """ROOM_ID's history: who changed what, and when."""
    found = connection.collect(
        lambda client: client.list_room_events(room_id, newest_first=newest_first), limit
    )
    if as_json_:
        echo_json([as_json(event) for event in found])
    else:
        for event in found:
            click.echo(describe_event(event))
