"""The server as an operator and a grpcurl-style client see it: health, reflection
without proto files, graceful shutdown, and the real process on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Callable
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from rooms.v1 import participants_service_pb2_grpc, rooms_service_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from service.server import RunningServer
from support.database import ROOT
from support.processes import free_port
from tests.conftest import ServerFactory
from tests.shared.processes import server_process
from tests.shared.waiting import roster_change_in_flight

pytestmark = pytest.mark.processes


def health_stub(channel: grpc.aio.Channel) -> Any:
    """The health stub; its published type stubs lack the method attributes."""
    return health_pb2_grpc.HealthStub(channel)


SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_serves_while_the_database_answers(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_stub(channel)
        for service in ("", "rooms.v1.RoomsService", "rooms.v1.ParticipantsService"):
            response = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert response.status == SERVING, service


class ReflectionClient:
    """A client that knows no proto file: it learns every type from the server."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        self.database = ProtoReflectionDescriptorDatabase(self.channel)
        self.pool = descriptor_pool.DescriptorPool(self.database)

    def services(self) -> list[str]:
        return list(self.database.get_services())

    def call(self, method: str, fields: dict[str, Any]) -> Message:
        service_name, method_name = method.rsplit("/", 1)
        descriptor = self.pool.FindServiceByName(service_name).FindMethodByName(method_name)
        request_class = message_factory.GetMessageClass(descriptor.input_type)
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        from google.protobuf import json_format

        request = json_format.ParseDict(fields, request_class())
        rpc: Callable[[Message], Message] = self.channel.unary_unary(  # type: ignore[assignment]
            f"/{method}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        return rpc(request)


def _reflection_session(target: str) -> dict[str, Any]:
    from google.protobuf import json_format

    client = ReflectionClient(target)
    try:
        out: dict[str, Any] = {"services": client.services()}
        room = client.call("rooms.v1.RoomsService/CreateRoom", {"room": {"metadata": {"k": "v"}}})
        room_id = json_format.MessageToDict(room)["roomId"]
        got = client.call("rooms.v1.RoomsService/GetRoom", {"roomId": room_id})
        listed = client.call("rooms.v1.RoomsService/ListRooms", {"pageSize": 500})
        updated = client.call(
            "rooms.v1.RoomsService/UpdateRoom",
            {
                "room": {"roomId": room_id, "pstnDialOutEnabled": True},
                "updateMask": "pstnDialOutEnabled",
            },
        )
        added = client.call(
            "rooms.v1.ParticipantsService/AddOrUpdateParticipants",
            {"roomId": room_id, "participants": [{"userId": "alice", "role": "ROLE_PRESENTER"}]},
        )
        removed = client.call(
            "rooms.v1.ParticipantsService/RemoveParticipants",
            {"roomId": room_id, "userIds": ["alice"]},
        )
        client.call("rooms.v1.RoomsService/DeleteRoom", {"roomId": room_id})
        out.update(
            room_id=room_id,
            got=json_format.MessageToDict(got),
            listed=[r["roomId"] for r in json_format.MessageToDict(listed).get("rooms", [])],
            updated=json_format.MessageToDict(updated),
            added=json_format.MessageToDict(added),
            removed=json_format.MessageToDict(removed),
        )
        try:
            client.call("rooms.v1.RoomsService/GetRoom", {"roomId": room_id})
        except grpc.RpcError as error:
            out["after_delete"] = error.code()
        return out
    finally:
        client.channel.close()


async def test_a_client_without_protos_does_everything_through_reflection(
    server: RunningServer,
) -> None:
    result = await asyncio.to_thread(_reflection_session, f"127.0.0.1:{server.port}")
    assert {
        "rooms.v1.RoomsService",
        "rooms.v1.ParticipantsService",
        "grpc.health.v1.Health",
    } <= set(result["services"])
    assert result["got"]["metadata"] == {"k": "v"}
    assert result["room_id"] in result["listed"]
    assert result["updated"]["pstnDialOutEnabled"] is True
    assert result["added"]["participants"][0]["role"] == "ROLE_PRESENTER"
    assert result["removed"]["removedCount"] == 1
    assert result["after_delete"] == grpc.StatusCode.NOT_FOUND


@pytest.mark.skipif(
    not (ROOT / ".tools/node_modules/.bin/buf").exists(),
    reason="buf not installed (make buf-lint installs it)",
)
async def test_buf_curl_lists_and_calls_through_reflection(server: RunningServer) -> None:
    buf = str(ROOT / ".tools/node_modules/.bin/buf")
    target = f"http://127.0.0.1:{server.port}"

    def run(*args: str) -> str:
        done = subprocess.run(
            [buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = await asyncio.to_thread(run, "--list-methods", target)
    assert "rooms.v1.RoomsService/AuthorizeJoin" in listing
    created = await asyncio.to_thread(
        run, "-d", '{"roomId": "buf-curl-room"}', f"{target}/rooms.v1.RoomsService/CreateRoom"
    )
    assert '"roomId": "buf-curl-room"' in created


async def test_graceful_shutdown_finishes_in_flight_calls(
    start: ServerFactory, pool: asyncpg.Pool
) -> None:
    running = await start()
    target = f"127.0.0.1:{running.port}"
    async with grpc.aio.insecure_channel(target) as channel:
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        roster = participants_service_pb2_grpc.ParticipantsServiceStub(channel)
        watch = health_stub(channel).Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == SERVING
        room = await rooms.CreateRoom(rs.CreateRoomRequest())
        # Hold the room's row lock so the next roster change stays in flight.
        async with roster_change_in_flight(pool, roster, room.room_id) as in_flight:
            assert not in_flight.done()
            stopping = asyncio.ensure_future(running.stop(grace=10))
            # Health turns NOT_SERVING as soon as the shutdown starts.
            assert (await asyncio.wait_for(watch.read(), 5)).status == NOT_SERVING
            # New calls are refused while the in-flight one is still running.
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id), timeout=2)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert not in_flight.done()
        response = await asyncio.wait_for(in_flight, 10)
        assert [p.user_id for p in response.participants] == ["late"]
        await stopping
    # The acknowledged write is there.
    count = await pool.fetchval(
        "SELECT count(*) FROM participants WHERE room_id = $1 AND user_id = 'late'", room.room_id
    )
    assert count == 1


async def test_the_process_stops_cleanly_on_sigterm(database_url: str) -> None:
    port = free_port()
    async with server_process(database_url, port) as process:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await asyncio.wait_for(channel.channel_ready(), 30)
            health = health_stub(channel)
            assert (await health.Check(health_pb2.HealthCheckRequest())).status == SERVING
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    assert b"stopped" in output
