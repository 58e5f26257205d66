"""The roster's limits end to end: the batch size, a full roster, concurrent adds and
concurrent changes under one etag, and the participant count."""

from __future__ import annotations

import asyncio

import grpc
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.participants.roster import (
    ABORTED,
    ATTENDEE,
    INVALID,
    PRESENTER,
    SMALL_ROSTER,
    add,
    count_of,
    etag_of,
    roster,
)
from tests.shared.calls import People, Rooms, make_room, person
from tests.shared.errors import expect_error, rich_error


async def test_batch_too_large(small: tuple[Rooms, People]) -> None:
    rooms, participants = small
    room = await make_room(rooms, [person("a")])
    error = await expect_error(
        add(participants, room.room_id, person("b"), person("c"), person("d")),
        INVALID,
        "BATCH_TOO_LARGE",
    )
    assert error.fields == ["participants"]
    assert error.metadata == {"field": "participants", "limit": "2", "size": "3"}
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a", "x", "y"])
        ),
        INVALID,
        "BATCH_TOO_LARGE",
    )
    assert error.metadata == {"field": "user_ids", "limit": "2", "size": "3"}
    assert await roster(participants, room.room_id) == {"a": ATTENDEE}
    assert await count_of(rooms, room.room_id) == 1
    assert await etag_of(rooms, room.room_id) == room.etag


async def test_roster_full_leaves_the_roster_unchanged(small: tuple[Rooms, People]) -> None:
    rooms, participants = small
    room = await make_room(rooms, [person("a"), person("b")])
    full = await add(participants, room.room_id, person("c"))
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER

    # A role change of an existing identity plus one new identity: one too many.
    error = await expect_error(
        add(participants, room.room_id, person("a", PRESENTER), person("d")),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "ROSTER_FULL",
    )
    assert error.metadata == {"room_id": room.room_id, "limit": "3", "size": "4"}
    # Nothing of the failed batch stuck, not even the role change.
    assert await roster(participants, room.room_id) == {
        "a": ATTENDEE,
        "b": ATTENDEE,
        "c": ATTENDEE,
    }
    after = await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))
    assert (after.etag, after.participant_count) == (full.etag, SMALL_ROSTER)

    # A full roster still takes role changes and repeats; they add nobody.
    changed = await add(participants, room.room_id, person("a", PRESENTER), person("b"))
    assert [(p.user_id, p.role) for p in changed.participants] == [
        ("a", PRESENTER),
        ("b", ATTENDEE),
    ]
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER

    # Making room lets the new identity in.
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b"])
    )
    await add(participants, room.room_id, person("d"))
    assert await roster(participants, room.room_id) == {
        "a": PRESENTER,
        "c": ATTENDEE,
        "d": ATTENDEE,
    }
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER


async def test_roster_limit_holds_under_concurrent_adds(small: tuple[Rooms, People]) -> None:
    rooms, participants = small
    room = await make_room(rooms)
    outcomes = await asyncio.gather(
        *(add(participants, room.room_id, person(f"racer-{i}")) for i in range(6)),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if isinstance(o, ps.AddOrUpdateParticipantsResponse)]
    failed = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(succeeded) == SMALL_ROSTER
    assert len(failed) == 6 - SMALL_ROSTER
    for error in failed:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert rich_error(error).reason == "ROSTER_FULL"
    winners = {o.participants[0].user_id for o in succeeded}
    assert set(await roster(participants, room.room_id)) == winners
    assert await count_of(rooms, room.room_id) == SMALL_ROSTER


async def test_one_etag_lets_only_one_concurrent_change_through(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms, [person("base")])
    outcomes = await asyncio.gather(
        *(add(participants, room.room_id, person(f"writer-{i}"), etag=room.etag) for i in range(5)),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if isinstance(o, ps.AddOrUpdateParticipantsResponse)]
    failed = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(succeeded) == 1
    assert len(failed) == 4
    assert all(error.code() == ABORTED for error in failed)
    (winner,) = succeeded
    assert set(await roster(participants, room.room_id)) == {
        "base",
        winner.participants[0].user_id,
    }
    assert await etag_of(rooms, room.room_id) == winner.etag


async def test_participant_count_follows_the_roster(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a"), person("b")])
    assert room.participant_count == 2
    await add(participants, room.room_id, person("b", PRESENTER), person("c"), person("d"))
    assert await count_of(rooms, room.room_id) == 4
    await add(participants, room.room_id, person("a"), person("c"))  # repeats
    assert await count_of(rooms, room.room_id) == 4
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a", "zz-absent", "d"])
    )
    assert await count_of(rooms, room.room_id) == 2
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b", "c"])
    )
    assert await count_of(rooms, room.room_id) == 0
    assert await roster(participants, room.room_id) == {}
