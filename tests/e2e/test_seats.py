"""Seats end to end: claim with AuthorizeJoin, renew, release, expiry driven by the
manual clock, the capacity rules, ListSeats, and the seat events. The real server,
the real generated client (through `rooms.client`), real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from google.protobuf import timestamp_pb2
from rooms.client import RoomsClient
from rooms.errors import InvalidArgument, InvalidCapacity, RoomNotFound, SeatNotFound
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import waiting_room_pb2 as wr

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.conftest import T0, ServerFactory
from tests.shared.waiting import eventually, waiting_for_a_lock

ROOM_FULL = ad.JOIN_DECISION_REASON_ROOM_FULL
T = ev.RoomEventType


def at(value: timestamp_pb2.Timestamp) -> datetime:
    return value.ToDatetime(tzinfo=UTC)


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RoomsClient]:
    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        yield client


async def open_room(client: RoomsClient, **settings: Any) -> str:
    room = await client.create_room(join_policy="open", **settings)
    return room.room_id


async def seats(client: RoomsClient, room_id: str, **kw: Any) -> list[wr.Seat]:
    return [s async for s in client.list_seats(room_id, **kw)]


async def claim(client: RoomsClient, room_id: str, user_id: str) -> rs.AuthorizeJoinResponse:
    return await client.authorize_join(room_id, user_id, claim_seat=True)


async def events_of(client: RoomsClient, room_id: str) -> list[ev.RoomEvent]:
    return [e async for e in client.list_room_events(room_id)]


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


async def test_capacity_settings_are_checked(client: RoomsClient) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"max_participants": 351}, "room.max_participants", "ABOVE_CEILING"),
        ({"max_participants": -1}, "room.max_participants", "NEGATIVE"),
        (
            {"role_capacity": {"presenter": (2, 3)}},
            "room.role_capacity[0].reserved",
            "RESERVED_ABOVE_MAX",
        ),
        (
            {"max_participants": 4, "role_capacity": {"presenter": (0, 3), "attendee": (0, 2)}},
            "room.role_capacity",
            "RESERVED_ABOVE_ROOM",
        ),
    ]
    for settings, field, rule in cases:
        with pytest.raises(InvalidCapacity) as caught:
            await client.create_room(**settings)
        assert caught.value.fields == [field], settings
        assert caught.value.metadata["rule"] == rule
    room = await client.create_room(role_capacity={"presenter": (0, 2)})
    with pytest.raises(InvalidCapacity) as caught:
        await client.update_room(room.room_id, max_participants=1)
    assert caught.value.fields == ["room.role_capacity"]
    updated = await client.update_room(room.room_id, max_participants=2)
    assert updated.max_participants == 2
    assert [(r.role, r.reserved) for r in updated.role_capacity] == [(pp.ROLE_PRESENTER, 2)]
    with pytest.raises(InvalidArgument):
        await client.renew_seat("not a seat id")


async def test_settings_appear_in_events(client: RoomsClient) -> None:
    room = await client.create_room(
        waiting_room_enabled=True, max_participants=10, role_capacity={"presenter": (2, 1)}
    )
    (created, *_) = await events_of(client, room.room_id)
    assert created.room.waiting_room_enabled and created.room.max_participants == 10
    assert created.room.role_capacity[0].reserved == 1
    await client.update_room(room.room_id, waiting_room_enabled=False)
    changed = (await events_of(client, room.room_id))[-1]
    assert list(changed.changed_fields) == ["waiting_room_enabled"]


async def test_server_settings_seat_ttl_and_ceiling(start: ServerFactory) -> None:
    running = await start(seat_ttl_seconds=5, max_participants=2)
    async with RoomsClient(f"127.0.0.1:{running.port}") as client:
        with pytest.raises(InvalidCapacity):
            await client.create_room(max_participants=3)
        room_id = await open_room(client)  # 0: the server's ceiling of 2
        seat = (await claim(client, room_id, "a")).seat
        assert at(seat.expire_time) == T0 + timedelta(seconds=5)
        assert (await claim(client, room_id, "b")).allowed
        full = await claim(client, room_id, "c")
        assert (full.capacity_limit, full.capacity) == (wr.CAPACITY_LIMIT_ROOM, 2)


async def test_authorize_join_without_claim_is_one_database_round_trip(
    client: RoomsClient, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    room_id = await open_room(client, participants={"ann": "attendee"})
    waiting_room = await open_room(client, waiting_room_enabled=True)
    await client.authorize_join(waiting_room, "guest")  # the first knock
    calls: list[str] = []
    # Count every use of the server's pool (asyncpg's Pool has slots: patch its class).
    for name in ("fetch", "fetchrow", "fetchval", "execute", "acquire"):
        original: Callable[..., Any] = getattr(asyncpg.Pool, name)

        def counting(
            self: Any, *args: Any, _name: str = name, _original: Any = original, **kw: Any
        ) -> Any:
            if self is server.pool:
                calls.append(_name)
            return _original(self, *args, **kw)

        monkeypatch.setattr(asyncpg.Pool, name, counting)
    for user in ("ann", "stranger"):
        calls.clear()
        await client.authorize_join(room_id, user)
        # One statement (Pool.fetchrow takes its connection with Pool.acquire itself).
        assert calls == ["fetchrow", "acquire"], user
    # A knock already recorded: the read, then one statement moving last_knock_time
    # (run on a connection of its own, so that a first knock can notify after it).
    calls.clear()
    await client.authorize_join(waiting_room, "guest")
    assert calls == ["fetchrow", "acquire", "acquire"]


async def test_a_removal_between_the_decision_and_the_claim_takes_effect(
    client: RoomsClient, pool: asyncpg.Pool
) -> None:
    """The claim checks under the room's lock that the room is still at the revision
    the decision was read at; here a removal commits in between, so the claim decides
    again and the removed identity gets no seat."""
    room = await client.create_room(participants={"ann": "attendee"})
    connection = await pool.acquire()
    try:
        transaction = connection.transaction()
        await transaction.start()
        tenant = await connection.fetchval(
            "SELECT tenant FROM rooms WHERE room_id = $1", room.room_id
        )
        await connection.execute(
            "SELECT 1 FROM rooms WHERE tenant = $1 AND room_id = $2 FOR UPDATE",
            tenant,
            room.room_id,
        )
        call = asyncio.ensure_future(claim(client, room.room_id, "ann"))
        # The claim has decided and now waits for our lock.
        await eventually(
            lambda: waiting_for_a_lock(pool, "%max_participants%"), what="the claim waiting"
        )
        # What RemoveParticipants does, committed before the claim gets the lock.
        await connection.execute(
            "DELETE FROM participants WHERE tenant = $1 AND room_id = $2 AND user_id = 'ann'",
            tenant,
            room.room_id,
        )
        await connection.execute(
            """UPDATE rooms SET version = version + 1, participant_count = 0
               WHERE tenant = $1 AND room_id = $2""",
            tenant,
            room.room_id,
        )
        await transaction.commit()
    finally:
        await pool.release(connection)
    answer = await call
    assert (answer.allowed, answer.reason) == (False, ad.JOIN_DECISION_REASON_NOT_INVITED)
    assert await seats(client, room.room_id) == []


async def test_deleting_a_room_frees_its_seats_and_deleted_stays_last(
    client: RoomsClient, clock: ManualClock, server: RunningServer
) -> None:
    room_id = await open_room(client)
    seat = (await claim(client, room_id, "ann")).seat
    await client.delete_room(room_id)
    await client.release_seat(seat.seat_id)  # a success, and no event after DELETED
    with pytest.raises(SeatNotFound):
        await client.renew_seat(seat.seat_id)
    clock.advance(timedelta(seconds=61))
    await server.lifecycle.run_once()
    history = [e async for e in client.list_room_events(room_id, newest_first=True, page_size=1)]
    assert history[0].type == T.ROOM_EVENT_TYPE_DELETED
