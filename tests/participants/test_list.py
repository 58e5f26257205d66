"""ListParticipants and GetParticipant end to end: order, paging, the role filter,
page sizes, page tokens, unknown and deleted rooms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps

from service.domain.clock import ManualClock
from tests.participants.roster import (
    ATTENDEE,
    COLLABORATOR,
    CONSUMER,
    INVALID,
    NOT_FOUND,
    PRESENTER,
    Role,
    add,
    delete,
    list_all,
    tampered,
)
from tests.shared.calls import People, Rooms, make_room, person, ts, unique
from tests.shared.errors import expect_error


async def test_list_in_a_stable_order_by_user_id(rooms: Rooms, participants: People) -> None:
    ids = ["carol", "alice", "Bob", "bob", "_x", "0zero", "dave"]
    room = await make_room(rooms, [person(u) for u in ids[:2]])
    await add(participants, room.room_id, *(person(u) for u in ids[2:]))
    expected = sorted(ids)  # byte order: digits < upper case < "_" < lower case
    assert expected == ["0zero", "Bob", "_x", "alice", "bob", "carol", "dave"]
    listed = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert [p.user_id for p in listed.participants] == expected
    assert listed.next_page_token == ""
    again = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert again == listed


@pytest.mark.parametrize("count", [5, 4, 1])
async def test_paging_collects_everyone_exactly_once(
    rooms: Rooms, participants: People, count: int
) -> None:
    ids = [f"user-{i:02d}" for i in range(count)]
    room = await make_room(rooms)
    await add(participants, room.room_id, *(person(u) for u in reversed(ids)))
    pages, everyone = await list_all(participants, room.room_id, page_size=2)
    assert [p.user_id for p in everyone] == ids
    assert all(len(page) == 2 for page in pages[:-1])
    assert len(pages) == (count + 1) // 2


async def test_paging_sees_changes_between_pages_without_repeats(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms, [person(u) for u in ("b", "d")])
    await add(participants, room.room_id, person("f"), person("h"))
    first = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=2)
    )
    assert [p.user_id for p in first.participants] == ["b", "d"]
    # Keyset paging: an identity added before the cursor is not seen, one after it is.
    await add(participants, room.room_id, person("a"), person("e"))
    rest = await participants.ListParticipants(
        ps.ListParticipantsRequest(
            room_id=room.room_id, page_size=10, page_token=first.next_page_token
        )
    )
    assert [p.user_id for p in rest.participants] == ["e", "f", "h"]
    assert rest.next_page_token == ""


async def test_list_by_role(rooms: Rooms, participants: People) -> None:
    room = await make_room(
        rooms,
        [person("p1", PRESENTER), person("a1"), person("c1", CONSUMER)],
    )
    await add(
        participants,
        room.room_id,
        person("p2", PRESENTER),
        person("x1", COLLABORATOR),
        person("p0", PRESENTER),
    )
    pages, presenters = await list_all(participants, room.room_id, page_size=2, role=PRESENTER)
    assert pages == [["p0", "p1"], ["p2"]]
    assert all(p.role == PRESENTER for p in presenters)
    _, attendees = await list_all(participants, room.room_id, page_size=0, role=ATTENDEE)
    assert [p.user_id for p in attendees] == ["a1"]
    _, collaborators = await list_all(participants, room.room_id, 0, role=COLLABORATOR)
    assert [p.user_id for p in collaborators] == ["x1"]
    _, everyone = await list_all(participants, room.room_id, page_size=0)
    assert len(everyone) == 6
    error = await expect_error(
        participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, role=Role(42))
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["role"]


async def test_list_of_an_empty_roster(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    listed = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert list(listed.participants) == []
    assert listed.next_page_token == ""
    await add(participants, room.room_id, person("solo"))
    by_role = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, role=PRESENTER)
    )
    assert list(by_role.participants) == []
    assert by_role.next_page_token == ""


async def test_list_page_sizes(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms)
    ids = [f"u{i:03d}" for i in range(501)]
    await add(participants, room.room_id, *(person(u) for u in ids))

    error = await expect_error(
        participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, page_size=-1)
        ),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["page_size"]

    default = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=0)
    )
    assert [p.user_id for p in default.participants] == ids[:50]
    assert default.next_page_token

    capped = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=100_000)
    )
    assert [p.user_id for p in capped.participants] == ids[:500]
    last = await participants.ListParticipants(
        ps.ListParticipantsRequest(
            room_id=room.room_id, page_size=100_000, page_token=capped.next_page_token
        )
    )
    assert [p.user_id for p in last.participants] == ids[500:]
    assert last.next_page_token == ""


async def test_list_rejects_bad_page_tokens(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person(u, PRESENTER) for u in ("a", "b", "c")])
    other = await make_room(rooms, [person(u, PRESENTER) for u in ("a", "b", "c")])
    first = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=1)
    )
    token = first.next_page_token
    assert token
    membership_token = (
        await participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id="a", page_size=1)
        )
    ).next_page_token
    assert membership_token

    bad_requests = [
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=tampered(token)),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=token[:-3]),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token="garbage!!"),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token="é" * 20),
        ps.ListParticipantsRequest(room_id=room.room_id, page_token="A" * 2000),
        # Another room's token.
        ps.ListParticipantsRequest(room_id=other.room_id, page_token=token),
        # The same room with another filter.
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=token, role=PRESENTER),
        # Another list call's token.
        ps.ListParticipantsRequest(room_id=room.room_id, page_token=membership_token),
    ]
    for request in bad_requests:
        error = await expect_error(
            participants.ListParticipants(request), INVALID, "INVALID_PAGE_TOKEN"
        )
        assert error.metadata == {"field": "page_token"}
        assert error.fields == ["page_token"]

    # The genuine token still works, with the same filters.
    second = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=1, page_token=token)
    )
    assert [p.user_id for p in second.participants] == ["b"]
    # And a token made under a role filter works only under that filter.
    filtered = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room.room_id, page_size=1, role=PRESENTER)
    )
    await expect_error(
        participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room.room_id, page_token=filtered.next_page_token)
        ),
        INVALID,
        "INVALID_PAGE_TOKEN",
    )


async def test_list_of_an_unknown_or_deleted_room(rooms: Rooms, participants: People) -> None:
    missing = unique("never")
    error = await expect_error(
        participants.ListParticipants(ps.ListParticipantsRequest(room_id=missing)),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert error.metadata == {"room_id": missing}
    room = await make_room(rooms, [person("a")])
    await delete(rooms, room.room_id)
    await expect_error(
        participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id)),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    error = await expect_error(
        participants.ListParticipants(ps.ListParticipantsRequest(room_id="")),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room_id"]


async def test_get_participant(rooms: Rooms, participants: People, clock: ManualClock) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    clock.advance(timedelta(minutes=3))
    await add(participants, room.room_id, person("guest", CONSUMER))
    host = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id="host")
    )
    assert host == pp.Participant(
        user_id="host", role=PRESENTER, create_time=ts(), update_time=ts()
    )
    guest = await participants.GetParticipant(
        ps.GetParticipantRequest(room_id=room.room_id, user_id="guest")
    )
    later = ts(timedelta(minutes=3))
    assert guest == pp.Participant(
        user_id="guest", role=CONSUMER, create_time=later, update_time=later
    )


async def test_get_participant_errors(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    error = await expect_error(
        participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room.room_id, user_id="stranger")
        ),
        NOT_FOUND,
        "PARTICIPANT_NOT_FOUND",
    )
    assert error.metadata == {"room_id": room.room_id, "user_id": "stranger"}

    missing = unique("never")
    error = await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=missing, user_id="host")),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert error.metadata == {"room_id": missing}

    error = await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=room.room_id, user_id="")),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["user_id"]

    await delete(rooms, room.room_id)
    await expect_error(
        participants.GetParticipant(ps.GetParticipantRequest(room_id=room.room_id, user_id="host")),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
