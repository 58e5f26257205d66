"""Two real server processes deliver one tenant's events to one webhook receiver, with
the default lease and poll interval. Normally each event arrives once. When the replica
sending a request is stopped mid-delivery, the other takes its work over: within 2 s of
SIGTERM (the stopping replica hands its leases back) and within 10 s of SIGKILL (its
short leases lapse). Nothing is lost, order per room holds, the event in flight is sent
again under its webhook-id, and a repeat only ever carries a webhook-id already seen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
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
from support.processes import free_port
from tests.shared.processes import spawn_server
from tests.shared.receivers import WebhookReceiver, assert_in_order_without_loss


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

    async def subscribe(self, receiver: WebhookReceiver) -> None:
        """A webhook of the tenant to `receiver`, which learns its secret."""
        webhook = await self.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=receiver.url)),
            metadata=self.metadata,
            timeout=10,
        )
        receiver.secret = webhook.secret

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


pytestmark = pytest.mark.processes

ROOMS, EVENTS_PER_ROOM = 10, 25  # 250 events: a create and 24 roster changes per room


async def _leases_of(database_url: str, pid: int) -> int:
    """The delivery cursors leased by the replica with process id `pid` (a lease's
    owner is `host:pid:random`, service/delivery/engine.py)."""
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM delivery_cursors WHERE split_part(lease_owner, ':', 2) = $1",
            str(pid),
        )
    finally:
        await connection.close()
    return count


async def _failover(database_url: str, stop: signal.Signals) -> tuple[float, int]:
    """Hold the receiver's answers, stop (with `stop`) the replica that sent the first
    held request, then let the receiver answer: the seconds from the signal until every
    event has arrived, and the repeats."""
    key, entry = new_key(f"failover-{stop.name.lower()}", "tests")
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        async with replicas(database_url, entry.line(), key) as (first, second):
            await first.subscribe(receiver)

            # Normal operation: both replicas deliver; each event arrives once.
            calm = [f"calm-{i}" for i in range(2)]
            for index, room_id in enumerate(calm):
                await (first, second)[index % 2].write_room(room_id, adds=4)
            await receiver.wait_for(lambda: len(receiver.deliveries) >= 10)
            expected = {room_id: await first.revisions(room_id) for room_id in calm}
            assert assert_in_order_without_loss(receiver, expected) == 0
            assert len(receiver.deliveries) == 10

            # Hold the next requests; stop the replica that sent the first of them.
            receiver.mode = "hold"
            held_from = len(receiver.deliveries)
            stormy = [f"storm-{i}" for i in range(ROOMS)]
            await asyncio.gather(
                *(
                    (first, second)[index % 2].write_room(room_id, adds=EVENTS_PER_ROOM - 1)
                    for index, room_id in enumerate(stormy)
                )
            )
            await asyncio.wait_for(receiver.held.wait(), 60)
            in_flight = receiver.deliveries[held_from].webhook_id
            pids = [first.process.pid, second.process.pid]
            owner = owner_of_client_port(receiver.peers[0], pids)
            assert owner in pids
            victim, survivor = (first, second) if owner == first.process.pid else (second, first)
            assert await _leases_of(database_url, victim.process.pid) >= 1
            victim.process.send_signal(stop)
            stopped_at = time.monotonic()
            # The victim never hears the answer to its request in flight: the receiver
            # answers once it has exited (a stopping replica ends that request itself).
            await asyncio.wait_for(victim.process.wait(), 30)
            if stop == signal.SIGTERM:
                # Handed back as it stopped, not left to expire (a lease lasts 3 s).
                assert await _leases_of(database_url, victim.process.pid) == 0
            receiver.mode = "ok"
            receiver.release.set()

            expected = {room_id: await survivor.revisions(room_id) for room_id in calm + stormy}
            total = sum(len(revisions) for revisions in expected.values())
            assert total == 10 + ROOMS * EVENTS_PER_ROOM

            def all_arrived() -> bool:
                ids = [d.webhook_id for d in receiver.deliveries]
                return len(set(ids)) >= total and ids.count(in_flight) >= 2

            await receiver.wait_for(all_arrived, within=60)
            elapsed = time.monotonic() - stopped_at
            repeats = assert_in_order_without_loss(receiver, expected)
            assert receiver.rejected == 0
            if stop == signal.SIGTERM:
                assert victim.process.returncode == 0
            print(f"\n[failover] {stop.name}: every event {elapsed:.2f}s later, {repeats} repeats")
            return elapsed, repeats
    finally:
        await receiver.stop()


async def test_a_replica_killed_mid_delivery_is_taken_over_within_10_seconds(
    database_url: str,
) -> None:
    elapsed, repeats = await _failover(database_url, signal.SIGKILL)
    assert elapsed <= 10
    # Only what the victim had in flight (at most one request per room) comes twice.
    assert 1 <= repeats <= ROOMS


async def test_a_replica_stopped_mid_delivery_hands_its_leases_back_and_its_work_over(
    database_url: str,
) -> None:
    elapsed, repeats = await _failover(database_url, signal.SIGTERM)
    # Measured 0.4-0.6 s on a quiet machine (3.5 s when killed); the leases handed back
    # are checked in the database above, so a busy machine gets more room here.
    assert elapsed <= 3
    assert 1 <= repeats <= ROOMS


async def test_a_receiver_slower_than_the_lease_gets_each_event_once(database_url: str) -> None:
    """The lease (3 s) is renewed while a request waits: a receiver that answers after
    5 s is not sent the same event by the other replica meanwhile."""
    key, entry = new_key("failover-slow", "tests")
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        async with replicas(database_url, entry.line(), key) as (first, second):
            await first.subscribe(receiver)
            receiver.mode = "hold"
            rooms = [f"slow-{i}" for i in range(4)]
            for index, room_id in enumerate(rooms):
                await (first, second)[index % 2].write_room(room_id, adds=2)
            await asyncio.wait_for(receiver.held.wait(), 60)
            await asyncio.sleep(5)  # longer than a lease: only renewals keep it
            held = len(receiver.deliveries)
            receiver.mode = "ok"
            receiver.release.set()
            expected = {room_id: await first.revisions(room_id) for room_id in rooms}
            total = sum(len(revisions) for revisions in expected.values())
            await receiver.wait_for(lambda: len(receiver.deliveries) >= total, within=30)
            await asyncio.sleep(1)  # a duplicate would arrive now
            assert held <= len(rooms)  # one request in flight per room while held
            assert assert_in_order_without_loss(receiver, expected) == 0
            assert len(receiver.deliveries) == total
    finally:
        await receiver.stop()
