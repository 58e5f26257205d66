"""Which identities a roster takes: malformed ones named by field, the longest and
unusual ones, unknown roles, duplicates in a batch, case, and SQL-looking text stored
literally."""

from __future__ import annotations

import pytest
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.participants.roster import (
    ATTENDEE,
    CONSUMER,
    INVALID,
    NOT_FOUND,
    PRESENTER,
    Role,
    add,
    count_of,
    etag_of,
    roster,
)
from tests.shared.calls import People, Rooms, make_room, person
from tests.shared.errors import expect_error


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("has space", id="inner-space"),
        pytest.param(" leading", id="leading-space"),
        pytest.param("tab\there", id="tab"),
        pytest.param("new\nline", id="newline"),
        pytest.param("", id="empty"),
        pytest.param("u" * 257, id="257-chars"),
        pytest.param("bell\x07", id="control-char"),
        pytest.param("nul\x00", id="nul"),
        pytest.param("del\x7f", id="del"),
        pytest.param("nbsp\u00a0x", id="nbsp"),
    ],
)
async def test_malformed_identity_names_the_field(
    rooms: Rooms, participants: People, bad_id: str
) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        add(participants, room.room_id, person("fine"), person(bad_id)),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["participants[1].user_id"]
    assert error.metadata["field"] == "participants[1].user_id"
    # Nothing of the batch was applied.
    assert await roster(participants, room.room_id) == {}
    assert await etag_of(rooms, room.room_id) == room.etag


async def test_identity_of_256_printable_characters_is_accepted(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms)
    longest = "x" * 255 + "é"
    unusual = "8:acs:3f1c_9e2d-ünïcode/ok@host#1"
    added = await add(participants, room.room_id, person(longest), person(unusual))
    assert [p.user_id for p in added.participants] == [longest, unusual]
    assert set(await roster(participants, room.room_id)) == {longest, unusual}


async def test_unknown_role_number_is_rejected(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        add(participants, room.room_id, person("ok"), person("who", Role(99))),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["participants[1].role"]
    assert error.metadata["field"] == "participants[1].role"
    assert await roster(participants, room.room_id) == {}


async def test_duplicate_identity_in_one_batch(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        add(participants, room.room_id, person("a"), person("b"), person("a", PRESENTER)),
        INVALID,
        "DUPLICATE_USER_ID",
    )
    assert error.fields == ["participants[2].user_id"]
    assert error.metadata == {"field": "participants[2].user_id", "user_id": "a"}
    assert await roster(participants, room.room_id) == {}


async def test_identities_are_case_sensitive(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    await add(participants, room.room_id, person("Alice", PRESENTER), person("alice", CONSUMER))
    assert await count_of(rooms, room.room_id) == 2
    for user_id, role in (("Alice", PRESENTER), ("alice", CONSUMER)):
        found = await participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room.room_id, user_id=user_id)
        )
        assert (found.user_id, found.role) == (user_id, role)
    await expect_error(
        participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room.room_id, user_id="ALICE")
        ),
        NOT_FOUND,
        "PARTICIPANT_NOT_FOUND",
    )
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["alice"])
    )
    assert removed.removed_count == 1
    assert await roster(participants, room.room_id) == {"Alice": PRESENTER}


@pytest.mark.parametrize(
    "tricky",
    [
        "x';DROP_TABLE_rooms;--",
        "x';DROP/**/TABLE/**/rooms;--",
        "Robert');DELETE/**/FROM/**/participants;--",
        "%_\\'\"$1",
        "a'OR'1'='1",
    ],
)
async def test_sql_looking_identities_are_stored_literally(
    rooms: Rooms, participants: People, tricky: str
) -> None:
    room = await make_room(rooms, [person("bystander")])
    added = await add(participants, room.room_id, person(tricky, PRESENTER))
    assert added.participants[0].user_id == tricky
    found = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id=tricky)
    )
    assert (found.user_id, found.role) == (tricky, PRESENTER)
    assert await roster(participants, room.room_id) == {"bystander": ATTENDEE, tricky: PRESENTER}
    memberships = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=tricky)
    )
    assert room.room_id in [m.room.room_id for m in memberships.memberships]
    # The rooms table is still there and the room still answers.
    assert await count_of(rooms, room.room_id) == 2


async def test_the_drop_table_identity_with_spaces_is_rejected_not_run(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms)
    tricky = "x';DROP TABLE rooms;--"
    # It holds a space, so it is not a valid identity: rejected, never executed.
    await expect_error(add(participants, room.room_id, person(tricky)), INVALID, "INVALID_ARGUMENT")
    without_space = tricky.replace(" ", "")
    await add(participants, room.room_id, person(without_space))
    assert await roster(participants, room.room_id) == {without_space: ATTENDEE}
    assert (await rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id))).room_id == room.room_id
