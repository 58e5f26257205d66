"""The one home of the tests' small helpers: ids and times, API keys on a call, a
server's stubs, rich gRPC errors, rooms and rosters over the raw stubs, every page of a
listing, a held row lock, waiting for a condition, and grpcurl. Server processes are in
tests/processes.py, webhook receivers in tests/receivers.py, the `rooms` CLI run
in-process in tests/cli.py."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, cast

import asyncpg
import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from rooms.errors import StatusDetails, status_details
from rooms.v1 import (
    participant_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.conftest import T0

if TYPE_CHECKING:  # the async stubs exist only in the generated .pyi files
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub
    from rooms.v1.webhooks_service_pb2_grpc import WebhooksServiceAsyncStub

# The async stubs by short names, for annotations (plain strings at run time).
Rooms: TypeAlias = "RoomsServiceAsyncStub"
People: TypeAlias = "ParticipantsServiceAsyncStub"
Webhooks: TypeAlias = "WebhooksServiceAsyncStub"

Metadata = tuple[tuple[str, str], ...]

# ---- ids and times -------------------------------------------------------------------


def unique(prefix: str) -> str:
    """An id no other test (or run) uses: `prefix-` and 12 hex digits."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def ts(delta: timedelta = timedelta(0)) -> timestamp_pb2.Timestamp:
    """The tests' fixed instant T0 moved by `delta`, as a protobuf Timestamp."""
    return timestamp(T0 + delta)


def duration(value: timedelta) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromTimedelta(value)
    return message


def iso(delta: timedelta = timedelta(0)) -> str:
    """T0 moved by `delta` as the CLI prints times (`2026-06-01T12:00:00Z`)."""
    return (T0 + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def bearer(key: str) -> Metadata:
    """The call metadata that authenticates with the API key `key`."""
    return (("authorization", f"Bearer {key}"),)


# ---- a server's stubs ------------------------------------------------------------------


@dataclass(frozen=True)
class Stubs:
    """The raw async stubs over one plaintext channel to a server."""

    channel: grpc.aio.Channel
    rooms: Rooms
    participants: People
    webhooks: Webhooks


@contextlib.asynccontextmanager
async def connect(port: int, *, options: Sequence[tuple[str, Any]] = ()) -> AsyncIterator[Stubs]:
    """A plaintext channel (with gRPC `options`) to the server on 127.0.0.1:`port` and
    its stubs; the channel closes on leaving."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=list(options)) as channel:
        yield Stubs(
            channel,
            rooms_service_pb2_grpc.RoomsServiceStub(channel),
            participants_service_pb2_grpc.ParticipantsServiceStub(channel),
            webhooks_service_pb2_grpc.WebhooksServiceStub(channel),
        )


# ---- rich errors ---------------------------------------------------------------------


@dataclass
class RichError:
    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    metadata: dict[str, str]
    fields: list[str]
    preconditions: list[error_details_pb2.PreconditionFailure.Violation]
    request_id: str
    retry_delay_seconds: float | None


def status_of(error: grpc.aio.AioRpcError) -> tuple[status_pb2.Status, StatusDetails]:
    """The google.rpc.Status of a failed call and its details unpacked. Fails the test
    if absent."""
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, f"no google.rpc.Status details on {error.code()}: {error.details()}"
    return status, status_details(status)


def rich_error(error: grpc.aio.AioRpcError) -> RichError:
    """The google.rpc.Status details of a failed call. Fails the test if absent."""
    status, details = status_of(error)
    info, bad_request, precondition = details.info, details.bad_request, details.precondition
    assert details.has_info, "every error must carry an ErrorInfo"
    assert details.request_info.request_id, "every error must carry its request id"
    return RichError(
        code=error.code(),
        message=status.message,
        reason=info.reason,
        domain=info.domain,
        metadata=dict(info.metadata),
        fields=[v.field for v in bad_request.field_violations],
        preconditions=list(precondition.violations),
        request_id=details.request_info.request_id,
        retry_delay_seconds=(
            details.retry_info.retry_delay.ToTimedelta().total_seconds()
            if details.retry_info is not None
            else None
        ),
    )


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo of a failed call, or None if it carries none (for tests that
    check that hostile input never goes without one)."""
    status = rpc_status.from_call(cast(grpc.Call, error))
    if status is None:
        return None
    details = status_details(status)
    return details.info if details.has_info else None


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode, reason: str) -> RichError:
    """Await a call that must fail with `code` and ErrorInfo `reason`."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = rich_error(caught.value)
    assert (error.code, error.reason) == (code, reason), error
    assert error.domain == "rooms.v1"
    return error


class LoggedErrors(logging.Handler):
    """The records logged at ERROR or above while attached (see `logged_errors`)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def logged_errors(*loggers: str) -> Iterator[LoggedErrors]:
    """Collect what the named loggers (and their children) log at ERROR or above."""
    handler = LoggedErrors()
    for name in loggers:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler
    finally:
        for name in loggers:
            logging.getLogger(name).removeHandler(handler)


# ---- rooms, rosters and listings over the raw stubs -----------------------------------


def person(
    user_id: str, role: participant_pb2.Role.ValueType = participant_pb2.ROLE_UNSPECIFIED
) -> participant_pb2.Participant:
    return participant_pb2.Participant(user_id=user_id, role=role)


