"""`rooms authorize` and `rooms roles`: who may join, as what."""

from __future__ import annotations

import click

from rooms.cli.common import (
    EXIT_REFUSED,
    Connection,
    as_json,
    capability_name,
    cli,
    echo_fields,
    echo_json,
    echo_table,
    format_duration,
    format_time,
    json_option,
    reason_name,
    role_name,
)
from rooms.v1 import (
    rooms_service_pb2,
    waiting_room_pb2,
)


@cli.command()
@click.argument("room_id")
@click.argument("user_id")
@click.option("--name", help="A name to show for the identity (with a knock).")
@click.option("--claim-seat", is_flag=True, help="When allowed, also take a seat.")
@json_option
@click.pass_obj
def authorize(
    connection: Connection,
    room_id: str,
    user_id: str,
    name: str | None,
    claim_seat: bool,
    as_json_: bool,
) -> None:
    """May USER_ID join ROOM_ID now, as what, and if not, why and until when.

    Exits with status 3 when the join is refused (the decision is still printed)."""
    decision: rooms_service_pb2.AuthorizeJoinResponse = connection.run(
        lambda client: client.authorize_join(
            room_id, user_id, display_name=name, claim_seat=claim_seat
        )
    )
    if as_json_:
        echo_json(as_json(decision))
    else:
        _echo_decision(decision)
    if not decision.allowed:
        raise click.exceptions.Exit(EXIT_REFUSED)


def _echo_decision(decision: rooms_service_pb2.AuthorizeJoinResponse) -> None:
    fields = [
        ("allowed", "yes" if decision.allowed else "no"),
        ("reason", reason_name(decision.reason)),
        ("role", role_name(decision.role)),
        ("capabilities", ", ".join(capability_name(c) for c in decision.capabilities) or "-"),
        ("valid_from", format_time(decision.valid_from)),
        ("valid_until", format_time(decision.valid_until)),
    ]
    if decision.HasField("opens_at"):
        fields += [
            ("opens_at", format_time(decision.opens_at)),
            ("opens_in", format_duration(decision.opens_in)),
        ]
    if decision.HasField("seat"):
        fields += [
            ("seat_id", decision.seat.seat_id),
            ("seat_expires", format_time(decision.seat.expire_time)),
        ]
    if decision.capacity_limit:
        limit = waiting_room_pb2.CapacityLimit.Name(decision.capacity_limit)
        fields.append(
            ("capacity", f"{limit.removeprefix('CAPACITY_LIMIT_').lower()} {decision.capacity}")
        )
    fields.append(("message", decision.message or "-"))
    echo_fields(fields)


@cli.command()
@json_option
@click.pass_obj
def roles(connection: Connection, as_json_: bool) -> None:
    """Every role with the capabilities it grants."""
    definitions = connection.run(lambda client: client.list_roles())
    if as_json_:
        echo_json([as_json(definition) for definition in definitions])
    else:
        echo_table(
            ("ROLE", "CAPABILITIES"),
            ([d.name, ", ".join(capability_name(c) for c in d.capabilities)] for d in definitions),
        )
