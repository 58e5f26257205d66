"""`rooms participants add|change|remove|list|show`: rosters."""

from __future__ import annotations

import click

from rooms.cli.common import (
    PARTICIPANT_HEADERS,
    Connection,
    as_json,
    cli,
    collect,
    echo_json,
    echo_table,
    etag_option,
    json_option,
    limit_option,
    participant_row,
    role_choice,
)
from rooms.client import RoomsClient
from rooms.v1 import (
    participants_service_pb2,
)

# ---- participants ------------------------------------------------------------------


@cli.group()
def participants() -> None:
    """Add, change, remove and list the participants of a room."""


def _echo_upsert(
    response: participants_service_pb2.AddOrUpdateParticipantsResponse, as_json_: bool
) -> None:
    if as_json_:
        echo_json(as_json(response))
    else:
        echo_table(PARTICIPANT_HEADERS, (participant_row(p) for p in response.participants))
        click.echo(f"etag {response.etag}")


@participants.command("add")
@click.argument("room_id")
@click.argument("user_ids", nargs=-1, required=True)
@click.option("--role", type=role_choice, default="attendee", show_default=True)
@etag_option
@json_option
@click.pass_obj
def participants_add(
    connection: Connection,
    room_id: str,
    user_ids: tuple[str, ...],
    role: str,
    etag: str,
    as_json_: bool,
) -> None:
    """Add identities to the roster with ROLE (or set their role if already there)."""
    response = connection.run(
        lambda client: client.add_or_update_participants(
            room_id, dict.fromkeys(user_ids, role), etag=etag
        )
    )
    _echo_upsert(response, as_json_)


@participants.command("change")
@click.argument("room_id")
@click.argument("user_ids", nargs=-1, required=True)
@click.option("--role", type=role_choice, required=True, help="The new role.")
@etag_option
@json_option
@click.pass_obj
def participants_change(
    connection: Connection,
    room_id: str,
    user_ids: tuple[str, ...],
    role: str,
    etag: str,
    as_json_: bool,
) -> None:
    """Change the role of identities already on the roster (PARTICIPANT_NOT_FOUND if
    one is not). The room's etag is checked, so a concurrent change is not lost."""

    async def change(
        client: RoomsClient,
    ) -> participants_service_pb2.AddOrUpdateParticipantsResponse:
        current = etag or (await client.get_room(room_id)).etag
        for user_id in user_ids:
            await client.get_participant(room_id, user_id)
        return await client.add_or_update_participants(
            room_id, dict.fromkeys(user_ids, role), etag=current
        )

    _echo_upsert(connection.run(change), as_json_)


@participants.command("remove")
@click.argument("room_id")
@click.argument("user_ids", nargs=-1, required=True)
@etag_option
@json_option
@click.pass_obj
def participants_remove(
    connection: Connection, room_id: str, user_ids: tuple[str, ...], etag: str, as_json_: bool
) -> None:
    """Remove identities from the roster (absent ones are ignored)."""
    response = connection.run(
        lambda client: client.remove_participants(room_id, user_ids, etag=etag)
    )
    if as_json_:
        echo_json(as_json(response))
    else:
        click.echo(f"removed {response.removed_count} of {len(user_ids)}; etag {response.etag}")


@participants.command("list")
@click.argument("room_id")
@click.option("--role", type=role_choice, help="Only participants with this role.")
@limit_option
@json_option
@click.pass_obj
def participants_list(
    connection: Connection, room_id: str, role: str | None, limit: int | None, as_json_: bool
) -> None:
    """List a room's roster by user id."""
    page_size = limit or 0  # the server caps it
    found = connection.run(
        lambda client: collect(
            client.list_participants(room_id, role=role, page_size=page_size), limit
        )
    )
    if as_json_:
        echo_json([as_json(participant) for participant in found])
    else:
        echo_table(PARTICIPANT_HEADERS, (participant_row(p) for p in found))


@participants.command("show")
@click.argument("room_id")
@click.argument("user_id")
@json_option
@click.pass_obj
def participants_show(connection: Connection, room_id: str, user_id: str, as_json_: bool) -> None:
    """Show one participant of a room."""
    participant = connection.run(lambda client: client.get_participant(room_id, user_id))
    if as_json_:
        echo_json(as_json(participant))
    else:
        echo_table(PARTICIPANT_HEADERS, [participant_row(participant)])
