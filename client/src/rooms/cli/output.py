"""What the CLI prints: tables and fields for people, the protobuf JSON mapping with
`--json` for scripts, and the names of enum values."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC
from typing import Any, TypeVar

import click
from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message

from rooms.cli.parsing import enum_prefix
from rooms.v1 import participant_pb2, room_pb2

M = TypeVar("M", bound=Message)


def enum_name(enum: Any, value: int) -> str:
    """A value's name as the CLI shows and accepts it (`presenter`, `invite-only`);
    `-` for the unspecified value."""
    short = str(enum.Name(value)).removeprefix(enum_prefix(enum)).lower().replace("_", "-")
    return "-" if short == "unspecified" else short


def role_name(value: int) -> str:
    return enum_name(participant_pb2.Role, value)


def policy_name(value: int) -> str:
    return enum_name(room_pb2.JoinPolicy, value) if value else "invite-only"


def format_time(value: timestamp_pb2.Timestamp) -> str:
    if value.seconds == 0 and value.nanos == 0:
        return "-"
    return value.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(value: duration_pb2.Duration) -> str:
    total = int(value.ToTimedelta().total_seconds())
    if total <= 0:
        return "-"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts)


def as_json(message: Message) -> dict[str, Any]:
    """The message in protobuf's JSON mapping, with fields at their defaults too."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    rows = [list(row) for row in rows]
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    for row in [list(headers), *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(line.rstrip())


def echo_fields(fields: Sequence[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        click.echo(f"{name.ljust(width)}  {value}")


def echo_one(message: M, as_json_: bool, fields: Callable[[M], Sequence[tuple[str, str]]]) -> None:
    """One resource: its fields, or its JSON."""
    if as_json_:
        echo_json(as_json(message))
    else:
        echo_fields(fields(message))


def echo_list(
    messages: Sequence[M],
    as_json_: bool,
    headers: Sequence[str],
    row: Callable[[M], Sequence[str]],
) -> None:
    """A list: a table of one row each, or a JSON array."""
    if as_json_:
        echo_json([as_json(message) for message in messages])
    else:
        echo_table(headers, (row(message) for message in messages))


def echo_said(message: Message, as_json_: bool, *lines: str) -> None:
    """An answer: its JSON, or these lines for people."""
    if as_json_:
        echo_json(as_json(message))
    else:
        for line in lines:
            click.echo(line)


def echo_deleted(kind: str, resource_id: str, as_json_: bool) -> None:
    """What `delete` prints: `deleted ID`, or `{"<kind>Id": ID, "deleted": true}`."""
    if as_json_:
        echo_json({f"{kind}Id": resource_id, "deleted": True})
    else:
        click.echo(f"deleted {resource_id}")


def room_fields(room: room_pb2.Room) -> list[tuple[str, str]]:
    metadata = ", ".join(f"{key}={room.metadata[key]}" for key in sorted(room.metadata))
    return [
        ("room_id", room.room_id),
        ("state", enum_name(room_pb2.RoomState, room.state)),
        ("valid_from", format_time(room.valid_from)),
        ("valid_until", format_time(room.valid_until)),
        ("join_policy", policy_name(room.join_policy)),
        ("open_join_role", role_name(room.open_join_role or participant_pb2.ROLE_ATTENDEE)),
        ("early_entry", format_duration(room.early_entry_duration)),
        ("pstn_dial_out", "yes" if room.pstn_dial_out_enabled else "no"),
        ("participants", str(room.participant_count)),
        ("waiting_room", "yes" if room.waiting_room_enabled else "no"),
        ("max_participants", str(room.max_participants or "server ceiling")),
        (
            "role_capacity",
            ", ".join(
                f"{role_name(c.role)} max {c.max_participants or '-'} reserved {c.reserved}"
                for c in room.role_capacity
            )
            or "-",
        ),
        ("metadata", metadata or "-"),
        ("recurrence", " | ".join(room.recurrence) or "-"),
        ("time_zone", room.time_zone or ("UTC" if room.recurrence else "-")),
        ("etag", room.etag),
        ("created", format_time(room.create_time)),
        ("updated", format_time(room.update_time)),
    ]


ROOM_HEADERS = ("ROOM_ID", "STATE", "VALID_FROM", "VALID_UNTIL", "POLICY", "PARTICIPANTS")


def room_row(room: room_pb2.Room) -> list[str]:
    return [
        room.room_id,
        enum_name(room_pb2.RoomState, room.state),
        format_time(room.valid_from),
        format_time(room.valid_until),
        policy_name(room.join_policy),
        str(room.participant_count),
    ]


PARTICIPANT_HEADERS = ("USER_ID", "ROLE", "ADDED", "CHANGED", "FROM", "UNTIL")


def participant_row(participant: participant_pb2.Participant) -> list[str]:
    """A roster entry; FROM/UNTIL are its own window (`-`: the room's)."""
    return [
        participant.user_id,
        role_name(participant.role),
        format_time(participant.create_time),
        format_time(participant.update_time),
        format_time(participant.valid_from),
        format_time(participant.valid_until),
    ]
