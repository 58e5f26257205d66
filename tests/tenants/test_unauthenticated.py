"""Calls without a known key are UNAUTHENTICATED on every RPC, with one message for
all, while health stays callable without one."""

from __future__ import annotations

from typing import Any, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import (
    participant_pb2,
)
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import hash_key
from tests.shared.calls import bearer, unique
from tests.shared.errors import expect_error
from tests.tenants.calls import SERVICES, every_rpc, raw_calls
from tests.tenants.observe import Tenant, Tenants, snapshot


def test_the_typed_calls_name_the_rpcs_of_both_services() -> None:
    """The twelve RPCs above exist in the protos (the raw calls below cover every
    declared RPC, including any added later)."""
    declared = {method.name for service in SERVICES for method in service.methods}
    assert set(every_rpc(Tenant("x", (), cast(Any, None), cast(Any, None)), (), "x")) <= declared
    assert len(every_rpc(Tenant("x", (), cast(Any, None), cast(Any, None)), (), "x")) == 12


async def test_no_key_or_a_wrong_key_is_unauthenticated_for_every_rpc(
    tenants: Tenants,
) -> None:
    a = tenants.a
    room_id = unique("guarded")
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id, participants=[participant_pb2.Participant(user_id="host")]
        ),
        metadata=a.metadata,
    )
    before = await snapshot(a, [room_id], ["host", "x"])
    key = tenants.keys["a"]
    refusals = {
        "no metadata": (),
        "other metadata only": (("x-api-key", key),),
        "unknown key": bearer("rk_" + "a" * 32),
        "key with a character changed": bearer(key[:-1] + ("b" if key[-1] != "b" else "c")),
        "key with a suffix": bearer(key + "x"),
        "key without the scheme": (("authorization", key),),
        "another scheme": (("authorization", f"Basic {key}"),),
        "empty bearer": (("authorization", "Bearer "),),
        "the key's hash": bearer(hash_key(key)),
        "the tenant's name": bearer(a.name),
    }
    messages = set()
    for label, metadata in refusals.items():
        calls = {**every_rpc(a, metadata, room_id), **raw_calls(tenants.channel, metadata)}
        assert len(calls) >= 24
        for name, call in calls.items():
            error = await expect_error(call(), grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
            assert error.metadata == {}, (label, name)
            messages.add(error.message)
    # One refusal for all: nothing about the method, the room or the key is revealed.
    assert len(messages) == 1
    # Nothing happened to A's room.
    assert await snapshot(a, [room_id], ["host", "x"]) == before

    # Health needs no key; with A's key the RPCs work again.
    health: Any = health_pb2_grpc.HealthStub(tenants.channel)
    response = await health.Check(health_pb2.HealthCheckRequest())
    assert response.status == health_pb2.HealthCheckResponse.SERVING
    for service_name in ("rooms.v1.RoomsService", "rooms.v1.ParticipantsService"):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service_name))
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    room = await a.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=a.metadata)
    assert room == before.rooms[room_id]
