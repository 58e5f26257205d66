"""API keys, the development default, TLS and mutual TLS, and deadline-bounded work."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import participant_pb2, rooms_service_pb2_grpc
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.config import ConfigError
from service.security.keys import KeyRing, new_key, parse_entries
from support.database import ROOT
from tests.conftest import ServerFactory
from tests.shared.calls import Rooms, bearer, connect
from tests.shared.errors import expect_error
from tests.shared.waiting import eventually, lock_waiters, room_row_locked


def health_check(channel: grpc.aio.Channel, **kwargs: Any) -> Any:
    stub: Any = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(), **kwargs)


# ---- keys ------------------------------------------------------------------


def test_key_entries_parse_and_match_only_their_key() -> None:
    key, entry = new_key("acme", "billing")
    other, other_entry = new_key("globex", "ops")
    ring = KeyRing(parse_entries(f"# comment\n{entry.line()}, {other_entry.line()}\n"))
    assert ring.caller_for(key) == entry.caller
    assert ring.caller_for(other) == other_entry.caller
    assert ring.caller_for(key + "x") is None
    assert ring.caller_for("") is None
    with pytest.raises(ValueError, match="bad API key entry"):
        parse_entries("sha256:nothex:acme:billing")
    with pytest.raises(ValueError, match="tenant"):
        parse_entries(f"sha256:{'0' * 64}:Bad Tenant:x")


async def test_calls_need_a_known_key(start: ServerFactory) -> None:
    key, entry = new_key("acme", "billing")
    running = await start(api_keys=entry.line())
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        for metadata in ((), bearer("rk_wrong"), (("authorization", key),), bearer("")):
            error = await expect_error(
                rooms.ListRooms(rs.ListRoomsRequest(), metadata=metadata),
                grpc.StatusCode.UNAUTHENTICATED,
                "UNAUTHENTICATED",
            )
            assert "Bearer" in error.message
        room = await rooms.CreateRoom(rs.CreateRoomRequest(), metadata=bearer(key))
        got = await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id), metadata=bearer(key))
        assert got == room
        # Health and reflection need no key by default.
        assert (await health_check(stubs.channel)).status == health_pb2.HealthCheckResponse.SERVING


async def test_health_can_require_a_key_too(start: ServerFactory) -> None:
    key, entry = new_key("acme", "probe")
    running = await start(api_keys=entry.line(), auth_protect_health_and_reflection=True)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        await expect_error(
            health_check(channel), grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED"
        )
        response = await health_check(channel, metadata=bearer(key))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_keys_from_a_file(start: ServerFactory, tmp_path: Path) -> None:
    key, entry = new_key("acme", "from-file")
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# rooms API keys\n{entry.line()}\n")
    running = await start(api_keys_file=keys_file)
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        await rooms.ListRooms(rs.ListRoomsRequest(), metadata=bearer(key))


async def test_the_key_command_prints_a_working_key(start: ServerFactory) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service", "keys", "create", "--tenant", "acme", "--name", "cli"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    key = next(line for line in lines if line.startswith("rk_"))
    entry = next(line for line in lines if line.startswith("sha256:"))
    assert key not in entry  # only the hash is configured
    running = await start(api_keys=entry)
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        await rooms.ListRooms(rs.ListRoomsRequest(), metadata=bearer(key))


async def test_without_keys_only_loopback_unless_insecure_is_allowed(start: ServerFactory) -> None:
    with pytest.raises(ConfigError, match="ROOMS_ALLOW_INSECURE"):
        await start(listen_address="0.0.0.0:0")
    running = await start(listen_address="0.0.0.0:0", allow_insecure=True)
    assert running.port > 0
    _, entry = new_key("acme", "public")
    with_keys = await start(listen_address="0.0.0.0:0", api_keys=entry.line())
    assert with_keys.port > 0


# ---- TLS -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | bytes]:
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost", "127.0.0.1")
    client_cert = ca.issue_cert("client.rooms.test")
    folder = tmp_path_factory.mktemp("tls")
    files = {
        "ca": folder / "ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server.key",
    }
    ca.cert_pem.write_to_path(str(files["ca"]))
    server_cert.cert_chain_pems[0].write_to_path(str(files["cert"]))
    server_cert.private_key_pem.write_to_path(str(files["key"]))
    return {
        **files,
        "client_cert": client_cert.cert_chain_pems[0].bytes(),
        "client_key": client_cert.private_key_pem.bytes(),
    }


@pytest.fixture
async def tls_server(start: ServerFactory, certificates: dict[str, Any]) -> AsyncIterator[int]:
    running = await start(tls_cert_file=certificates["cert"], tls_key_file=certificates["key"])
    yield running.port


async def test_tls_serves_tls_clients_and_refuses_plaintext(
    tls_server: int, certificates: dict[str, Any]
) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=certificates["ca"].read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{tls_server}", credentials) as channel:
        rooms: Rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        room = await rooms.CreateRoom(rs.CreateRoomRequest())
        assert room.room_id
    async with grpc.aio.insecure_channel(f"127.0.0.1:{tls_server}") as plain:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rooms_service_pb2_grpc.RoomsServiceStub(plain).ListRooms(
                rs.ListRoomsRequest(), timeout=5
            )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_needs_a_client_certificate(
    start: ServerFactory, certificates: dict[str, Any]
) -> None:
    running = await start(
        tls_cert_file=certificates["cert"],
        tls_key_file=certificates["key"],
        tls_client_ca_file=certificates["ca"],
    )
    ca = certificates["ca"].read_bytes()
    target = f"localhost:{running.port}"
    anonymous = grpc.ssl_channel_credentials(root_certificates=ca)
    async with grpc.aio.secure_channel(target, anonymous) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rooms_service_pb2_grpc.RoomsServiceStub(channel).ListRooms(
                rs.ListRoomsRequest(), timeout=5
            )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    identified = grpc.ssl_channel_credentials(
        root_certificates=ca,
        private_key=certificates["client_key"],
        certificate_chain=certificates["client_cert"],
    )
    async with grpc.aio.secure_channel(target, identified) as channel:
        rooms: Rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        await rooms.ListRooms(rs.ListRoomsRequest(), timeout=5)


# ---- limits and deadlines --------------------------------------------------


async def test_oversized_requests_are_refused(start: ServerFactory) -> None:
    running = await start(max_request_bytes=4096)
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rooms.CreateRoom(rs.CreateRoomRequest(room_id="x" * 10_000))
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def _activity(pool: asyncpg.Pool, room_id: str) -> int:
    return await lock_waiters(pool, "%FOR UPDATE%")


async def _activity_is(pool: asyncpg.Pool, room_id: str, expected: int) -> bool:
    return await _activity(pool, room_id) == expected


@pytest.mark.parametrize("how", ["deadline", "cancel"])
async def test_database_work_stops_with_the_call(server: Any, pool: asyncpg.Pool, how: str) -> None:
    async with connect(server.port) as stubs:
        rooms = stubs.rooms
        roster = stubs.participants
        room = await rooms.CreateRoom(rs.CreateRoomRequest())
        async with room_row_locked(pool, room.room_id):
            request = ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[participant_pb2.Participant(user_id="u")]
            )
            call = roster.AddOrUpdateParticipants(request, timeout=1.0 if how == "deadline" else 30)
            # Waiting on our lock.
            await eventually(
                lambda: _activity_is(pool, room.room_id, 1), what="the statement waiting"
            )
            if how == "cancel":
                call.cancel()
            with pytest.raises((grpc.aio.AioRpcError, asyncio.CancelledError)):
                await call
            # The server cancels the statement.
            await eventually(
                lambda: _activity_is(pool, room.room_id, 0), what="the statement cancelled"
            )
        # Nothing was half-applied.
        got = await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))
        assert got.participant_count == 0 and got.etag == room.etag
