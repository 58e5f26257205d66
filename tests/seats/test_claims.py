"""Seats end to end: claim with AuthorizeJoin, renew, release, expiry driven by the
manual clock, the capacity rules, ListSeats, and the seat events. The real server,
the real generated client (through `rooms.client`), real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rooms.client import RoomsClient
from rooms.errors import RoomNotFound, SeatNotFound
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import waiting_room_pb2 as wr

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.conftest import T0
from tests.seats.seat_calls import ROOM_FULL, T, at, claim, events_of, open_room, seats


async def test_claim_returns_a_seat_and_a_second_tab_gets_it_back(
    client: RoomsClient, clock: ManualClock
) -> None:
    room_id = await open_room(client)
    first = await claim(client, room_id, "ann")
    assert first.allowed and first.reason == ad.JOIN_DECISION_REASON_ALLOWED
    seat = first.seat
    assert (seat.room_id, seat.user_id, seat.role) == (room_id, "ann", pp.ROLE_ATTENDEE)
    assert at(seat.create_time) == T0
    assert at(seat.expire_time) == T0 + timedelta(seconds=60)
    clock.advance(timedelta(seconds=10))
    second = await claim(client, room_id, "ann")
    assert second.seat.seat_id == seat.seat_id
    assert at(second.seat.expire_time) == T0 + timedelta(seconds=70)
    listed = await seats(client, room_id)
    assert [(s.user_id, s.seat_id) for s in listed] == [("ann", seat.seat_id)]
    taken = [e for e in await events_of(client, room_id) if e.type == T.ROOM_EVENT_TYPE_SEAT_TAKEN]
    assert len(taken) == 1 and taken[0].seat.seat_id == seat.seat_id
    assert taken[0].participant.user_id == "ann"


async def test_without_claim_seat_nobody_is_counted(client: RoomsClient) -> None:
    room_id = await open_room(client, max_participants=1)
    for user in ("a", "b", "c"):
        answer = await client.authorize_join(room_id, user)
        assert answer.allowed and not answer.HasField("seat")
    assert await seats(client, room_id) == []


async def test_renew_extends_and_an_expired_seat_is_gone(
    client: RoomsClient, clock: ManualClock
) -> None:
    room_id = await open_room(client)
    seat = (await claim(client, room_id, "ann")).seat
    clock.advance(timedelta(seconds=30))
    renewed = await client.renew_seat(seat.seat_id)
    assert at(renewed.expire_time) == T0 + timedelta(seconds=90)
    clock.advance(timedelta(seconds=60))  # exactly at expire_time: expired
    with pytest.raises(SeatNotFound) as caught:
        await client.renew_seat(seat.seat_id)
    assert caught.value.metadata == {"seat_id": seat.seat_id}
    assert await seats(client, room_id) == []


async def test_an_unrenewed_seat_frees_itself_for_the_next_claimant(
    client: RoomsClient, clock: ManualClock
) -> None:
    room_id = await open_room(client, max_participants=1)
    held = (await claim(client, room_id, "ann")).seat
    refused = await claim(client, room_id, "bob")
    assert (refused.allowed, refused.reason) == (False, ROOM_FULL)
    assert (refused.capacity_limit, refused.capacity) == (wr.CAPACITY_LIMIT_ROOM, 1)
    assert not refused.HasField("seat")
    clock.advance(timedelta(seconds=61))
    granted = await claim(client, room_id, "bob")
    assert granted.allowed
    history = await events_of(client, room_id)
    expired = [e for e in history if e.type == T.ROOM_EVENT_TYPE_SEAT_EXPIRED]
    assert [e.seat.seat_id for e in expired] == [held.seat_id]
    assert [s.user_id for s in await seats(client, room_id)] == ["bob"]


async def test_the_lifecycle_frees_expired_seats_and_announces_them(
    client: RoomsClient, clock: ManualClock, server: RunningServer, clean: None
) -> None:
    room_id = await open_room(client)
    held = (await claim(client, room_id, "ann")).seat
    kept = (await claim(client, room_id, "bob")).seat
    clock.advance(timedelta(seconds=45))
    await client.renew_seat(kept.seat_id)
    clock.advance(timedelta(seconds=20))
    done = await server.lifecycle.run_once()
    assert done.expired_seats == 1
    assert (await server.lifecycle.run_once()).expired_seats == 0
    history = await events_of(client, room_id)
    (expired,) = [e for e in history if e.type == T.ROOM_EVENT_TYPE_SEAT_EXPIRED]
    assert (expired.seat.seat_id, expired.actor) == (held.seat_id, "system")
    assert [s.user_id for s in await seats(client, room_id)] == ["bob"]


async def test_release_frees_the_seat_once(client: RoomsClient) -> None:
    room_id = await open_room(client, max_participants=1)
    seat = (await claim(client, room_id, "ann")).seat
    await client.release_seat(seat.seat_id)
    await client.release_seat(seat.seat_id)  # again: still a success
    assert await seats(client, room_id) == []
    with pytest.raises(SeatNotFound):
        await client.renew_seat(seat.seat_id)
    assert (await claim(client, room_id, "bob")).allowed
    released = [
        e for e in await events_of(client, room_id) if e.type == T.ROOM_EVENT_TYPE_SEAT_RELEASED
    ]
    assert [e.seat.seat_id for e in released] == [seat.seat_id]


async def test_role_limits_and_reservations(client: RoomsClient) -> None:
    room_id = await open_room(
        client,
        max_participants=3,
        participants={"p1": "presenter", "p2": "presenter", "c1": "consumer", "c2": "consumer"},
        role_capacity={"presenter": (0, 1), "attendee": (1, 0)},
    )
    assert (await claim(client, room_id, "a1")).allowed
    role_full = await claim(client, room_id, "a2")
    assert (role_full.reason, role_full.capacity_limit, role_full.capacity) == (
        ROOM_FULL,
        wr.CAPACITY_LIMIT_ROLE,
        1,
    )
    assert (await claim(client, room_id, "c1")).allowed
    reserved = await claim(client, room_id, "c2")
    assert (reserved.reason, reserved.capacity_limit, reserved.capacity) == (
        ROOM_FULL,
        wr.CAPACITY_LIMIT_RESERVED,
        2,
    )
    assert "reserved" in reserved.message
    presenter = await claim(client, room_id, "p1")
    assert presenter.allowed and presenter.seat.role == pp.ROLE_PRESENTER
    full = await claim(client, room_id, "p2")
    assert (full.capacity_limit, full.capacity) == (wr.CAPACITY_LIMIT_ROOM, 3)


async def test_nobody_takes_a_seat_from_the_waiting_room(client: RoomsClient) -> None:
    room_id = await open_room(client, waiting_room_enabled=True)
    waiting = await claim(client, room_id, "guest")
    assert waiting.reason == ad.JOIN_DECISION_REASON_WAITING_FOR_ADMISSION
    assert not waiting.HasField("seat")
    await client.admit_participant(room_id, "guest")
    assert (await claim(client, room_id, "guest")).HasField("seat")


async def test_removal_frees_the_seat(client: RoomsClient) -> None:
    room_id = await open_room(client, participants={"ann": "attendee"})
    seat = (await claim(client, room_id, "ann")).seat
    await client.remove_participants(room_id, ["ann"])
    assert await seats(client, room_id) == []
    history = await events_of(client, room_id)
    assert history[-2].type == T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED
    assert (history[-1].type, history[-1].seat.seat_id) == (
        T.ROOM_EVENT_TYPE_SEAT_RELEASED,
        seat.seat_id,
    )


async def test_a_seat_never_outlives_the_window(client: RoomsClient) -> None:
    room_id = await open_room(client, valid_until=T0 + timedelta(seconds=20))
    seat = (await claim(client, room_id, "ann")).seat
    assert at(seat.expire_time) == T0 + timedelta(seconds=20)


async def test_list_seats_pages(client: RoomsClient, clock: ManualClock) -> None:
    room_id = await open_room(client)
    for index in range(5):
        clock.advance(timedelta(seconds=1))
        await claim(client, room_id, f"u{4 - index}")
    listed = await seats(client, room_id, page_size=2)
    assert [s.user_id for s in listed] == ["u4", "u3", "u2", "u1", "u0"]
    with pytest.raises(RoomNotFound):
        await seats(client, "no-such-room")
