"""A replica stopped (SIGTERM) or killed (SIGKILL) while its request to Janus hangs
(Janus is paused with SIGSTOP meanwhile), holding the room's delivery: the removal it
was sending and one made through the other replica both reach Janus within 5 s of the
signal (the stopping replica hands its work back; a killed one's short lease lapses)."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import participants_service_pb2_grpc, room_pb2, rooms_service_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from service.security.keys import new_key
from support.processes import free_port
from tests.janus.conftest import Signalling, janus_config
from tests.janus.drive.deployment import JANUS, join_checked, own_leaving, write_media_config
from tests.janus.harness import JanusServer
from tests.shared.calls import bearer, timestamp
from tests.shared.processes import spawn_server, wait_serving

pytestmark = [pytest.mark.janus, pytest.mark.processes]


async def _lease_holder(database_url: str, tenant: str, room_id: str) -> int:
    """The pid of the replica holding the room's Janus delivery (owner "host:pid:...")."""
    connection = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(10):
            while True:
                owner = await connection.fetchval(
                    "SELECT lease_owner FROM delivery_cursors"
                    " WHERE tenant = $1 AND room_id = $2 AND destination = 'janus'",
                    tenant,
                    room_id,
                )
                if owner:
                    return int(owner.split(":")[1])
                await asyncio.sleep(0.01)
    finally:
        await connection.close()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_removal_reaches_janus_within_5_seconds_when_a_replica_stops(
    database_url: str, janus: JanusServer, tmp_path: Path, stop: signal.Signals
) -> None:
    tenant = f"jf-{secrets.token_hex(3)}"
    media = write_media_config(tmp_path, tenant, janus_config(janus))
    key, entry = new_key(tenant, "tests")
    metadata = bearer(key)
    ports = [free_port(), free_port()]
    processes = [
        await spawn_server(
            database_url,
            port,
            output=asyncio.subprocess.DEVNULL,
            ROOMS_API_KEYS=entry.line(),
            ROOMS_MEDIA_CONFIG_FILE=str(media),
            ROOMS_JANUS_CHECK_SECONDS="0",
            ROOMS_ACCESS_LOG="off",
        )
        for port in ports
    ]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
    clients: list[Signalling] = []
    try:
        for port in ports:
            await wait_serving(port)
        rooms: list[Any] = [rooms_service_pb2_grpc.RoomsServiceStub(c) for c in channels]
        people: list[Any] = [
            participants_service_pb2_grpc.ParticipantsServiceStub(c) for c in channels
        ]
        room_id = f"r-{secrets.token_hex(4)}"
        users = ("alice", "bob", "carol")
        await rooms[0].CreateRoom(
            rs.CreateRoomRequest(
                room_id=room_id,
                room=room_pb2.Room(valid_until=timestamp(datetime.now(UTC) + timedelta(hours=1))),
                participants=[pp.Participant(user_id=u, role=pp.ROLE_ATTENDEE) for u in users],
            ),
            metadata=metadata,
        )
        joined = {}
        for user in users:
            answer = await rooms[0].AuthorizeJoin(
                rs.AuthorizeJoinRequest(room_id=room_id, user_id=user, credential_format=JANUS),
                metadata=metadata,
            )
            joined[user] = await join_checked(answer.credential, clients)

        # Janus hangs; a removal; the replica sending it to Janus is stopped; Janus
        # answers again; another removal through the other replica.
        assert janus.process is not None
        janus.process.send_signal(signal.SIGSTOP)
        try:
            await people[0].RemoveParticipants(
                ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["bob"]),
                metadata=metadata,
            )
            sender = await _lease_holder(database_url, tenant, room_id)
            victim = next(i for i, p in enumerate(processes) if p.pid == sender)
            processes[victim].send_signal(stop)
            stopped_at = time.monotonic()
        finally:
            janus.process.send_signal(signal.SIGCONT)
        await people[1 - victim].RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["carol"]), metadata=metadata
        )
        async with asyncio.timeout(30):
            for user in ("bob", "carol"):
                left = await own_leaving(joined[user])
                assert left.get("reason") == "kicked", (user, left)
        elapsed = time.monotonic() - stopped_at
        print(f"\n[janus failover] {stop.name}: both kicked {elapsed:.2f}s after the signal")
        assert elapsed <= 5
        await asyncio.wait_for(processes[victim].wait(), 30)
        if stop == signal.SIGTERM:
            assert processes[victim].returncode == 0
    finally:
        for client in clients:
            await client.aclose()
        for channel in channels:
            await channel.close()
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.wait()
