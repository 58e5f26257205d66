"""RemoveParticipants end to end: removal, absent identities, stale etags, errors."""

from __future__ import annotations

from rooms.v1 import participants_service_pb2 as ps

from tests.participants.roster import (
    ABORTED,
    ATTENDEE,
    INVALID,
    NOT_FOUND,
    PRESENTER,
    add,
    delete,
    etag_of,
    roster,
)
from tests.shared.calls import People, Rooms, make_room, person, unique
from tests.shared.errors import expect_error


async def test_remove(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a"), person("b", PRESENTER), person("c")])
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b", "c"])
    )
    assert removed.removed_count == 2
    assert removed.etag != room.etag
    assert await etag_of(rooms, room.room_id) == removed.etag
    assert await roster(participants, room.room_id) == {"a": ATTENDEE}
    await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=room.room_id, user_id="b")),
        NOT_FOUND,
        "PARTICIPANT_NOT_FOUND",
    )


async def test_removing_an_absent_identity_is_a_no_op(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a")])
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["nobody"])
    )
    assert removed.removed_count == 0
    assert removed.etag == room.etag
    assert await etag_of(rooms, room.room_id) == room.etag
    # With the current etag as a precondition too.
    conditional = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["nobody"], etag=room.etag)
    )
    assert (conditional.removed_count, conditional.etag) == (0, room.etag)
    # A mix counts only those that were there.
    mixed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["nobody", "a"])
    )
    assert mixed.removed_count == 1
    assert await roster(participants, room.room_id) == {}


async def test_remove_with_a_stale_etag_is_aborted(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("a"), person("b")])
    current = (await add(participants, room.room_id, person("c"))).etag
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"], etag=room.etag)
        ),
        ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata == {"room_id": room.room_id, "etag": current}
    assert error.preconditions
    assert set(await roster(participants, room.room_id)) == {"a", "b", "c"}
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"], etag=current)
    )
    assert removed.removed_count == 1


async def test_remove_errors(rooms: Rooms, participants: People) -> None:
    missing = unique("never")
    await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=missing, user_ids=["a"])
        ),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    room = await make_room(rooms, [person("a")])
    error = await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a", "bad id"])
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["user_ids[1]"]
    await delete(rooms, room.room_id)
    await expect_error(
        participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["a"])
        ),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
