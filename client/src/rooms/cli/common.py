"""The CLI's shared parts: value parsing, output, the connection, the root group."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

try:
    import click
except ImportError:  # pragma: no cover - depends on the installation
    sys.exit("the rooms CLI needs click: pip install 'rooms-client[cli]'")

from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message

from rooms.client import DEFAULT_ADDRESS, DEFAULT_TIMEOUT, TLS, RoomsClient
from rooms.errors import RoomsError
from rooms.v1 import (
    admission_pb2,
    participant_pb2,
    room_pb2,
)

T = TypeVar("T")
V = TypeVar("V")

EXIT_ERROR = 1  # the server or the connection answered with an error
EXIT_USAGE = 2  # bad flags or arguments (click's own convention)
EXIT_REFUSED = 3  # `rooms authorize`: the answer is that the join is refused


def choices(enum: Any, prefix: str) -> tuple[str, ...]:
    """The names a flag accepts, read from the protos' enum (so new values need no edit)."""
    return tuple(
        value.name.removeprefix(prefix).lower().replace("_", "-")
        for value in enum.DESCRIPTOR.values
        if value.number != 0
    )


ROLES = choices(participant_pb2.Role, "ROLE_")
STATES = choices(room_pb2.RoomState, "ROOM_STATE_")
POLICIES = choices(room_pb2.JoinPolicy, "JOIN_POLICY_")

