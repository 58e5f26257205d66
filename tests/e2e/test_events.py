"""The change stream, the audit history and the room lifecycle, end to end."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import participants_service_pb2_grpc, room_pb2, rooms_service_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.lifecycle import Lifecycle, Retention
from service.security.keys import new_key
from tests.conftest import T0, ServerFactory
from tests.database import ROOT
from tests.helpers import eventually, expect_error, ts
from tests.processes import free_port, spawn_server

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

Rooms = "RoomsServiceAsyncStub"
T = ev.RoomEventType


async def history(rooms: RoomsServiceAsyncStub, room_id: str) -> list[ev.RoomEvent]:
    events: list[ev.RoomEvent] = []
    token = ""
    while True:
        page = await rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room_id, page_size=3, page_token=token)
        )
        events += page.events
        token = page.next_page_token
        if not token:
            return events


async def read(stream: Any, count: int, within: float = 10) -> list[ev.RoomEvent]:
    got = []
    async with asyncio.timeout(within):
        for _ in range(count):
            got.append(await stream.read())
    return got


async def test_every_change_is_recorded_in_order_with_its_actor_and_values(
    rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
) -> None:
    room = await rooms.CreateRoom(
        rs.CreateRoomRequest(participants=[pp.Participant(user_id="doc", role=pp.ROLE_PRESENTER)])
    )
    assert room.last_event_revision == 2
    await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room.room_id,
            participants=[
                pp.Participant(user_id="pat"),
                pp.Participant(user_id="doc", role=pp.ROLE_COLLABORATOR),
            ],
        )
    )
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, valid_until=ts(timedelta(days=2))),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
        )
    )
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["pat", "nobody"])
    )
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))

    events = await history(rooms, room.room_id)
    assert [e.revision for e in events] == list(range(1, 8))
    assert [e.type for e in events] == [
        T.ROOM_EVENT_TYPE_CREATED,
        T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED,
        T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED,
        T.ROOM_EVENT_TYPE_ROLE_CHANGED,
        T.ROOM_EVENT_TYPE_SETTINGS_CHANGED,
        T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED,
        T.ROOM_EVENT_TYPE_DELETED,
    ]
    assert {e.actor for e in events} == {"anonymous"}
    assert events[0].room.valid_until == room.valid_until
    assert events[1].participant == pp.Participant(user_id="doc", role=pp.ROLE_PRESENTER)
    assert events[3].participant.role == pp.ROLE_COLLABORATOR
    assert events[3].previous_role == pp.ROLE_PRESENTER
    assert list(events[4].changed_fields) == ["valid_until"]
    assert events[4].room.valid_until == updated.valid_until
    assert events[5].participant.user_id == "pat"
    assert events[5].previous_role == pp.ROLE_ATTENDEE
    assert updated.last_event_revision == 5


async def test_list_room_events_orders_and_filters(
    rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    for name in ("a", "b", "c"):
        await participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id=name)]
            )
        )
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b"])
    )
    newest = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id, order=ev.EVENT_ORDER_NEWEST_FIRST, page_size=2
        )
    )
    assert [e.revision for e in newest.events] == [5, 4]
    rest = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id,
            order=ev.EVENT_ORDER_NEWEST_FIRST,
            page_token=newest.next_page_token,
        )
    )
    assert [e.revision for e in rest.events] == [3, 2, 1]
    removals = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id, types=[T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED]
        )
    )
    assert [(e.revision, e.participant.user_id) for e in removals.events] == [(5, "b")]
    # A token belongs to its order and filter.
    await expect_error(
        rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room.room_id, page_token=newest.next_page_token)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
    await expect_error(
        rooms.ListRoomEvents(rs.ListRoomEventsRequest(room_id="missing")),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    await expect_error(
        rooms.ListRoomEvents(rs.ListRoomEventsRequest(room_id=room.room_id, types=[99])),  # type: ignore[list-item]
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )


async def test_watch_resumes_after_a_disconnect_without_gap_or_duplicate(
    rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
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
    rooms: RoomsServiceAsyncStub,
) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    stream = rooms.WatchRoom(
        rs.WatchRoomRequest(room_id=room.room_id, after_revision=room.last_event_revision)
    )
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    events = [event async for event in stream]  # the stream ends after DELETED
    assert [e.type for e in events] == [T.ROOM_EVENT_TYPE_DELETED]


async def test_watch_errors(rooms: RoomsServiceAsyncStub) -> None:
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
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        roster: ParticipantsServiceAsyncStub = (
            participants_service_pb2_grpc.ParticipantsServiceStub(channel)
        )
        room = await rooms.CreateRoom(
            rs.CreateRoomRequest(participants=[pp.Participant(user_id="early")])
        )
        clock.advance(timedelta(days=31))
        await roster.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id="late")]
            )
        )
        lifecycle = Lifecycle(pool, clock, Retention(events=timedelta(days=30)))
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
    target = f"127.0.0.1:{running.port}"
    # A client that keeps gRPC's default 64 KiB flow-control window, so a watcher that
    # does not read soon stops the server's stream (as a slow reader on a far network).
    options = [("grpc.http2.bdp_probe", 0)]
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
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


async def test_open_and_end_are_announced_when_the_clock_gets_there(
    start: ServerFactory, clock: ManualClock, pool: asyncpg.Pool
) -> None:
    running = await start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
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
    rooms: RoomsServiceAsyncStub,
    participants: ParticipantsServiceAsyncStub,
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
    replicas = [Lifecycle(pool, clock, retention, batch_size=7) for _ in range(2)]
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


async def test_a_watcher_sees_only_its_own_tenant(start: ServerFactory) -> None:
    key_a, entry_a = new_key("tenant-a", "a")
    key_b, entry_b = new_key("tenant-b", "b")
    running = await start(api_keys=f"{entry_a.line()},{entry_b.line()}")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        as_a = (("authorization", f"Bearer {key_a}"),)
        as_b = (("authorization", f"Bearer {key_b}"),)
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


async def test_a_change_through_one_replica_reaches_a_watcher_on_another(database_url: str) -> None:
    ports = [free_port(), free_port()]
    processes = [
        await spawn_server(database_url, port, output=asyncio.subprocess.DEVNULL) for port in ports
    ]
    try:
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), 30)
            health: Any = health_pb2_grpc.HealthStub(channel)

            async def serving(health: Any = health) -> bool:
                answer = await health.Check(health_pb2.HealthCheckRequest())
                return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

            await eventually(serving, what="health SERVING")
        writer: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channels[0])
        watcher: RoomsServiceAsyncStub = rooms_service_pb2_grpc.RoomsServiceStub(channels[1])
        roster: ParticipantsServiceAsyncStub = (
            participants_service_pb2_grpc.ParticipantsServiceStub(channels[0])
        )
        room = await writer.CreateRoom(rs.CreateRoomRequest())
        stream = watcher.WatchRoom(
            rs.WatchRoomRequest(room_id=room.room_id, after_revision=room.last_event_revision)
        )
        # A first change, read from the stream: the watcher is connected and caught up.
        await roster.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id="w")]
            )
        )
        assert (await read(stream, 1, within=10))[0].participant.user_id == "w"
        await roster.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id="x")]
            )
        )
        # Well within the 5 s safety poll: the notification carried it.
        got = await read(stream, 1, within=3)
        assert got[0].type == T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED
        assert got[0].participant.user_id == "x"
        stream.cancel()
        for channel in channels:
            await channel.close()
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)


async def test_the_example_watcher_prints_changes_live(
    server: Any, rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    watcher = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / "watch_room.py"),
        room.room_id,
        "--address",
        f"127.0.0.1:{server.port}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert watcher.stdout is not None
        first = await asyncio.wait_for(watcher.stdout.readline(), 30)
        assert b"#1" in first and b"created" in first
        await participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id="dr-who")]
            )
        )
        live = await asyncio.wait_for(watcher.stdout.readline(), 10)
        assert b"#2" in live and b"participant_added dr-who as attendee" in live
        await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
        rest, _ = await asyncio.wait_for(watcher.communicate(), 10)
        assert b"#3" in rest and b"deleted" in rest
        assert watcher.returncode == 0
    finally:
        if watcher.returncode is None:
            watcher.kill()
            await watcher.wait()
