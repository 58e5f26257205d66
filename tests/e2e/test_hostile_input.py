"""Hostile input on every RPC, sent as raw bytes from a client that is not ours.

Every RPC the server offers is found from the service descriptors (every service of
the `rooms.v1` package, plus health and reflection), so an RPC added later is covered
without touching this file. Each gets, through a generic channel call with identity
serializers: undecodable bodies, invalid UTF-8 in each of its string fields, unknown
fields, and every edge `Timestamp` in each of its timestamp fields; with a valid key
and without one. No call may answer UNKNOWN or INTERNAL, every error must carry an
`ErrorInfo`, the server must log no error, health must stay SERVING, and every read
of the tenant must still work afterwards.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import pkgutil
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import rooms.v1
from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import new_key
from tests.conftest import T0, ServerFactory
from tests.helpers import LoggedErrors, error_info, logged_errors

Code = grpc.StatusCode
NEVER = {Code.UNKNOWN, Code.INTERNAL, Code.DATA_LOSS}
# A stream that a valid request keeps open (WatchRoom, Health.Watch) is ended by this.
STREAM_DEADLINE = 0.5

UNDECODABLE = [
    b"\xff\xff",  # the repro: an invalid tag
    b"\x0a\xff\xff\xff\xff\x0f",  # field 1, a length far beyond the body
    b"\x0a\x05ab",  # field 1, a length beyond the body
    b"\x08",  # a varint tag with no value
    b"\x0b",  # a start-group tag with no end
    b"\x07\x00",  # wire type 7 does not exist
    bytes(range(256)),
]

# (seconds, nanos) of every edge a Timestamp may hold, legal or not.
EDGE_TIMESTAMPS = [
    (-62_135_596_800, 0),  # 0001-01-01T00:00:00Z: the smallest legal; asyncpg's -infinity
    (-62_135_596_799, 0),  # a second later
    (253_402_300_799, 999_999_999),  # 9999-12-31T23:59:59.999999999Z: the largest legal
    (253_402_300_799, 999_999_000),  # asyncpg's +infinity
    (253_402_214_400, 0),  # 9999-12-31T00:00:00Z
    (253_370_764_800, 0),  # 9999-01-01T00:00:00Z: the latest accepted
    (0, 0),  # 1970-01-01T00:00:00Z: the earliest accepted
    (-1, 999_999_999),  # just before it
    (0, -1),  # negative nanos
    (0, 1_000_000_000),  # nanos >= 1e9
    (-62_135_596_801, 0),  # before the smallest legal
    (253_402_300_800, 0),  # after the largest legal
    (2**63 - 1, 0),
    (-(2**63), 0),
]


# ---- every RPC, from the descriptors -------------------------------------------------


@dataclass(frozen=True)
class Rpc:
    path: str
    method: descriptor.MethodDescriptor

    @property
    def open(self) -> bool:
        """Health and reflection need no key (the default configuration)."""
        return self.path.startswith(("/grpc.health.", "/grpc.reflection."))

    def request(self) -> Message:
        return GetMessageClass(self.method.input_type)()


def every_rpc() -> list[Rpc]:
    services: list[Any] = [
        health_pb2.DESCRIPTOR.services_by_name["Health"],
        reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"],
    ]
    for module in pkgutil.iter_modules(rooms.v1.__path__):
        if module.name.endswith("_pb2"):
            loaded = importlib.import_module(f"rooms.v1.{module.name}")
            services += loaded.DESCRIPTOR.services_by_name.values()
    return [
        Rpc(f"/{service.full_name}/{method.name}", method)
        for service in services
        for method in service.methods
    ]


RPCS = every_rpc()


def _fields(
    message: descriptor.Descriptor, depth: int = 3
) -> Iterator[tuple[list[descriptor.FieldDescriptor], descriptor.FieldDescriptor]]:
    """(path of message fields, leaf field) for every non-map field up to `depth` deep."""
    for field in message.fields:
        yield [], field
        if (
            depth > 1
            and field.message_type is not None
            and not field.message_type.GetOptions().map_entry
            and field.message_type.full_name != "google.protobuf.Timestamp"
        ):
            for path, leaf in _fields(field.message_type, depth - 1):
                yield [field, *path], leaf


def _wire(path: list[descriptor.FieldDescriptor], payload: bytes) -> bytes:
    """`payload` (a complete field encoding) nested inside the messages of `path`."""
    for field in reversed(path):
        payload = _tag(field.number, 2) + _varint(len(payload)) + payload
    return payload


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def invalid_utf8_bodies(rpc: Rpc) -> list[bytes]:
    bodies = []
    for path, leaf in _fields(rpc.method.input_type):
        if leaf.type == descriptor.FieldDescriptor.TYPE_STRING:
            bodies.append(_wire(path, _tag(leaf.number, 2) + b"\x04a\xff\xfeb"))
    return bodies


def timestamp_bodies(rpc: Rpc, extra: Message | None = None) -> list[bytes]:
    """For every Timestamp field of the request, one body per edge value."""
    bodies = []
    prefix = extra.SerializeToString() if extra is not None else b""
    for path, leaf in _fields(rpc.method.input_type):
        if leaf.message_type is None or leaf.message_type.full_name != (
            "google.protobuf.Timestamp"
        ):
            continue
        for seconds, nanos in EDGE_TIMESTAMPS:
            value = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos).SerializeToString()
            bodies.append(prefix + _wire(path, _tag(leaf.number, 2) + _varint(len(value)) + value))
    return bodies


UNKNOWN_FIELDS = _tag(1000, 0) + _varint(7) + _tag(1001, 2) + b"\x03abc"


# ---- calling ------------------------------------------------------------------------


@dataclass
class Outcome:
    code: Code
    info: error_details_pb2.ErrorInfo | None
    details: str


async def call(
    channel: grpc.aio.Channel, rpc: Rpc, body: bytes, metadata: tuple[tuple[str, str], ...]
) -> Outcome:
    """Send `body` as the request of `rpc`; read the whole answer."""
    streaming_out = rpc.method.server_streaming
    try:
        if rpc.method.client_streaming:
            multi: Any = channel.stream_stream(rpc.path)
            stream = multi(iter([body]), metadata=metadata, timeout=STREAM_DEADLINE)
            async for _ in stream:
                pass
        elif streaming_out:
            streaming: Any = channel.unary_stream(rpc.path)
            async for _ in streaming(body, metadata=metadata, timeout=STREAM_DEADLINE):
                pass
        else:
            unary: Any = channel.unary_unary(rpc.path)
            await unary(body, metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        return Outcome(error.code(), error_info(error), error.details() or "")
    return Outcome(Code.OK, None, "")


def check(rpc: Rpc, outcome: Outcome, what: str) -> None:
    where = f"{rpc.path} ({what}): {outcome.code.name} {outcome.details[:200]}"
    assert outcome.code not in NEVER, where
    if outcome.code in (Code.OK, Code.DEADLINE_EXCEEDED, Code.UNIMPLEMENTED):
        # DEADLINE_EXCEEDED: a stream that a valid request keeps open. UNIMPLEMENTED:
        # Health.List, which grpcio-health-checking's aio servicer does not implement.
        return
    assert outcome.info is not None, f"no ErrorInfo: {where}"
    assert outcome.info.domain == "rooms.v1", where


# ---- the server under attack ---------------------------------------------------------


@dataclass
class Target:
    channel: grpc.aio.Channel
    auth: tuple[tuple[str, str], ...]
    room_id: str
    port: int


@pytest.fixture(scope="module")
async def target(start: ServerFactory) -> AsyncIterator[Target]:
    key, entry = new_key(f"hostile-{uuid.uuid4().hex[:8]}", "k1")
    running = await start(api_keys=entry.line(), health_check_interval_seconds=2)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        auth = (("authorization", f"Bearer {key}"),)
        room = await channel.unary_unary(
            "/rooms.v1.RoomsService/CreateRoom",
            request_serializer=rs.CreateRoomRequest.SerializeToString,
            response_deserializer=room_pb2.Room.FromString,
        )(
            rs.CreateRoomRequest(
                room_id=f"target-{uuid.uuid4().hex[:8]}",
                participants=[{"user_id": "alice"}],  # type: ignore[list-item]
            ),
            metadata=auth,
        )
        yield Target(channel, auth, room.room_id, running.port)
    await running.stop(0)


@pytest.fixture
def server_errors() -> Iterator[LoggedErrors]:
    with logged_errors("service", "grpc", "rooms") as handler:
        yield handler


def test_every_rpc_is_discovered() -> None:
    paths = {rpc.path for rpc in RPCS}
    assert "/rooms.v1.RoomsService/GetRoom" in paths
    assert "/rooms.v1.ParticipantsService/ListRoomsForParticipant" in paths
    assert "/grpc.health.v1.Health/Watch" in paths
    assert len(paths) >= 17


@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.path)
async def test_an_undecodable_body_is_invalid_argument_naming_the_method(
    target: Target, rpc: Rpc, server_errors: LoggedErrors
) -> None:
    for body in UNDECODABLE:
        outcome = await call(target.channel, rpc, body, target.auth)
        check(rpc, outcome, f"body {body[:8]!r}")
        assert outcome.code == Code.INVALID_ARGUMENT, outcome
        assert outcome.info is not None
        assert outcome.info.reason == "INVALID_ARGUMENT"
        assert dict(outcome.info.metadata) == {"method": rpc.path}
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.path)
async def test_without_a_key_an_undecodable_body_is_unauthenticated(
    target: Target, rpc: Rpc, server_errors: LoggedErrors
) -> None:
    for auth in ((), (("authorization", "Bearer not-a-key"),)):
        outcome = await call(target.channel, rpc, b"\xff\xff", auth)
        check(rpc, outcome, "no key")
        expected = Code.INVALID_ARGUMENT if rpc.open else Code.UNAUTHENTICATED
        assert outcome.code == expected, outcome
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.path)
async def test_invalid_utf8_unknown_fields_and_edge_timestamps(
    target: Target, rpc: Rpc, server_errors: LoggedErrors
) -> None:
    for body in invalid_utf8_bodies(rpc):
        outcome = await call(target.channel, rpc, body, target.auth)
        check(rpc, outcome, f"invalid UTF-8 {body!r}")
        assert outcome.code == Code.INVALID_ARGUMENT, outcome
    outcome = await call(target.channel, rpc, UNKNOWN_FIELDS, target.auth)
    check(rpc, outcome, "unknown fields")
    for body in timestamp_bodies(rpc):
        check(rpc, await call(target.channel, rpc, body, target.auth), f"timestamp {body!r}")
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


async def test_edge_timestamps_in_real_writes(target: Target, server_errors: LoggedErrors) -> None:
    """The timestamps reach the rules and the database: a create and an update of a
    real room, with every edge value in each window field."""
    by_path = {rpc.path: rpc for rpc in RPCS}
    create = by_path["/rooms.v1.RoomsService/CreateRoom"]
    update = by_path["/rooms.v1.RoomsService/UpdateRoom"]
    outcomes = []
    for body in timestamp_bodies(create):
        outcomes.append(await call(target.channel, create, body, target.auth))
    mask = rs.UpdateRoomRequest(room=room_pb2.Room(room_id=target.room_id))
    mask.update_mask.paths.extend(["valid_from", "valid_until"])
    for body in timestamp_bodies(update, mask):
        outcomes.append(await call(target.channel, update, body, target.auth))
    for outcome in outcomes:
        check(create, outcome, "edge timestamp")
        assert outcome.code in (Code.OK, Code.INVALID_ARGUMENT), outcome
    # The repro: valid_from = 0001-01-01T00:00:00Z names the field.
    repro = rs.CreateRoomRequest(
        room=room_pb2.Room(valid_from=timestamp_pb2.Timestamp(seconds=-62_135_596_800))
    )
    outcome = await call(target.channel, create, repro.SerializeToString(), target.auth)
    assert outcome.code == Code.INVALID_ARGUMENT and outcome.info is not None, outcome
    assert outcome.info.metadata["field"] == "room.valid_from"
    assert "1970-01-01T00:00:00Z" in outcome.details
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


GRPCURL = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")


async def grpcurl(target: Target, method: str, body: str) -> tuple[int, str]:
    """grpcurl (a client that is not ours, learning the API through reflection)."""
    assert GRPCURL is not None
    process = await asyncio.create_subprocess_exec(
        GRPCURL,
        "-plaintext",
        "-format-error",
        "-H",
        f"{target.auth[0][0]}: {target.auth[0][1]}",
        "-d",
        body,
        f"127.0.0.1:{target.port}",
        method,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


@pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed (make venv installs it)")
@pytest.mark.parametrize(
    "instant",
    ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "9999-01-01T00:00:00Z"],
)
async def test_grpcurl_edge_timestamps_are_named_and_leave_the_tenant_readable(
    target: Target, instant: str
) -> None:
    for field in ("validFrom", "validUntil"):
        status, output = await grpcurl(
            target, "rooms.v1.RoomsService/CreateRoom", json.dumps({"room": {field: instant}})
        )
        assert status != 0, output
        assert '"code": 3' in output, output  # INVALID_ARGUMENT
        assert "google.rpc.ErrorInfo" in output, output
        assert f"room.{field[:5]}_{field[5:].lower()}" in output, output
    status, output = await grpcurl(target, "rooms.v1.RoomsService/ListRooms", "{}")
    assert status == 0, output


async def test_afterwards_health_is_serving_and_every_read_of_the_tenant_works(
    target: Target,
) -> None:
    """Runs after the attacks above (file order)."""
    health: Any = health_pb2_grpc.HealthStub(target.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    await assert_tenant_reads(target.channel, target.auth)


async def assert_tenant_reads(
    channel: grpc.aio.Channel, auth: tuple[tuple[str, str], ...]
) -> list[str]:
    """ListRooms (every page), then for every room GetRoom, AuthorizeJoin,
    ListRoomEvents and ListParticipants, and ListRoomsForParticipant of each identity;
    every one must answer OK. The ids of the rooms."""
    from rooms.v1 import participants_service_pb2_grpc, rooms_service_pb2_grpc

    rooms_stub: Any = rooms_service_pb2_grpc.RoomsServiceStub(channel)
    people: Any = participants_service_pb2_grpc.ParticipantsServiceStub(channel)
    room_ids: list[str] = []
    token = ""
    while True:
        page = await rooms_stub.ListRooms(
            rs.ListRoomsRequest(page_size=100, page_token=token), metadata=auth
        )
        room_ids += [room.room_id for room in page.rooms]
        token = page.next_page_token
        if not token:
            break
    users = {"alice"}
    for room_id in room_ids:
        await rooms_stub.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=auth)
        await rooms_stub.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="alice"), metadata=auth
        )
        await rooms_stub.ListRoomEvents(rs.ListRoomEventsRequest(room_id=room_id), metadata=auth)
        roster = await people.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id), metadata=auth
        )
        users |= {p.user_id for p in roster.participants}
    for user_id in sorted(users):
        await people.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id), metadata=auth
        )
    return room_ids


async def test_rows_stored_as_infinity_are_read(
    target: Target, pool: asyncpg.Pool, server_errors: LoggedErrors
) -> None:
    """A room written before the range existed, with -infinity / infinity in its window
    and an opened event at -infinity, reads like one at the ends of the range."""
    tenant = await pool.fetchval("SELECT tenant FROM rooms WHERE room_id = $1", target.room_id)
    room_id = f"infinite-{uuid.uuid4().hex[:8]}"
    # Such rows can no longer be written: lift the constraints for this one.
    await pool.execute(
        """ALTER TABLE rooms DROP CONSTRAINT rooms_valid_from_finite_check,
               DROP CONSTRAINT rooms_valid_until_finite_check"""
    )
    await pool.execute(
        """INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
               valid_until, event_seq)
           VALUES ($1, $2, $3, $3, '-infinity', 'infinity', 2)""",
        tenant,
        room_id,
        T0 - timedelta(days=1),
    )
    await pool.execute(
        """INSERT INTO participants (tenant, room_id, user_id, role, create_time, update_time)
           VALUES ($1, $2, 'alice', 'presenter', '-infinity', 'infinity')""",
        tenant,
        room_id,
    )
    await pool.execute(
        """INSERT INTO room_events (tenant, room_id, revision, event_time, record_time,
               type, actor, data)
           VALUES ($1, $2, 1, $3, $3, 'created', 'k1', $4::jsonb),
                  ($1, $2, 2, '-infinity', $3, 'opened', 'system', '{}')""",
        tenant,
        room_id,
        T0 - timedelta(days=1),
        {
            "settings": {
                # What the created event of such a room held: naive datetime.min / max.
                "valid_from": "0001-01-01T00:00:00",
                "valid_until": "9999-12-31T23:59:59.999999",
                "pstn_dial_out_enabled": False,
                "join_policy": "invite_only",
                "metadata": {},
                "open_join_role": "attendee",
                "early_entry_seconds": 0,
            }
        },
    )
    try:
        assert room_id in await assert_tenant_reads(target.channel, target.auth)
        room = await target.channel.unary_unary(
            "/rooms.v1.RoomsService/GetRoom",
            request_serializer=rs.GetRoomRequest.SerializeToString,
            response_deserializer=room_pb2.Room.FromString,
        )(rs.GetRoomRequest(room_id=room_id), metadata=target.auth)
        assert room.valid_from.ToJsonString() == "1970-01-01T00:00:00Z"
        assert room.valid_until.ToJsonString() == "9999-01-01T00:00:00Z"
    finally:
        await pool.execute("DELETE FROM rooms WHERE room_id = $1", room_id)
        await pool.execute(
            """ALTER TABLE rooms
                   ADD CONSTRAINT rooms_valid_from_finite_check CHECK (isfinite(valid_from)),
                   ADD CONSTRAINT rooms_valid_until_finite_check CHECK (isfinite(valid_until))"""
        )
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]
