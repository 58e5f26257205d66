"""The room lifecycle end to end: opening and ending announced when the clock gets
there, and the purge of what is past its grace with two replicas racing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.domain.lifecycle import Retention
from service.storage.lifecycle import PgLifecycleStore
from service.usecases.lifecycle import Lifecycle
from tests.conftest import T0, ServerFactory
from tests.events.stream import T, history, read
from tests.shared.calls import People, Rooms, connect, ts


async def test_open_and_end_are_announced_when_the_clock_gets_there(
    start: ServerFactory, clock: ManualClock, pool: asyncpg.Pool
) -> None:
    running = await start()
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        room = await rooms.CreateRoom(
            rs.CreateRoomRequest(
                room=room_pb2.Room(
                    valid_from=ts(timedelta(hours=1)), valid_until=ts(timedelta(hours=2))
                )
            )
        )
        stream = rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id, after_revision=1))
        await running.lifecycle.run_once()
        clock.set(T0 + timedelta(minutes=59, seconds=59))
        await running.lifecycle.run_once()
        clock.set(T0 + timedelta(hours=1))
        await running.lifecycle.run_once()
        opened = await read(stream, 1)
        assert opened[0].type == T.ROOM_EVENT_TYPE_OPENED
        assert opened[0].event_time == ts(timedelta(hours=1))
        assert opened[0].actor == "system"
        await running.lifecycle.run_once()  # nothing twice
        clock.set(T0 + timedelta(hours=2))
        await running.lifecycle.run_once()
        ended = await read(stream, 1)
        assert ended[0].type == T.ROOM_EVENT_TYPE_ENDED
        assert ended[0].event_time == ts(timedelta(hours=2))
        stream.cancel()
        events = await history(rooms, room.room_id)
        assert [e.type for e in events] == [
            T.ROOM_EVENT_TYPE_CREATED,
            T.ROOM_EVENT_TYPE_OPENED,
            T.ROOM_EVENT_TYPE_ENDED,
        ]
        # Extending the window of an ended room opens it again, and it is announced.
        clock.set(T0 + timedelta(hours=3))
        await rooms.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room.room_id, valid_until=ts(timedelta(hours=5))),
                update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
            )
        )
        await running.lifecycle.run_once()
        clock.set(T0 + timedelta(hours=5))
        await running.lifecycle.run_once()
        events = await history(rooms, room.room_id)
        assert [e.type for e in events][3:] == [
            T.ROOM_EVENT_TYPE_SETTINGS_CHANGED,
            T.ROOM_EVENT_TYPE_ENDED,
        ]
    await running.stop(0)


@pytest.mark.usefixtures("clean")
async def test_purge_removes_exactly_what_is_past_its_grace_with_two_replicas_racing(
    rooms: Rooms,
    participants: People,
    clock: ManualClock,
    pool: asyncpg.Pool,
) -> None:
    async def make(prefix: str, count: int, until: timedelta) -> list[str]:
        ids = []
        for index in range(count):
            room = await rooms.CreateRoom(
                rs.CreateRoomRequest(
                    room_id=f"{prefix}-{index}",
                    room=room_pb2.Room(valid_until=ts(until)),
                    participants=[pp.Participant(user_id="someone")],
                    request_id=f"req-{prefix}-{index}",
                )
            )
            ids.append(room.room_id)
        return ids

    old_deleted = await make("old-deleted", 30, until=timedelta(days=100))
    for room_id in old_deleted:
        await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id))
    await make("long-ended", 30, until=timedelta(days=1))
    clock.advance(timedelta(days=20))
    recently_deleted = await make("recent-deleted", 5, until=timedelta(days=100))
    for room_id in recently_deleted:
        await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id))
    recently_ended = await make("recent-ended", 5, until=timedelta(days=21))
    # (ended at T0 + 21 days: 14 days before "now", inside the 30-day grace)
    live = await make("live", 5, until=timedelta(days=100))
    clock.advance(timedelta(days=15))  # now T0 + 35 days
    retention = Retention(deleted_rooms=timedelta(days=20), ended_rooms=timedelta(days=30))
    replicas = [Lifecycle(PgLifecycleStore(pool, batch_size=7), clock, retention) for _ in range(2)]
    for _ in range(6):  # race until both have nothing left to do
        await asyncio.gather(*(replica.run_once() for replica in replicas))
    left = {row["room_id"] for row in await pool.fetch("SELECT room_id FROM rooms")}
    assert left == set(recently_deleted + recently_ended + live)
    orphans = await pool.fetchval(
        """SELECT (SELECT count(*) FROM participants p WHERE NOT EXISTS
                     (SELECT 1 FROM rooms r WHERE r.tenant = p.tenant AND r.room_id = p.room_id))
                + (SELECT count(*) FROM room_events e WHERE NOT EXISTS
                     (SELECT 1 FROM rooms r WHERE r.tenant = e.tenant AND r.room_id = e.room_id))
                + (SELECT count(*) FROM idempotency_keys k WHERE NOT EXISTS
                     (SELECT 1 FROM rooms r WHERE r.tenant = k.tenant AND r.room_id = k.room_id))"""
    )
    assert orphans == 0
    assert await pool.fetchval("SELECT count(*) FROM participants") == 15
