"""`rooms authorize` and `rooms roles`: who may join, as what."""

from __future__ import annotations

from collections.abc import Iterable

import click

from rooms.cli.output import (
    echo_list,
    echo_one,
    enum_name,
    format_duration,
    format_time,
    role_name,
)
from rooms.cli.root import EXIT_REFUSED, Connection, cli, json_option
from rooms.v1 import admission_pb2, rooms_service_pb2, waiting_room_pb2


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
    echo_one(decision, as_json_, _decision_fields)
    if not decision.allowed:
        raise click.exceptions.Exit(EXIT_REFUSED)


def _capabilities(values: Iterable[int]) -> str:
    return ", ".join(enum_name(admission_pb2.Capability, value) for value in values)


def _decision_fields(
    decision: rooms_service_pb2.AuthorizeJoinResponse,
) -> list[tuple[str, str]]:
    fields = [
        ("allowed", "yes" if decision.allowed else "no"),
        ("reason", enum_name(admission_pb2.JoinDecisionReason, decision.reason)),
        ("role", role_name(decision.role)),
        ("capabilities", _capabilities(decision.capabilities) or "-"),
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
        limit = enum_name(waiting_room_pb2.CapacityLimit, decision.capacity_limit)
        fields.append(("capacity", f"{limit} {decision.capacity}"))
    fields.append(("message", decision.message or "-"))
    return fields


@cli.command()
@json_option
@click.pass_obj
def roles(connection: Connection, as_json_: bool) -> None:
    """Every role with the capabilities it grants."""
    definitions = connection.run(lambda client: client.list_roles())
    echo_list(
        definitions,
        as_json_,
        ("ROLE", "CAPABILITIES"),
        lambda definition: [definition.name, _capabilities(definition.capabilities)],
    )
