"""The Python client's WatchRoom: it follows a room until its deletion, and resumes
(telling the caller) when its server restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from rooms.client import RoomsClient
from rooms.errors import (
    RoomsError,
)


async def test_watch_room_follows_until_delete_and_lists_history(server: Any) -> None:
    from rooms.v1 import events_pb2

    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        room = await client.create_room(participants={"ann": "presenter"})
        seen: list[events_pb2.RoomEvent] = []
        caught_up = asyncio.Event()

        async def follow() -> None:
            async for event in client.watch_room(room.room_id):
                seen.append(event)
                if len(seen) == 2:  # the history: created, ann added
                    caught_up.set()

        watching = asyncio.ensure_future(follow())
        await asyncio.wait_for(caught_up.wait(), 10)  # the watch is live: delete now
        await client.delete_room(room.room_id)
        await asyncio.wait_for(watching, 10)
        assert [e.revision for e in seen] == [1, 2, 3]
        assert seen[-1].type == events_pb2.ROOM_EVENT_TYPE_DELETED
        history = [e async for e in client.list_room_events(room.room_id, newest_first=True)]
        assert [e.revision for e in history] == [3, 2, 1]


async def test_watch_room_reports_each_resume(start: Any) -> None:
    """The stream breaks when its server stops; the watcher is told (the CLI prints it),
    resumes from its last revision on the restarted server, and misses nothing."""
    from rooms.v1 import events_pb2

    from support.processes import free_port

    address = f"127.0.0.1:{free_port()}"
    first = await start(listen_address=address)
    resumes: list[tuple[str, int]] = []

    def resumed(error: RoomsError, last: int) -> None:
        resumes.append((error.code.name, last))

    async with RoomsClient(address) as client:
        room = await client.create_room(participants={"ann": "presenter"})
        events = client.watch_room(room.room_id, resume_delay=0.05, on_resume=resumed)
        assert (await anext(events)).type == events_pb2.ROOM_EVENT_TYPE_CREATED
        assert (await anext(events)).revision == 2
        await first.stop(0)
        await start(listen_address=address)
        await client.delete_room(room.room_id)
        rest = [event async for event in events]
        assert [e.revision for e in rest] == [3]
        assert resumes and resumes[0] == ("UNAVAILABLE", 2)
