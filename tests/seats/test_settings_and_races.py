"""Seats end to end, their settings and races: the capacity settings checked and shown in
events, the server's seat TTL and ceiling, AuthorizeJoin without a claim in one round
trip, a removal between the decision and the claim, and a deleted room's seats. The
real server, the real generated client (through `rooms.client`), real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from rooms.client import RoomsClient
from rooms.errors import InvalidArgument, InvalidCapacity, SeatNotFound
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import waiting_room_pb2 as wr

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.conftest import T0, ServerFactory
from tests.seats.seat_calls import T, at, claim, events_of, open_room, seats
from tests.shared.waiting import eventually, waiting_for_a_lock


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
