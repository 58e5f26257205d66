"""`rooms participants add|change|remove|list|show`: rosters."""

from __future__ import annotations

from datetime import datetime

import click

from rooms.cli.output import (
    PARTICIPANT_HEADERS,
    as_json,
    echo_json,
    echo_list,
    echo_said,
    echo_table,
    participant_row,
)
from rooms.cli.parsing import TIME, role_choice
from rooms.cli.root import (
    Connection,
    Decorator,
    cli,
    etag_option,
    json_option,
    limit_option,
)
from rooms.client import RoomsClient, participant
from rooms.v1 import participants_service_pb2


@cli.group()
def participants() -> None:
    """Add, change, remove and list the participants of a room."""


def _roster_change(name: str, role_option: Decorator, *, existing: bool, doc: str) -> click.Command:
    """`add` and `change`: set the role of identities on the roster. `change` (`existing`)
    first checks that each is already there (PARTICIPANT_NOT_FOUND if one is not) and
    sends the room's etag, so a concurrent change is not lost."""

    @participants.command(name, help=doc)
    @click.argument("room_id")
    @click.argument("user_ids", nargs=-1, required=True)
    @role_option
    @click.option(
        "--from", "valid_from", type=TIME, help="Their own window opens at (ISO 8601, +2h)."
    )
    @click.option(
        "--until", "valid_until", type=TIME, help="Their own window ends at (ISO 8601, +30m)."
    )
    @etag_option
    @json_option
    @click.pass_obj
    def command(
        connection: Connection,
        room_id: str,
        user_ids: tuple[str, ...],
        role: str,
        valid_from: datetime | None,
        valid_until: datetime | None,
        etag: str,
        as_json_: bool,
    ) -> None:
        async def change(
            client: RoomsClient,
        ) -> participants_service_pb2.AddOrUpdateParticipantsResponse:
            current = etag
            if existing:
                current = etag or (await client.get_room(room_id)).etag
                for user_id in user_ids:
                    await client.get_participant(room_id, user_id)
            entries = [
                participant(u, role, valid_from=valid_from, valid_until=valid_until)
                for u in user_ids
            ]
            return await client.add_or_update_participants(room_id, entries, etag=current)

        response = connection.run(change)
        if as_json_:
            echo_json(as_json(response))
        else:
            echo_table(PARTICIPANT_HEADERS, (participant_row(p) for p in response.participants))
            click.echo(f"etag {response.etag}")

    return command


participants_add = _roster_change(
    "add",
    click.option("--role", type=role_choice, default="attendee", show_default=True),
    existing=False,
    doc="Add identities to the roster with ROLE (or set their role if already there),\n"
    "with their own window inside the room's if --from/--until are given.",
)
participants_change = _roster_change(
    "change",
    click.option("--role", type=role_choice, required=True, help="The new role."),
    existing=True,
    doc="Change the role (and own window: unset bounds are the room's) of identities\n"
    "already on the roster (PARTICIPANT_NOT_FOUND if one is not). The room's etag is\n"
    "checked, so a concurrent change is not lost.",
)


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
    echo_said(
        response,
        as_json_,
        f"removed {response.removed_count} of {len(user_ids)}; etag {response.etag}",
    )


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
    found = connection.collect(
        lambda client: client.list_participants(room_id, role=role, page_size=page_size), limit
    )
    echo_list(found, as_json_, PARTICIPANT_HEADERS, participant_row)


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


@participants.command("moderate")
@click.argument("room_id")
@click.argument("user_id")
@click.option("--actor", required=True, help="Who asks (must hold mute_others in the room).")
@click.option("--unmute", is_flag=True, help="Lift an earlier mute instead.")
@click.option("--video", is_flag=True, help="The video too (audio always).")
@json_option
@click.pass_obj
def participants_moderate(
    connection: Connection,
    room_id: str,
    user_id: str,
    actor: str,
    unmute: bool,
    video: bool,
    as_json_: bool,
) -> None:
    """Mute USER_ID's audio (and video) in the call on behalf of ACTOR; rooms refuses
    (MODERATION_NOT_ALLOWED) unless ACTOR may mute others there now."""
    response = connection.run(
        lambda client: client.moderate_participant(
            room_id, user_id, actor_user_id=actor, muted=not unmute, video=video
        )
    )
    what = "audio and video" if video else "audio"
    done = "unmuted" if unmute else "muted"
    echo_said(
        response, as_json_, f"{user_id} {done} ({what}) by {actor}; event {response.revision}"
    )
