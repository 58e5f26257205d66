"""`rooms`: the rooms.v1 API from the command line, for people.

    rooms create --id visit-42 --from 2026-11-24T09:00Z --until 2026-11-24T10:00Z \\
        --presenter dr-house --attendee patient-7
    rooms show visit-42
    rooms list --state open
    rooms participants add visit-42 nurse-1 --role collaborator
    rooms authorize visit-42 patient-7

Tables by default, `--json` for scripts. The address, the TLS files and the API key
come from flags or from ROOMS_ADDRESS, ROOMS_TLS_CA, ROOMS_TLS_CERT, ROOMS_TLS_KEY and
ROOMS_API_KEY. A failure prints one line, `error: REASON (CODE): message [details]`,
on stderr and exits with status 1; a usage error prints one line `error: ...` and
exits with status 2; `rooms authorize` exits with status 3 when the join is refused.
Shell completion: `eval "$(_ROOMS_COMPLETE=bash_source rooms)"` (zsh_source, fish_source).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from rooms.events import describe_event
from rooms.v1 import (
    admission_pb2,
    participant_pb2,
    participants_service_pb2,
    room_pb2,
    rooms_service_pb2,
    waiting_room_pb2,
)

T = TypeVar("T")
V = TypeVar("V")

EXIT_ERROR = 1  # the server or the connection answered with an error
EXIT_USAGE = 2  # bad flags or arguments (click's own convention)
EXIT_REFUSED = 3  # `rooms authorize`: the answer is that the join is refused


def _choices(enum: Any, prefix: str) -> tuple[str, ...]:
    """The names a flag accepts, read from the protos' enum (so new values need no edit)."""
    return tuple(
        value.name.removeprefix(prefix).lower().replace("_", "-")
        for value in enum.DESCRIPTOR.values
        if value.number != 0
    )


ROLES = _choices(participant_pb2.Role, "ROLE_")
STATES = _choices(room_pb2.RoomState, "ROOM_STATE_")
POLICIES = _choices(room_pb2.JoinPolicy, "JOIN_POLICY_")

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


async def _collect(items: AsyncIterator[T], limit: int | None) -> list[T]:
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


# ---- rooms -------------------------------------------------------------------------


@cli.command()
@click.option("--id", "room_id", default="", help="The room's id [generated by the server].")
@click.option("--from", "valid_from", type=TIME, help="Opens at (ISO 8601, now, +2h) [now].")
@click.option("--until", "valid_until", type=TIME, help="Ends at [the server's default window].")
@click.option(
    "--policy",
    type=click.Choice(POLICIES, case_sensitive=False),
    default="invite-only",
    show_default=True,
    help="Who may join: the roster only, or anyone.",
)
@click.option("--open-role", type=role_choice, help="Role of non-rostered joiners [attendee].")
@click.option("--early-entry", type=DURATION, help="Presenters may join this early (15m).")
@click.option("--dial-out", is_flag=True, help="Allow presenters to dial out to phones.")
@click.option("--meta", type=KEY_VALUE, multiple=True, help="Metadata KEY=VALUE (repeatable).")
@click.option("--presenter", multiple=True, help="A presenter (repeatable).")
@click.option("--attendee", multiple=True, help="An attendee (repeatable).")
@click.option("--consumer", multiple=True, help="A consumer (repeatable).")
@click.option("--collaborator", multiple=True, help="A collaborator (repeatable).")
@click.option("--waiting-room", is_flag=True, help="Guests wait until a host admits them.")
@click.option(
    "--max-participants",
    type=click.IntRange(min=0),
    default=0,
    help="Most seats at once [0: the server's ceiling].",
)
@click.option("--reserve", type=KEY_VALUE, multiple=True, help="Seats reserved for a role: ROLE=N.")
@click.option("--role-max", type=KEY_VALUE, multiple=True, help="Most seats for a role: ROLE=N.")
@click.option("--request-id", help="Idempotency key [a new UUID].")
@json_option
@click.pass_obj
def create(
    connection: Connection,
    room_id: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    policy: str,
    open_role: str | None,
    early_entry: timedelta | None,
    dial_out: bool,
    meta: tuple[tuple[str, str], ...],
    presenter: tuple[str, ...],
    attendee: tuple[str, ...],
    consumer: tuple[str, ...],
    collaborator: tuple[str, ...],
    waiting_room: bool,
    max_participants: int,
    reserve: tuple[tuple[str, str], ...],
    role_max: tuple[tuple[str, str], ...],
    request_id: str | None,
    as_json_: bool,
) -> None:
    """Create a room, optionally with its first participants."""
    capacity = _role_capacity(reserve, role_max)
    roster = [
        participant_pb2.Participant(user_id=user_id, role=participant_pb2.Role.Value(role))
        for role, users in (
            ("ROLE_PRESENTER", presenter),
            ("ROLE_ATTENDEE", attendee),
            ("ROLE_CONSUMER", consumer),
            ("ROLE_COLLABORATOR", collaborator),
        )
        for user_id in users
    ]
    room = connection.run(
        lambda client: client.create_room(
            room_id=room_id,
            valid_from=valid_from,
            valid_until=valid_until,
            join_policy=policy,
            open_join_role=open_role or 0,
            early_entry=early_entry,
            pstn_dial_out_enabled=dial_out,
            metadata=dict(meta),
            participants=roster,
            waiting_room_enabled=waiting_room,
            max_participants=max_participants,
            role_capacity=capacity,
            request_id=request_id,
        )
    )
    echo_room(room, as_json_)


