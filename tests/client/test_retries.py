"""The Python client's request ids, deadlines and retries, seen through the
recording proxy."""

from __future__ import annotations

import json
import uuid
from typing import cast

import grpc
import pytest
from rooms.client import IDEMPOTENT_METHODS, RoomsClient, service_config
from rooms.errors import (
    RequestIdReused,
    RoomsError,
)
from rooms.v1 import rooms_service_pb2 as rs

from service.server import RunningServer
from tests.client.proxy import ADD, CREATE, FAST_RETRY, GET, UPDATE, Proxy
from tests.shared.calls import unique


async def test_request_id_is_generated_and_reuse_is_typed(
    client: RoomsClient, proxy: Proxy
) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as through:
        first = await through.create_room()
        second = await through.create_room()
    assert first.room_id != second.room_id
    ids = [rs.CreateRoomRequest.FromString(a.request).request_id for a in proxy.of(CREATE)]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(uuid.UUID(request_id) for request_id in ids)

    # The same explicit request_id returns the same room; a different request is typed.
    request_id = str(uuid.uuid4())
    again = [await client.create_room(request_id=request_id) for _ in range(2)]
    assert again[0] == again[1]
    with pytest.raises(RequestIdReused) as caught:
        await client.create_room(request_id=request_id, pstn_dial_out_enabled=True)
    assert caught.value.metadata["request_id"] == request_id
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_service_config_retries_only_idempotent_calls_on_unavailable() -> None:
    client_options = dict(RoomsClient("127.0.0.1:1").channel_options)
    assert client_options["grpc.enable_retries"] == 1
    config = json.loads(client_options["grpc.service_config"])
    assert config == service_config()
    (method_config,) = config["methodConfig"]
    names = {(name["service"], name["method"]) for name in method_config["name"]}
    assert names == {(s, m) for s, methods in IDEMPOTENT_METHODS.items() for m in methods}
    assert ("rooms.v1.RoomsService", "CreateRoom") in names
    assert ("rooms.v1.RoomsService", "UpdateRoom") not in names
    assert ("rooms.v1.ParticipantsService", "AddOrUpdateParticipants") not in names
    assert ("rooms.v1.ParticipantsService", "RemoveParticipants") not in names
    assert {("rooms.v1.WebhooksService", m) for m in ("GetWebhook", "ListWebhooks")} <= names
    for method in ("CreateWebhook", "UpdateWebhook", "DeleteWebhook"):
        assert ("rooms.v1.WebhooksService", method) not in names
    policy = method_config["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert policy["maxAttempts"] == 4
    assert policy["initialBackoff"] == "0.2s" and policy["maxBackoff"] == "5s"
    # retry=None: no service config, retries off.
    off = dict(RoomsClient("127.0.0.1:1", retry=None).channel_options)
    assert "grpc.service_config" not in off
    assert off["grpc.enable_retries"] == 0


async def test_a_lost_create_answer_is_retried_and_returns_the_same_room(
    server: RunningServer, clean: None, proxy: Proxy
) -> None:
    proxy.failures[CREATE] = ["after"]  # the server creates the room, the answer is lost
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=FAST_RETRY) as client:
        room = await client.create_room(room_id=unique("retried"))
        attempts = proxy.of(CREATE)
        assert len(attempts) == 2
        first, second = (rs.CreateRoomRequest.FromString(a.request) for a in attempts)
        assert first == second and first.request_id
        assert [r.room_id async for r in client.list_rooms()] == [room.room_id]


async def test_reads_are_retried_on_unavailable(server: RunningServer, proxy: Proxy) -> None:
    async with RoomsClient(f"127.0.0.1:{server.port}") as direct:
        room = await direct.create_room()
    proxy.failures[GET] = ["before", "before"]
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=FAST_RETRY) as client:
        assert (await client.get_room(room.room_id)).room_id == room.room_id
    assert len(proxy.of(GET)) == 3


async def test_non_idempotent_calls_and_disabled_retries_fail_at_once(
    server: RunningServer, proxy: Proxy
) -> None:
    async with RoomsClient(f"127.0.0.1:{server.port}") as direct:
        room = await direct.create_room()
    proxy.failures[UPDATE] = ["before"]
    proxy.failures[ADD] = ["before"]
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=FAST_RETRY) as client:
        with pytest.raises(RoomsError) as update:
            await client.update_room(room.room_id, pstn_dial_out_enabled=True)
        with pytest.raises(RoomsError) as add:
            await client.add_or_update_participants(room.room_id, ["x"])
    assert update.value.code == add.value.code == grpc.StatusCode.UNAVAILABLE
    assert len(proxy.of(UPDATE)) == len(proxy.of(ADD)) == 1

    proxy.failures[GET] = ["before"]
    async with RoomsClient(f"127.0.0.1:{proxy.port}", retry=None) as client:
        with pytest.raises(RoomsError):
            await client.get_room(room.room_id)
    assert len(proxy.of(GET)) == 1


async def test_every_call_has_a_deadline(server: RunningServer, proxy: Proxy) -> None:
    async with RoomsClient(f"127.0.0.1:{proxy.port}") as client:
        room = await client.create_room()
        await client.get_room(room.room_id, timeout=1.5)
    async with RoomsClient(f"127.0.0.1:{proxy.port}", timeout=3) as client:
        await client.authorize_join(room.room_id, "someone")
    remaining = [attempt.time_remaining for attempt in proxy.attempts]
    assert all(value is not None for value in remaining)
    default, override, configured = cast(list[float], remaining)
    # The server rounds deadlines a little, so allow a small excess.
    assert 9 < default <= 10.2
    assert 0.5 < override <= 1.6
    assert 2 < configured <= 3.1