def window(start: timedelta, end: timedelta, **settings: Any) -> room_pb2.Room:
    """A `Room` valid from T0+start until T0+end, with any other fields by keyword."""
    return room_pb2.Room(valid_from=ts(start), valid_until=ts(end), **settings)


async def make_room(
    rooms: Rooms,
    members: Sequence[participant_pb2.Participant] = (),
    *,
    start: timedelta = timedelta(0),
    end: timedelta = timedelta(days=1),
    **settings: Any,
) -> room_pb2.Room:
    """A room with a unique id, the window T0+start .. T0+end, an initial roster and
    any other `Room` fields by keyword."""
    room: room_pb2.Room = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=unique("room"), room=window(start, end, **settings), participants=list(members)
        )
    )
    return room


class Page(Protocol):
    @property
    def next_page_token(self) -> str: ...


P = TypeVar("P", bound=Page)


async def every_page(fetch: Callable[[str], Awaitable[P]], *, at_most: int = 100) -> list[P]:
    """Every page of a listing: `fetch(page_token)` from the first page until one has no
    `next_page_token`. Fails the test if paging does not end within `at_most` pages."""
    pages: list[P] = []
    token = ""
    while True:
        page = await fetch(token)
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages
        assert len(pages) < at_most, "paging does not end"


# ---- held locks --------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def room_row_locked(pool: asyncpg.Pool, room_id: str) -> AsyncIterator[None]:
    """Hold a room's row lock, so a roster change of that room stays in flight."""
    connection = await pool.acquire()
    transaction = connection.transaction()
    await transaction.start()
    try:
        # Tenant first, as every statement of the service: Citus locks rows of one shard.
        tenant = await connection.fetchval("SELECT tenant FROM rooms WHERE room_id = $1", room_id)
        await connection.execute(
            "SELECT 1 FROM rooms WHERE tenant = $1 AND room_id = $2 FOR UPDATE", tenant, room_id
        )
        yield
    finally:
        await transaction.rollback()
        await pool.release(connection)


@contextlib.asynccontextmanager
async def roster_change_in_flight(
    pool: asyncpg.Pool, roster: People, room_id: str
) -> AsyncIterator[asyncio.Future[ps.AddOrUpdateParticipantsResponse]]:
    """AddOrUpdateParticipants of "late" into the room, held in flight by the room's row
    lock: the call, once PostgreSQL shows it waiting for the lock (released on leaving)."""
    async with room_row_locked(pool, room_id):
        in_flight = asyncio.ensure_future(
            roster.AddOrUpdateParticipants(
                ps.AddOrUpdateParticipantsRequest(
                    room_id=room_id, participants=[participant_pb2.Participant(user_id="late")]
                )
            )
        )
        await eventually(lambda: waiting_for_a_lock(pool), what="the call waiting")
        yield in_flight


# ---- waiting for a condition -------------------------------------------------------------


async def eventually(
    condition: Callable[[], Awaitable[bool] | bool],
    *,
    within: float = 20.0,
    what: str = "the condition",
) -> None:
    """Poll `condition` (plain or async) until it holds, failing the test after
    `within` seconds. The test waits for a state it can observe, never for a length of
    time; the deadline only bounds a hang."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within

    async def holds() -> bool:
        result = condition()
        return await result if inspect.isawaitable(result) else result

    while not await holds():
        assert loop.time() < deadline, f"{what} did not happen within {within} s"
        await asyncio.sleep(0.01)


async def lock_waiters(pool: asyncpg.Pool, query_like: str = "%") -> int:
    """How many statements (their text LIKE `query_like`) of this database wait for a
    lock. On a Citus cluster they wait on the worker that holds the row, so every
    node's activity is looked at there (citus_stat_activity)."""
    on_citus = await pool.fetchval("SELECT to_regclass('citus_stat_activity') IS NOT NULL")
    activity = "citus_stat_activity" if on_citus else "pg_stat_activity"
    waiting: int = await pool.fetchval(
        f"""SELECT count(*) FROM {activity}
           WHERE wait_event_type = 'Lock' AND datname = current_database()
             AND query LIKE $1""",
        query_like,
    )
    return waiting


async def waiting_for_a_lock(pool: asyncpg.Pool, query_like: str = "%") -> bool:
    """Whether a statement (its text LIKE `query_like`) of this database is waiting
    for a lock: a call held by `room_row_locked` has reached PostgreSQL."""
    return await lock_waiters(pool, query_like) > 0


def subscribed(hub: Any, tenant: str, room_id: str) -> Callable[[], Awaitable[bool]]:
    """A condition for `eventually`: some WatchRoom of the room has subscribed to the
    server's change notifications (so it will see what is written next)."""

    async def check() -> bool:
        return (tenant, room_id) in hub._subscribers

    return check


# ---- grpcurl: a client that is not ours -------------------------------------------------

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")


async def grpcurl(port: int, metadata: Metadata, method: str, body: str) -> tuple[int, str]:
    """grpcurl (a client that is not ours, learning the API through reflection) calls
    `method` of the server on `port` with the JSON `body`: its exit status and output."""
    assert GRPCURL is not None
    headers = [arg for key, value in metadata for arg in ("-H", f"{key}: {value}")]
    process = await asyncio.create_subprocess_exec(
        GRPCURL,
        "-plaintext",
        "-format-error",
        *headers,
        "-d",
        body,
        f"127.0.0.1:{port}",
        method,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()
