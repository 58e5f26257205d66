"""Roster changes sent at once to one room: each answers properly, and the room's
participant_count stays the roster's size (also checked for every room afterwards)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from hypothesis import given
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.fuzz.harness import CALL_TIMEOUT, Fuzz
from tests.fuzz.references import Known
from tests.fuzz.rosters import roster_changes
from tests.fuzz.strategies import FUZZ, known_room


@FUZZ
@given(room=known_room, changes=roster_changes)
async def test_fuzz_concurrent_roster_changes(fuzz: Fuzz, room: Known, changes: Any) -> None:
    room_id: str = fuzz.resolve(room)
    calls: list[Awaitable[Any]] = []
    for kind, batch in fuzz.resolve(changes):
        if kind == "add":
            add = ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=batch)
            calls.append(fuzz.send(fuzz.participants.AddOrUpdateParticipants, add))
        else:
            remove = ps.RemoveParticipantsRequest(room_id=room_id, user_ids=batch)
            calls.append(fuzz.send(fuzz.participants.RemoveParticipants, remove))
    await asyncio.gather(*calls)
    got = await fuzz.send(fuzz.rooms.GetRoom, rs.GetRoomRequest(room_id=room_id))
    if got is None:
        return
    roster = await fuzz.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id, page_size=500),
        metadata=(fuzz.auth,),
        timeout=CALL_TIMEOUT,
    )
    if not roster.next_page_token:
        assert got.participant_count == len(roster.participants)
