"""Calling a server from tests: ids and times, API keys on a call, a server's stubs,
rooms and rosters over the raw stubs, every page of a listing, and grpcurl (a client
that is not ours). Rich errors are in errors.py, waiting for a condition or a lock in
waiting.py, server processes in processes.py, webhook receivers in receivers.py."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import grpc
from google.protobuf import duration_pb2, timestamp_pb2
from rooms.v1 import (
    participant_pb2,
    participants_service_pb2_grpc,
    room_pb2,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)
from rooms.v1 import rooms_service_pb2 as rs

from tests.conftest import T0
from tests.shared.commands import run

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


# ---- grpcurl: a client that is not ours -------------------------------------------------

GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")


async def grpcurl(port: int, metadata: Metadata, method: str, body: str) -> tuple[int, str]:
    """grpcurl (a client that is not ours, learning the API through reflection) calls
    `method` of the server on `port` with the JSON `body`: its exit status and output."""
    assert GRPCURL is not None
    headers = [arg for key, value in metadata for arg in ("-H", f"{key}: {value}")]
    return await run(
        GRPCURL, "-plaintext", "-format-error", *headers, "-d", body, f"127.0.0.1:{port}", method
    )


async def grpcurl_refused(
    port: int, metadata: Metadata, cases: Sequence[tuple[str, object, int, str]]
) -> None:
    """Each case `(method, body, code, named)` through grpcurl: refused with status
    `code`, a rooms.v1 ErrorInfo in the output, and `named` (a field or a reason) in it."""
    for method, body, code, named in cases:
        status, output = await grpcurl(port, metadata, method, json.dumps(body))
        assert status != 0, (method, output[:500])
        assert f'"code": {code}' in output, (method, output[:500])
        assert "google.rpc.ErrorInfo" in output and '"domain":"rooms.v1"' in output, output[:500]
        assert named in output, (method, output[:500])
