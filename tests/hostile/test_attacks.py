"""Hostile input on every RPC, sent as raw bytes from a client that is not ours, with
a valid key and without one. No call may answer UNKNOWN or INTERNAL, every error must
carry an `ErrorInfo`, and the server must log no error."""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.hostile.bodies import (
    RPCS,
    UNDECODABLE,
    UNKNOWN_FIELDS,
    Rpc,
    invalid_utf8_bodies,
    timestamp_bodies,
)
from tests.hostile.calling import Code, Target, call, check
from tests.shared.errors import LoggedErrors


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
