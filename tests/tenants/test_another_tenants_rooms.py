"""Tenant isolation, end to end: for every RPC that names a room, tenant B can neither
read, change, list, delete nor be admitted to tenant A's rooms (or seats and knocks):
another tenant's room answers exactly like a room that never existed (same status
code, message, ErrorInfo and every other detail), and tenant A sees no change at all
afterwards."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from rooms.v1 import (
    admission_pb2,
    participant_pb2,
    room_pb2,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import unique
from tests.tenants.calls import join_calls, room_calls
from tests.tenants.observe import (
    ATTENDEE,
    CONSUMER,
    NOT_FOUND,
    PRESENTER,
    Failure,
    Tenants,
    must_fail,
    outcome,
    snapshot,
)


async def test_another_tenants_room_answers_exactly_like_a_room_that_never_existed(
    tenants: Tenants, pool: asyncpg.Pool
) -> None:
    a, b = tenants.a, tenants.b
    invite_only = unique("visit")
    open_room = unique("webinar")
    deleted = unique("gone")
    never = unique("never")
    ids = [invite_only, open_room, deleted]
    guest = unique("guest")

    # 1. Before tenant A has anything: what B hears about these ids (they exist nowhere).
    before: dict[tuple[str, str], Any] = {}
    for room_id in ids:
        for name, call in {
            **room_calls(b, room_id, guest, '"1"'),
            **join_calls(b, room_id, guest),
        }.items():
            before[room_id, name] = await outcome(call)

    # 2. Tenant A creates the rooms, with rosters; one room it deletes again.
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=invite_only,
            room=room_pb2.Room(metadata={"owner": "a"}),
            participants=[
                participant_pb2.Participant(user_id="host", role=PRESENTER),
                participant_pb2.Participant(user_id=guest, role=ATTENDEE),
            ],
        ),
        metadata=a.metadata,
    )
    await a.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=invite_only,
            participants=[participant_pb2.Participant(user_id="viewer", role=CONSUMER)],
        ),
        metadata=a.metadata,
    )
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=open_room,
            room=room_pb2.Room(
                join_policy=room_pb2.JOIN_POLICY_OPEN, open_join_role=participant_pb2.ROLE_CONSUMER
            ),
            participants=[participant_pb2.Participant(user_id=guest, role=PRESENTER)],
        ),
        metadata=a.metadata,
    )
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=deleted, participants=[participant_pb2.Participant(user_id=guest)]
        ),
        metadata=a.metadata,
    )
    await a.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=deleted), metadata=a.metadata)

    live = [invite_only, open_room]
    users = [guest, "host", "viewer", "stranger", "intruder"]
    original = await snapshot(a, live, users)
    # The rooms are there for A, with their rosters, and admit A's guest.
    assert [p.user_id for p in original.rosters[invite_only]] == sorted([guest, "host", "viewer"])
    assert original.decisions[invite_only, guest].allowed
    assert original.decisions[open_room, "stranger"].allowed  # open room: anyone of A
    assert len(original.memberships[guest]) == 2

    # 3. Now B tries every call on A's rooms, with A's real etags.
    for room_id in ids:
        etag = original.rooms[room_id].etag if room_id in original.rooms else '"3"'
        calls = {**room_calls(b, room_id, guest, etag), **join_calls(b, room_id, guest)}
        # The same calls with the etag B tried before (for the exact comparison).
        first_calls = {**room_calls(b, room_id, guest, '"1"'), **join_calls(b, room_id, guest)}
        for name, call in calls.items():
            result = await outcome(call)
            again = await outcome(first_calls[name])
            if name.startswith("AuthorizeJoin"):
                assert isinstance(result, rs.AuthorizeJoinResponse), (name, result)
                assert not result.allowed
                assert result.reason == admission_pb2.JOIN_DECISION_REASON_ROOM_NOT_FOUND
                assert result.role == participant_pb2.ROLE_UNSPECIFIED
                assert not result.capabilities
                assert not result.HasField("valid_from")
                assert not result.HasField("valid_until")
            else:
                assert isinstance(result, Failure), (name, room_id, result)
                assert (result.code, result.reason) == (NOT_FOUND, "ROOM_NOT_FOUND"), (name, result)
                assert result.metadata == (("room_id", room_id),)
                assert result.domain == "rooms.v1"
            # Exactly what B heard before the room existed anywhere...
            assert again == before[room_id, name], (name, room_id)
            # ...and, with the id swapped, what B hears about an id nobody ever used.
            never_calls = {
                **room_calls(b, never, guest, etag),
                **join_calls(b, never, guest),
            }
            unknown = await outcome(never_calls[name])
            if isinstance(unknown, Failure):
                assert isinstance(result, Failure)
                assert result == unknown.replacing(never, room_id), (name, room_id)
            else:
                assert result == unknown, (name, room_id)

    # 4. B's own view: none of A's rooms, none of A's memberships.
    b_rooms = await b.rooms.ListRooms(rs.ListRoomsRequest(page_size=500), metadata=b.metadata)
    assert not set(ids) & {room.room_id for room in b_rooms.rooms}
    for user_id in users:
        found = await b.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id), metadata=b.metadata
        )
        assert list(found.memberships) == [], user_id
        assert not found.next_page_token

    # Nothing of B's attempts reached the database under either tenant.
    for table in ("rooms", "participants"):
        intruded = await pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE tenant = $1 AND room_id = ANY($2::text[])",
            b.name,
            [*ids, never],
        )
        assert intruded == 0, table
    intruders = await pool.fetchval(
        "SELECT count(*) FROM participants WHERE user_id = 'intruder' AND room_id = ANY($1)",
        ids,
    )
    assert intruders == 0

    # 5. A sees no change at all: rooms (etag, update_time, metadata...), rosters,
    # listings, memberships and join decisions are exactly as before.
    assert await snapshot(a, live, users) == original
    # A's deleted room is still A's: deleting it again succeeds for A.
    await a.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=deleted), metadata=a.metadata)


async def test_seats_and_knocks_do_not_cross_tenants(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    room_id = unique("seated")
    await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(join_policy=room_pb2.JOIN_POLICY_OPEN, waiting_room_enabled=True),
            participants=[participant_pb2.Participant(user_id="host", role=PRESENTER)],
        ),
        metadata=a.metadata,
    )
    await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest", display_name="Guest"),
        metadata=a.metadata,
    )
    seat = (
        await a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="host", claim_seat=True),
            metadata=a.metadata,
        )
    ).seat
    assert seat.seat_id

    missing = unique("never")
    by_room: tuple[Callable[[str], Awaitable[Any]], ...] = (
        lambda r: b.participants.ListKnocks(ps.ListKnocksRequest(room_id=r), metadata=b.metadata),
        lambda r: b.participants.ListSeats(ps.ListSeatsRequest(room_id=r), metadata=b.metadata),
        lambda r: b.participants.AdmitParticipant(
            ps.AdmitParticipantRequest(room_id=r, user_id="guest"), metadata=b.metadata
        ),
        lambda r: b.participants.DenyParticipant(
            ps.DenyParticipantRequest(room_id=r, user_id="guest"), metadata=b.metadata
        ),
    )
    for call in by_room:
        theirs = await must_fail(functools.partial(call, room_id))
        never = await must_fail(functools.partial(call, missing))
        assert theirs == never.replacing(missing, room_id)
        assert theirs.reason == "ROOM_NOT_FOUND"

    other_seat = "a" * 26
    theirs = await must_fail(
        lambda: b.participants.RenewSeat(
            ps.RenewSeatRequest(seat_id=seat.seat_id), metadata=b.metadata
        )
    )
    never = await must_fail(
        lambda: b.participants.RenewSeat(
            ps.RenewSeatRequest(seat_id=other_seat), metadata=b.metadata
        )
    )
    assert theirs == never.replacing(other_seat, seat.seat_id)
    assert theirs.reason == "SEAT_NOT_FOUND"
    # Releasing another tenant's seat "succeeds" as for any free seat, and frees nothing.
    await b.participants.ReleaseSeat(
        ps.ReleaseSeatRequest(seat_id=seat.seat_id), metadata=b.metadata
    )
    listed = await a.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=a.metadata
    )
    assert [s.seat_id for s in listed.seats] == [seat.seat_id]
    knocks = await a.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=a.metadata
    )
    assert [(k.user_id, k.display_name) for k in knocks.knocks] == [("guest", "Guest")]