def _role_capacity(
    reserve: Sequence[tuple[str, str]], role_max: Sequence[tuple[str, str]]
) -> dict[str, tuple[int, int]]:
    """`--reserve ROLE=N` and `--role-max ROLE=N` as `{role: (max, reserved)}`."""
    numbers: dict[str, list[int]] = {}
    for index, given in ((1, reserve), (0, role_max)):
        for role, text in given:
            if role.lower() not in ROLES:
                raise click.BadParameter(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
            try:
                numbers.setdefault(role.lower(), [0, 0])[index] = int(text)
            except ValueError:
                raise click.BadParameter(f"{role}={text}: not a whole number") from None
    return {role: (most, reserved) for role, (most, reserved) in numbers.items()}


@cli.command()
@click.argument("room_id")
@json_option
@click.pass_obj
def show(connection: Connection, room_id: str, as_json_: bool) -> None:
    """Show one room."""
    room = connection.run(lambda client: client.get_room(room_id))
    echo_room(room, as_json_)


@cli.command("list")
@click.option("--state", type=state_choice, help="Only rooms in this state now.")
@click.option("--user", help="Only the rooms whose roster holds this identity (with its role).")
@limit_option
@json_option
@click.pass_obj
def list_(
    connection: Connection,
    state: str | None,
    user: str | None,
    limit: int | None,
    as_json_: bool,
) -> None:
    """List rooms, newest first; with --user, that identity's rooms, soonest first."""
    page_size = limit or 0  # the server caps it
    if user is None:
        rooms = connection.run(
            lambda client: _collect(client.list_rooms(state=state, page_size=page_size), limit)
        )
        if as_json_:
            echo_json([as_json(room) for room in rooms])
        else:
            echo_table(ROOM_HEADERS, (room_row(room) for room in rooms))
        return
    memberships = connection.run(
        lambda client: _collect(
            client.list_rooms_for_participant(user, state=state, page_size=page_size), limit
        )
    )
    if as_json_:
        echo_json([as_json(membership) for membership in memberships])
    else:
        echo_table(
            (*ROOM_HEADERS, "ROLE"),
            ([*room_row(m.room), role_name(m.role)] for m in memberships),
        )


@cli.command()
@click.argument("room_id")
@click.option("--from", "valid_from", type=TIME, help="New opening time.")
@click.option("--until", "valid_until", type=TIME, help="New end time.")
@click.option("--policy", type=click.Choice(POLICIES, case_sensitive=False), help="Join policy.")
@click.option("--open-role", type=role_choice, help="Role of non-rostered joiners.")
@click.option("--early-entry", type=DURATION, help="Early entry for presenters (0 for none).")
@click.option("--dial-out/--no-dial-out", default=None, help="Allow dialing out to phones.")
@click.option("--meta", type=KEY_VALUE, multiple=True, help="Replace the metadata (repeatable).")
@click.option("--clear-meta", is_flag=True, help="Remove every metadata entry.")
@etag_option
@json_option
@click.pass_obj
def update(
    connection: Connection,
    room_id: str,
    valid_from: datetime | None,
    valid_until: datetime | None,
    policy: str | None,
    open_role: str | None,
    early_entry: timedelta | None,
    dial_out: bool | None,
    meta: tuple[tuple[str, str], ...],
    clear_meta: bool,
    etag: str,
    as_json_: bool,
) -> None:
    """Change a room's settings; only the options given change."""
    if meta and clear_meta:
        raise click.UsageError("--meta and --clear-meta exclude each other")
    metadata = dict(meta) if meta or clear_meta else None
    changes = (valid_from, valid_until, policy, open_role, early_entry, dial_out, metadata)
    if all(change is None for change in changes):
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    room = connection.run(
        lambda client: client.update_room(
            room_id,
            valid_from=valid_from,
            valid_until=valid_until,
            join_policy=policy,
            open_join_role=open_role,
            early_entry=early_entry,
            pstn_dial_out_enabled=dial_out,
            metadata=metadata,
            etag=etag,
        )
    )
    echo_room(room, as_json_)


@cli.command()
@click.argument("room_id")
@etag_option
@json_option
@click.pass_obj
def delete(connection: Connection, room_id: str, etag: str, as_json_: bool) -> None:
    """Delete a room and its roster."""
    connection.run(lambda client: client.delete_room(room_id, etag=etag))
    if as_json_:
        echo_json({"roomId": room_id, "deleted": True})
    else:
        click.echo(f"deleted {room_id}")


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
    found = connection.run(
        lambda client: _collect(client.list_room_events(room_id, newest_first=newest_first), limit)
    )
    if as_json_:
        echo_json([as_json(event) for event in found])
    else:
        for event in found:
            click.echo(describe_event(event))


# ---- waiting room and seats -------------------------------------------------------

KNOCK_STATES = _choices(waiting_room_pb2.KnockState, "KNOCK_STATE_")


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
        lambda client: _collect(client.list_knocks(room_id, state=None if every else state), limit)
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
    found = connection.run(lambda client: _collect(client.list_seats(room_id), limit))
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
        lambda client: _collect(
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


def main() -> None:
    """The `rooms` console script."""
    cli(prog_name="rooms")


if __name__ == "__main__":
    main()