# ---- parsing ---------------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `1h30m`, `2d`; a bare number is seconds."""
    text = text.strip().lower()
    if text.isdigit():
        return timedelta(seconds=int(text))
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"not a duration: {text!r} (use forms like 90s, 15m, 1h30m, 2d)")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """ISO 8601 (`2026-11-24T09:00Z`, naive means UTC), `now`, or `+DURATION`."""
    now = now or datetime.now(UTC)
    text = text.strip()
    if text == "now":
        return now
    if text.startswith("+"):
        return now + parse_duration(text[1:])
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use ISO 8601 like 2026-11-24T09:00Z, now, or +2h)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Parsed(click.ParamType[V, Any]):
    def __init__(self, name: str, parse: Callable[[str], V]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> V:
        if not isinstance(value, str):
            return cast(V, value)
        try:
            return self._parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


TIME = _Parsed("time", parse_time)
DURATION = _Parsed("duration", parse_duration)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    return key, value


KEY_VALUE = _Parsed("key=value", _key_value)


def parse_etag(text: str) -> str:
    """The etag as `rooms show` prints it (`"3"`), or without its quotes (`3`)."""
    text = text.strip()
    if not text or (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
        return text
    return f'"{text}"'


ETAG = _Parsed("etag", parse_etag)

# ---- output ------------------------------------------------------------------------


def _enum(name: str, prefix: str) -> str:
    short = name.removeprefix(prefix).lower().replace("_", "-")
    return "-" if short == "unspecified" else short


def role_name(value: int) -> str:
    return _enum(participant_pb2.Role.Name(participant_pb2.Role.ValueType(value)), "ROLE_")


def state_name(value: int) -> str:
    return _enum(room_pb2.RoomState.Name(room_pb2.RoomState.ValueType(value)), "ROOM_STATE_")


def policy_name(value: int) -> str:
    name = room_pb2.JoinPolicy.Name(room_pb2.JoinPolicy.ValueType(value))
    return _enum(name, "JOIN_POLICY_") if value else "invite-only"


def capability_name(value: int) -> str:
    name = admission_pb2.Capability.Name(admission_pb2.Capability.ValueType(value))
    return _enum(name, "CAPABILITY_")


def reason_name(value: int) -> str:
    name = admission_pb2.JoinDecisionReason.Name(admission_pb2.JoinDecisionReason.ValueType(value))
    return _enum(name, "JOIN_DECISION_REASON_")


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


def room_fields(room: room_pb2.Room) -> list[tuple[str, str]]:
    metadata = ", ".join(f"{key}={room.metadata[key]}" for key in sorted(room.metadata))
    return [
        ("room_id", room.room_id),
        ("state", state_name(room.state)),
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
        ("etag", room.etag),
        ("created", format_time(room.create_time)),
        ("updated", format_time(room.update_time)),
    ]


ROOM_HEADERS = ("ROOM_ID", "STATE", "VALID_FROM", "VALID_UNTIL", "POLICY", "PARTICIPANTS")


def echo_room(room: room_pb2.Room, as_json_: bool) -> None:
    if as_json_:
        echo_json(as_json(room))
    else:
        echo_fields(room_fields(room))


def room_row(room: room_pb2.Room) -> list[str]:
    return [
        room.room_id,
        state_name(room.state),
        format_time(room.valid_from),
        format_time(room.valid_until),
        policy_name(room.join_policy),
        str(room.participant_count),
    ]


PARTICIPANT_HEADERS = ("USER_ID", "ROLE", "ADDED", "ROLE_CHANGED")


def participant_row(participant: participant_pb2.Participant) -> list[str]:
    return [
        participant.user_id,
        role_name(participant.role),
        format_time(participant.create_time),
        format_time(participant.update_time),
    ]


# ---- running -----------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """Where and how to reach the server, from the group's flags."""

    address: str
    api_key: str | None
    tls: bool
    tls_ca: str | None
    tls_cert: str | None
    tls_key: str | None
    tls_server_name: str | None
    timeout: float

    def client(self) -> RoomsClient:
        tls: TLS | bool = False
        if self.tls or self.tls_ca or self.tls_cert or self.tls_key:
            tls = TLS.from_files(
                self.tls_ca, self.tls_cert, self.tls_key, server_name=self.tls_server_name
            )
        return RoomsClient(self.address, api_key=self.api_key, tls=tls, timeout=self.timeout)

    def run(self, action: Callable[[RoomsClient], Awaitable[T]]) -> T:
        """Run `action` with a client; a failure is one line on stderr and exit 1."""

        async def main() -> T:
            async with self.client() as client:
                return await action(client)

        try:
            return asyncio.run(main())
        except RoomsError as error:
            click.echo(f"error: {error.one_line()}", err=True)
            raise click.exceptions.Exit(EXIT_ERROR) from None
        except ValueError as error:  # bad TLS material, a bad value caught by the client
            click.echo(f"error: {error}", err=True)
            raise click.exceptions.Exit(EXIT_ERROR) from None
        except OSError as error:  # an unreadable TLS file
            click.echo(f"error: {error}", err=True)
            raise click.exceptions.Exit(EXIT_ERROR) from None


async def collect(items: AsyncIterator[T], limit: int | None) -> list[T]:
    found: list[T] = []
    if limit is not None and limit <= 0:
        return found
    async for item in items:
        found.append(item)
        if limit is not None and len(found) >= limit:
            break
    return found


json_option = click.option("--json", "as_json_", is_flag=True, help="Print JSON for scripts.")
etag_option = click.option(
    "--etag",
    type=ETAG,
    default="",
    help="Only if the room's etag is still this, quoted as printed or not (else ETAG_MISMATCH).",
)
limit_option = click.option(
    "--limit", type=click.IntRange(min=0), default=None, help="At most this many [all]."
)
role_choice = click.Choice(ROLES, case_sensitive=False)
state_choice = click.Choice(STATES, case_sensitive=False)


class _OneLineErrors(click.Group):
    """The root command: a usage error is one line on stderr, like every other error."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            click.echo(f"error: {error.format_message()}{hint}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as error:
            click.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--address",
    envvar="ROOMS_ADDRESS",
    default=DEFAULT_ADDRESS,
    show_default=True,
    help="host:port of the server [env ROOMS_ADDRESS].",
)
@click.option("--api-key", envvar="ROOMS_API_KEY", help="API key [env ROOMS_API_KEY].")
@click.option("--tls", is_flag=True, help="Use TLS with the system's trusted roots.")
@click.option(
    "--tls-ca",
    envvar="ROOMS_TLS_CA",
    type=click.Path(dir_okay=False),
    help="CA certificate (PEM) to trust; implies TLS [env ROOMS_TLS_CA].",
)
@click.option(
    "--tls-cert",
    envvar="ROOMS_TLS_CERT",
    type=click.Path(dir_okay=False),
    help="Client certificate (PEM) for mutual TLS [env ROOMS_TLS_CERT].",
)
@click.option(
    "--tls-key",
    envvar="ROOMS_TLS_KEY",
    type=click.Path(dir_okay=False),
    help="Client private key (PEM) for mutual TLS [env ROOMS_TLS_KEY].",
)
@click.option(
    "--tls-server-name",
    envvar="ROOMS_TLS_SERVER_NAME",
    help="Name expected in the server's certificate, if not the address's host.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Deadline of each call, in seconds.",
)
@click.version_option(package_name="rooms-client", prog_name="rooms")
@click.pass_context
def cli(
    ctx: click.Context,
    address: str,
    api_key: str | None,
    tls: bool,
    tls_ca: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    tls_server_name: str | None,
    timeout: float,
) -> None:
    """Manage rooms and their participants, and ask who may join, on a rooms server."""
    ctx.obj = Connection(
        address, api_key or None, tls, tls_ca, tls_cert, tls_key, tls_server_name, timeout
    )
