"""The change stream (WatchRoom) end to end: resuming without gap or duplicate,
errors, a revision older than the history, a slow watcher that never blocks writers,
and one tenant's watcher seeing only its own rooms."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.domain.lifecycle import Retention
from service.security.keys import new_key
from service.storage.lifecycle import PgLifecycleStore
from service.usecases.lifecycle import Lifecycle
from tests.conftest import ServerFactory
from tests.events.stream import T, history, read
from tests.shared.calls import People, Rooms, bearer, connect
from tests.shared.errors import expect_error


async def test_watch_resumes_after_a_disconnect_without_gap_or_duplicate(
    rooms: Rooms, participants: People
) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())

    async def add(name: str) -> None:
        await participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id=name)]
            )
        )

    stream = rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id))
    seen = await read(stream, 1)
    await add("u1")
    await add("u2")
    seen += await read(stream, 2)
    stream.cancel()
    # Changes while disconnected.
    for index in range(3, 8):
        await add(f"u{index}")
    resumed = rooms.WatchRoom(
        rs.WatchRoomRequest(room_id=room.room_id, after_revision=seen[-1].revision)
    )
    seen += await read(resumed, 5)
    await add("live")  # and live ones after the catch-up
    seen += await read(resumed, 1)
    resumed.cancel()
    assert [e.revision for e in seen] == list(range(1, 10))
    assert [e.participant.user_id for e in seen[1:]] == [f"u{i}" for i in range(1, 8)] + ["live"]
    assert seen == await history(rooms, room.room_id)


async def test_watch_from_the_last_read_revision_sees_only_what_follows(
    rooms: Rooms,
) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    stream = rooms.WatchRoom(
        rs.WatchRoomRequest(room_id=room.room_id, after_revision=room.last_event_revision)
    )
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    events = [event async for event in stream]  # the stream ends after DELETED
    assert [e.type for e in events] == [T.ROOM_EVENT_TYPE_DELETED]


async def test_watch_errors(rooms: Rooms) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    for request, code, reason in [
        (rs.WatchRoomRequest(room_id="missing"), grpc.StatusCode.NOT_FOUND, "ROOM_NOT_FOUND"),
        (rs.WatchRoomRequest(room_id=""), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        (
            rs.WatchRoomRequest(room_id=room.room_id, after_revision=99),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
        ),
        (
            rs.WatchRoomRequest(room_id=room.room_id, after_revision=-1),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
        ),
    ]:
        stream = rooms.WatchRoom(request)
        await expect_error(stream.read(), code, reason)


async def test_a_revision_older_than_the_history_is_refused(
    start: ServerFactory, clock: ManualClock, pool: asyncpg.Pool
) -> None:
    running = await start()
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        roster = stubs.participants
        room = await rooms.CreateRoom(
            rs.CreateRoomRequest(participants=[pp.Participant(user_id="early")])
        )
        clock.advance(timedelta(days=31))
        await roster.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id="late")]
            )
        )
        lifecycle = Lifecycle(PgLifecycleStore(pool), clock, Retention(events=timedelta(days=30)))
        done = await lifecycle.run_once()
        assert done.purged_events >= 1
        error = await expect_error(
            rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id, after_revision=1)).read(),
            grpc.StatusCode.OUT_OF_RANGE,
            "REVISION_EXPIRED",
        )
        assert int(error.metadata["oldest_revision"]) > 2
        # From 0: whatever is retained.
        retained = rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id))
        first = await read(retained, 1)
        assert first[0].revision == int(error.metadata["oldest_revision"])
        retained.cancel()
    await running.stop(0)


async def test_a_slow_watcher_never_blocks_writers(start: ServerFactory) -> None:
    running = await start(watch_max_lag=20)
    # A client that keeps gRPC's default 64 KiB flow-control window, so a watcher that
    # does not read soon stops the server's stream (as a slow reader on a far network).
    options = [("grpc.http2.bdp_probe", 0)]
    async with connect(running.port, options=options) as stubs:
        rooms = stubs.rooms
        room = await rooms.CreateRoom(rs.CreateRoomRequest())
        slow = rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id))
        first = await read(slow, 1)
        # The watcher stops reading; writes of large events go on and all complete.
        big = {f"k{i}": chr(ord("a") + i % 26) * 500 for i in range(30)}
        for index in range(60):
            await rooms.UpdateRoom(
                rs.UpdateRoomRequest(
                    room=room_pb2.Room(room_id=room.room_id, metadata={**big, "n": str(index)}),
                    update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
                ),
                timeout=10,
            )
        # Reading again: the watcher is told it fell behind, with where to resume.
        received = list(first)
        with pytest.raises(grpc.aio.AioRpcError) as behind:
            async with asyncio.timeout(20):
                while True:
                    event = await slow.read()
                    assert isinstance(event, ev.RoomEvent)
                    received.append(event)
        assert behind.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        last = received[-1].revision
        assert last < 61
        assert [e.revision for e in received] == list(range(1, last + 1))
        # Resuming from the last revision received delivers the rest, in order.
        resumed = rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id, after_revision=last))
        rest = await read(resumed, 61 - last)
        resumed.cancel()
        assert [e.revision for e in rest] == list(range(last + 1, 62))
        assert rest[-1].room.metadata["n"] == "59"
    await running.stop(0)


async def test_a_watcher_sees_only_its_own_tenant(start: ServerFactory) -> None:
    key_a, entry_a = new_key("tenant-a", "a")
    key_b, entry_b = new_key("tenant-b", "b")
    running = await start(api_keys=f"{entry_a.line()},{entry_b.line()}")
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        as_a = bearer(key_a)
        as_b = bearer(key_b)
        room = await rooms.CreateRoom(rs.CreateRoomRequest(room_id="shared-name"), metadata=as_a)
        await expect_error(
            rooms.WatchRoom(rs.WatchRoomRequest(room_id=room.room_id), metadata=as_b).read(),
            grpc.StatusCode.NOT_FOUND,
            "ROOM_NOT_FOUND",
        )
        events = await rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id="shared-name"), metadata=as_a
        )
        assert events.events[0].actor == "a"
        missing = await expect_error(
            rooms.ListRoomEvents(rs.ListRoomEventsRequest(room_id="shared-name"), metadata=as_b),
            grpc.StatusCode.NOT_FOUND,
            "ROOM_NOT_FOUND",
        )
        assert missing.metadata == {"room_id": "shared-name"}
        # Tenant B may have its own room of that name, with its own history.
        await rooms.CreateRoom(rs.CreateRoomRequest(room_id="shared-name"), metadata=as_b)
        theirs = await rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id="shared-name"), metadata=as_b
        )
        assert [(e.revision, e.actor) for e in theirs.events] == [(1, "b")]
    await running.stop(0)
