"""Two real server processes deliver one tenant's events to one webhook receiver.
Normally each event arrives once; when the replica sending a request is killed with
SIGKILL mid-delivery, the other takes its work over once the lease lapses: nothing
is lost, order per room holds, and a repeat carries a webhook-id already seen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import (
    participants_service_pb2_grpc,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from service.security.keys import new_key
from tests.processes import free_port, spawn_server
from tests.receivers import WebhookReceiver, assert_in_order_without_loss


def owner_of_client_port(port: int, pids: list[int]) -> int | None:
    """The process (among `pids`) holding the loopback TCP socket with local `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return pid
    return None


class Replica:
    def __init__(self, process: asyncio.subprocess.Process, port: int, key: str) -> None:
        self.process = process
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        self.metadata = (("authorization", f"Bearer {key}"),)
        self.rooms: Any = rooms_service_pb2_grpc.RoomsServiceStub(self.channel)
        self.people: Any = participants_service_pb2_grpc.ParticipantsServiceStub(self.channel)
        self.webhooks: Any = webhooks_service_pb2_grpc.WebhooksServiceStub(self.channel)

    async def write_room(self, room_id: str, adds: int) -> None:
        await self.rooms.CreateRoom(
            rs.CreateRoomRequest(room_id=room_id), metadata=self.metadata, timeout=10
        )
        for index in range(adds):
            await self.people.AddOrUpdateParticipants(
                ps.AddOrUpdateParticipantsRequest(
                    room_id=room_id, participants=[pp.Participant(user_id=f"user-{index}")]
                ),
                metadata=self.metadata,
                timeout=10,
            )

    async def revisions(self, room_id: str) -> list[int]:
        page = await self.rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room_id, page_size=500),
            metadata=self.metadata,
            timeout=10,
        )
        return [event.revision for event in page.events]


@contextlib.asynccontextmanager
async def replicas(database_url: str, entry: str, key: str) -> AsyncIterator[list[Replica]]:
    started = []
    try:
        for _ in range(2):
            port = free_port()
            process = await spawn_server(
                database_url,
                port,
                output=asyncio.subprocess.DEVNULL,
                ROOMS_API_KEYS=entry,
                ROOMS_WEBHOOK_ALLOWED_HTTP_HOSTS="127.0.0.1",
                ROOMS_DELIVERY_POLL_SECONDS="0.2",
                ROOMS_DELIVERY_LEASE_SECONDS="5",
                ROOMS_WEBHOOK_TIMEOUT_SECONDS="2",
                ROOMS_ACCESS_LOG="off",
            )
            started.append(Replica(process, port, key))
        for replica in started:
            await asyncio.wait_for(replica.channel.channel_ready(), 60)
        yield started
    finally:
        for replica in started:
            await replica.channel.close()
            if replica.process.returncode is None:
                replica.process.kill()
            await replica.process.wait()


async def test_a_replica_killed_mid_delivery_loses_nothing(database_url: str) -> None:
    key, entry = new_key("failover", "tests")
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        async with replicas(database_url, entry.line(), key) as (first, second):
            webhook = await first.webhooks.CreateWebhook(
                ws.CreateWebhookRequest(webhook=ws.Webhook(url=receiver.url)),
                metadata=first.metadata,
                timeout=10,
            )
            receiver.secret = webhook.secret

            # Normal operation: both replicas deliver; each event arrives once.
            calm = [f"calm-{i}" for i in range(4)]
            for index, room_id in enumerate(calm):
                await (first, second)[index % 2].write_room(room_id, adds=4)
            await receiver.wait_for(lambda: len(receiver.deliveries) >= 20)
            expected = {room_id: await first.revisions(room_id) for room_id in calm}
            assert assert_in_order_without_loss(receiver, expected) == 0
            assert len(receiver.deliveries) == 20

            # Hold the next requests; kill the replica that sent the first of them.
            receiver.mode = "hold"
            stormy = [f"storm-{i}" for i in range(4)]
            for index, room_id in enumerate(stormy):
                await (first, second)[index % 2].write_room(room_id, adds=5)
            await asyncio.wait_for(receiver.held.wait(), 60)
            pids = [first.process.pid, second.process.pid]
            owner = owner_of_client_port(receiver.peers[0], pids)
            assert owner in pids
            victim, survivor = (first, second) if owner == first.process.pid else (second, first)
            victim.process.send_signal(signal.SIGKILL)
            await victim.process.wait()
            receiver.mode = "ok"
            receiver.release.set()

            expected = {room_id: await survivor.revisions(room_id) for room_id in calm + stormy}
            total = sum(len(revisions) for revisions in expected.values())
            await receiver.wait_for(
                lambda: len({d.webhook_id for d in receiver.deliveries}) >= total, within=90
            )
            repeats = assert_in_order_without_loss(receiver, expected)
            # Only what the victim had in flight may come twice.
            assert repeats <= len(stormy)
            assert receiver.rejected == 0
    finally:
        await receiver.stop()
