"""ListRoomsForParticipant end to end: order, roles, the state filter at the clock,
paging past deleted rooms, page tokens, malformed identities and page sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.conftest import T0
from tests.participants.roster import (
    COLLABORATOR,
    CONSUMER,
    INVALID,
    PRESENTER,
    add,
    delete,
    memberships_of,
    tampered,
)
from tests.shared.calls import People, Rooms, make_room, person, ts, unique
from tests.shared.errors import expect_error


async def test_rooms_for_participant_soonest_first_with_role(
    rooms: Rooms, participants: People
) -> None:
    me = unique("me")
    later = await make_room(
        rooms, [person(me, CONSUMER)], start=timedelta(days=2), end=timedelta(days=3)
    )
    soon = await make_room(
        rooms, [person(me, PRESENTER)], start=timedelta(hours=1), end=timedelta(hours=2)
    )
    now = await make_room(
        rooms, [person("someone-else")], start=timedelta(0), end=timedelta(hours=5)
    )
    await add(participants, now.room_id, person(me, COLLABORATOR))
    # Rooms where the identity is not rostered (only a look-alike) do not count.
    await make_room(rooms, [person(me.upper()), person(me + "x")])

    _, found = await memberships_of(participants, me)
    assert [(m.room.room_id, m.role) for m in found] == [
        (now.room_id, COLLABORATOR),
        (soon.room_id, PRESENTER),
        (later.room_id, CONSUMER),
    ]
    by_id = {m.room.room_id: m for m in found}
    assert by_id[now.room_id].create_time == ts()
    assert by_id[now.room_id].room.participant_count == 2
    assert by_id[now.room_id].room.state == room_pb2.ROOM_STATE_OPEN
    assert by_id[soon.room_id].room.state == room_pb2.ROOM_STATE_SCHEDULED
    assert by_id[later.room_id].room == await rooms.GetRoom(
        rs.GetRoomRequest(room_id=later.room_id)
    )


async def test_rooms_for_participant_ties_on_valid_from_go_by_room_id(
    rooms: Rooms, participants: People
) -> None:
    me = unique("tie")
    made = [
        await make_room(rooms, [person(me)], start=timedelta(hours=1), end=timedelta(hours=2))
        for _ in range(4)
    ]
    pages, found = await memberships_of(participants, me, page_size=3)
    assert [m.room.room_id for m in found] == sorted(r.room_id for r in made)
    assert [len(p) for p in pages] == [3, 1]


async def test_rooms_for_participant_by_state_at_the_clock(
    rooms: Rooms, participants: People, clock: ManualClock
) -> None:
    me = unique("state")
    ended = await make_room(
        rooms, [person(me)], start=-timedelta(hours=1), end=timedelta(minutes=30)
    )
    open_ = await make_room(
        rooms, [person(me)], start=timedelta(minutes=10), end=timedelta(hours=2)
    )
    scheduled = await make_room(
        rooms, [person(me, PRESENTER)], start=timedelta(hours=3), end=timedelta(hours=5)
    )
    # At T0 the first is open, the other two scheduled.
    _, at_t0 = await memberships_of(participants, me, state=room_pb2.ROOM_STATE_SCHEDULED)
    assert [m.room.room_id for m in at_t0] == [open_.room_id, scheduled.room_id]

    clock.set(T0 + timedelta(hours=1))
    expectations = {
        room_pb2.ROOM_STATE_SCHEDULED: [scheduled.room_id],
        room_pb2.ROOM_STATE_OPEN: [open_.room_id],
        room_pb2.ROOM_STATE_ENDED: [ended.room_id],
        room_pb2.ROOM_STATE_UNSPECIFIED: [ended.room_id, open_.room_id, scheduled.room_id],
    }
    for state, expected in expectations.items():
        _, found = await memberships_of(participants, me, state=state)
        assert [m.room.room_id for m in found] == expected, state
        if state != room_pb2.ROOM_STATE_UNSPECIFIED:
            assert all(m.room.state == state for m in found)

    # Exactly at valid_until the room has ended; exactly at valid_from it is open.
    clock.set(T0 + timedelta(hours=3))
    _, found = await memberships_of(participants, me, state=room_pb2.ROOM_STATE_OPEN)
    assert [m.room.room_id for m in found] == [scheduled.room_id]
    clock.set(T0 + timedelta(hours=2))
    _, found = await memberships_of(participants, me, state=room_pb2.ROOM_STATE_ENDED)
    assert [m.room.room_id for m in found] == [ended.room_id, open_.room_id]

    error = await expect_error(
        participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=me, state=room_pb2.RoomState.ValueType(9))
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["state"]


async def test_rooms_for_participant_paging_and_deleted_rooms(
    rooms: Rooms, participants: People
) -> None:
    me = unique("pager")
    made = [
        await make_room(rooms, [person(me)], start=timedelta(hours=i), end=timedelta(hours=i + 1))
        for i in (4, 0, 3, 1, 2)
    ]
    expected = [r.room_id for r in sorted(made, key=lambda r: r.valid_from.ToDatetime())]
    pages, found = await memberships_of(participants, me, page_size=2)
    assert pages == [expected[0:2], expected[2:4], expected[4:]]
    assert [m.room.room_id for m in found] == expected

    # A deleted room is not listed; neither is one the identity was removed from.
    await delete(rooms, expected[1])
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=expected[3], user_ids=[me])
    )
    _, found = await memberships_of(participants, me, page_size=1)
    assert [m.room.room_id for m in found] == [expected[0], expected[2], expected[4]]


async def test_rooms_for_participant_rejects_bad_page_tokens(
    rooms: Rooms, participants: People
) -> None:
    me = unique("tok")
    other = unique("tok-other")
    for hours in (1, 2, 3):
        await make_room(
            rooms,
            [person(me), person(other)],
            start=timedelta(hours=hours),
            end=timedelta(hours=hours + 1),
        )
    first = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=me, page_size=1)
    )
    token = first.next_page_token
    assert token
    room = first.memberships[0].room
    participant_token = (
        await participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, page_size=1)
        )
    ).next_page_token
    assert participant_token

    bad_requests = [
        ps.ListRoomsForParticipantRequest(user_id=me, page_token=tampered(token)),
        ps.ListRoomsForParticipantRequest(user_id=me, page_token="not a token"),
        # Another identity's token.
        ps.ListRoomsForParticipantRequest(user_id=other, page_token=token),
        # Another filter.
        ps.ListRoomsForParticipantRequest(
            user_id=me, page_token=token, state=room_pb2.ROOM_STATE_SCHEDULED
        ),
        # Another list call's token.
        ps.ListRoomsForParticipantRequest(user_id=me, page_token=participant_token),
    ]
    for request in bad_requests:
        error = await expect_error(
            participants.ListRoomsForParticipant(request), INVALID, "INVALID_PAGE_TOKEN"
        )
        assert error.fields == ["page_token"]

    rest = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=me, page_size=5, page_token=token)
    )
    assert len(rest.memberships) == 2
    assert rest.next_page_token == ""


@pytest.mark.parametrize("bad_id", ["", "two words", "x" * 257, "ctl\x01"])
async def test_rooms_for_participant_rejects_a_malformed_identity(
    participants: People, bad_id: str
) -> None:
    error = await expect_error(
        participants.ListRoomsForParticipant(ps.ListRoomsForParticipantRequest(user_id=bad_id)),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["user_id"]
    assert error.metadata["field"] == "user_id"


async def test_rooms_for_participant_page_size_rules(participants: People) -> None:
    error = await expect_error(
        participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id="anyone", page_size=-5)
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["page_size"]
    nobody = await participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id=unique("nobody"))
    )
    assert list(nobody.memberships) == []
    assert nobody.next_page_token == ""
