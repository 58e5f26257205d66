"""Changes across processes: a change through one replica reaches a watcher on
another, and the example watcher (examples/watch_room.py) prints changes live."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from support.database import ROOT
from tests.events.stream import T, read
from tests.shared.calls import People, Rooms, connect
from tests.shared.processes import replicas

pytestmark = pytest.mark.processes


async def test_a_change_through_one_replica_reaches_a_watcher_on_another(database_url: str) -> None:
    async with (
        replicas(database_url) as ports,
        connect(ports[0]) as one,
        connect(ports[1]) as other,
    ):
        writer, roster, watcher = one.rooms, one.participants, other.rooms
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


async def test_the_example_watcher_prints_changes_live(
    server: Any, rooms: Rooms, participants: People
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
