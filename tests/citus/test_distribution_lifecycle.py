"""The lifecycle on a distributed PostgreSQL (Citus, sharded by tenant; docs/scaling.md),
proven on plain PostgreSQL: it locks one tenant's rows at a time and notifies after the
commit; a replica that meets the lifecycle's lock stops and leaves the work to the
holder. The statements are recorded as in test_distribution.py."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.server import RunningServer
from service.storage.history import LIFECYCLE_LOCK_KEY
from tests.conftest import T0
from tests.shared.calls import connect, ts
from tests.shared.statements import StatementLog, check_statements

if TYPE_CHECKING:
    pass


@pytest.mark.usefixtures("clean")
async def test_the_lifecycle_locks_one_tenant_at_a_time_and_notifies_after_commit(
    recording: tuple[RunningServer, StatementLog, dict[str, str]],
    clock: ManualClock,
    pool: asyncpg.Pool,
) -> None:
    running, log, keys = recording
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        for key in keys.values():
            auth = (("authorization", f"Bearer {key}"),)
            for index in range(4):  # more than a batch (3) per tenant
                await rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        room_id=f"soon-{index}",
                        request_id=f"req-{index}",
                        room=room_pb2.Room(
                            valid_from=ts(timedelta(hours=1)), valid_until=ts(timedelta(hours=2))
                        ),
                    ),
                    metadata=auth,
                )
            await rooms.CreateRoom(  # open now, for 100 days: only its old events go
                rs.CreateRoomRequest(
                    room_id="long",
                    request_id="req-long",
                    room=room_pb2.Room(valid_until=ts(timedelta(days=100))),
                ),
                metadata=auth,
            )
            await rooms.CreateRoom(rs.CreateRoomRequest(room_id="gone"), metadata=auth)
            await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id="gone"), metadata=auth)
    before = len(log.statements)
    clock.set(T0 + timedelta(hours=1))
    opened = await running.lifecycle.run_once()
    clock.set(T0 + timedelta(days=8))  # "soon" ended; "gone" past its 7-day grace
    ended = await running.lifecycle.run_once()
    clock.set(T0 + timedelta(days=40))  # "soon" past its 30 days; old events of "long"
    purged = await running.lifecycle.run_once()

    lifecycle = StatementLog()
    lifecycle.statements = log.statements[before:]
    async with pool.acquire() as conn:
        problems = await check_statements(lifecycle, conn)
    assert not problems, "\n".join(problems)

    assert opened.announced == 10  # the "soon" rooms and "long"
    assert (ended.announced, ended.purged_rooms) == (8, 2)
    assert (purged.purged_rooms, purged.purged_events) == (8, 4)
    left = await pool.fetch("SELECT tenant, room_id FROM rooms ORDER BY tenant")
    assert [tuple(row) for row in left] == [("tenant-a", "long"), ("tenant-b", "long")]
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 2
    transactions = list(lifecycle.transactions())
    assert transactions, "the lifecycle works in transactions"
    for transaction in transactions:
        assert "pg_try_advisory_xact_lock" in transaction.statements[0].query
    announcing = [
        t for t in transactions if any("INSERT INTO room_events" in s.query for s in t.statements)
    ]
    assert len(announcing) >= 4  # per tenant, per batch of 3
    for transaction in announcing:
        assert transaction.next_statement is not None
        assert transaction.next_statement.is_notify
        assert not transaction.next_statement.in_transaction


async def test_a_replica_meeting_the_lifecycle_lock_stops_and_leaves_the_work(
    recording: tuple[RunningServer, StatementLog, dict[str, str]],
    clock: ManualClock,
    pool: asyncpg.Pool,
    database_url: str,
) -> None:
    running, _, keys = recording
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        auth = (("authorization", f"Bearer {keys['tenant-a']}"),)
        room = await rooms.CreateRoom(
            rs.CreateRoomRequest(
                room=room_pb2.Room(
                    valid_from=ts(timedelta(hours=1)), valid_until=ts(timedelta(hours=2))
                )
            ),
            metadata=auth,
        )
        clock.set(T0 + timedelta(hours=1))
        other: Any = await asyncpg.connect(database_url)
        try:
            async with other.transaction():  # another replica holds the lock
                await other.execute("SELECT pg_advisory_xact_lock($1)", LIFECYCLE_LOCK_KEY)
                assert (await running.lifecycle.run_once()).announced == 0
        finally:
            await other.close()
        assert (await running.lifecycle.run_once()).announced >= 1
        events = await rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room.room_id), metadata=auth
        )
        assert [e.revision for e in events.events] == [1, 2]
