"""Seats and knocks in PostgreSQL: the statements shared by the store and the lifecycle
task. Every statement here touches one room of one tenant, under that room's row
lock (taken by the caller, or by `claim`), except `rooms_with_expired_seats`, which
locks nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.domain import events
from service.domain.events import SYSTEM_ACTOR, NewEvent
from service.domain.limits import Limits
from service.domain.models import ResolvedSettings, Role
from service.domain.seats import CapacityRefusal, Seat, check_capacity, new_seat_id, seat_expiry
from service.domain.waiting_room import Knock, KnockState
from service.storage.base import ROLE_BY_VALUE
from service.storage.db import Connection
from service.storage.history import append_events, event_arrays
from service.storage.queries import QUERIES
from service.storage.transaction import tenant_transaction

log = logging.getLogger(__name__)

KNOCK_STATE = {state.value: state for state in KnockState}


def seat_of(record: asyncpg.Record, prefix: str = "") -> Seat:
    return Seat(
        seat_id=record[prefix + "seat_id"],
        room_id=record[prefix + "room_id"],
        user_id=record[prefix + "user_id"],
        role=ROLE_BY_VALUE[record[prefix + "role"]],
        create_time=record[prefix + "create_time"],
        expire_time=record[prefix + "expire_time"],
    )


def knock_of(record: asyncpg.Record, prefix: str = "") -> Knock:
    role = record[prefix + "role"]
    return Knock(
        user_id=record[prefix + "user_id"],
        state=KNOCK_STATE[record[prefix + "state"]],
        role=ROLE_BY_VALUE[role] if role is not None else None,
        role_chosen=record[prefix + "role_chosen"],
        display_name=record[prefix + "display_name"],
        first_knock_time=record[prefix + "first_knock_time"],
        last_knock_time=record[prefix + "last_knock_time"],
        decide_time=record[prefix + "decide_time"],
        sort_time=record[prefix + "sort_time"],
    )


async def delete_expired(
    conn: Connection, tenant: str, room_id: str, now: datetime
) -> list[NewEvent]:
    """Free the room's seats that expired by `now` (the caller holds the room's row
    lock); return their SEAT_EXPIRED events for the caller to append."""
    rows = await conn.fetch(
        QUERIES["delete_expired"],
        tenant,
        room_id,
        now,
    )
    expired = sorted((seat_of(row) for row in rows), key=lambda s: (s.expire_time, s.seat_id))
    return [events.seat_expired(seat) for seat in expired]


async def free_all(conn: Connection, tenant: str, room_id: str) -> None:
    """Free every seat of a room being deleted (the caller holds its row lock)."""
    await conn.execute(QUERIES["free_all"], tenant, room_id)


async def rooms_with_expired_seats(
    pool: asyncpg.Pool, now: datetime, batch: int
) -> list[tuple[str, str]]:
    """Rooms holding seats that expired by `now`. Reads without locks, across tenants;
    each room is then freed in a transaction of its own (`expire_room_seats`)."""
    rows = await pool.fetch(
        QUERIES["rooms_with_expired_seats"],
        now,
        batch,
    )
    return [(row["tenant"], row["room_id"]) for row in rows]


async def expire_room_seats(pool: asyncpg.Pool, tenant: str, room_id: str, now: datetime) -> int:
    """Free one room's expired seats and announce them: one short transaction locking
    that room's row only. Safe on several replicas at once: a seat is deleted (and its
    SEAT_EXPIRED written) by exactly one of them."""
    async with tenant_transaction(pool, tenant) as tx:
        conn = tx.conn
        live = await conn.fetchval(
            QUERIES["lock_room_if_live"],
            tenant,
            room_id,
        )
        if live is None:
            return 0
        if not live:  # DELETED stays the room's last event
            await free_all(conn, tenant, room_id)
            return 0
        history = await delete_expired(conn, tenant, room_id, now)
        if history:
            await append_events(tx, room_id, history, SYSTEM_ACTOR, now)
    return len(history)


@dataclass(frozen=True, slots=True)
class SeatClaim:
    """A claim as the store is asked for it (`PgRoomStore.claim_seat`): the identity,
    the role and the room's version its decision saw; `now`, the limits, the actor."""

    tenant: str
    room_id: str
    user_id: str
    role: Role
    decided_at_version: int
    now: datetime
    limits: Limits
    actor: str


async def claim_in_transaction(
    pool: asyncpg.Pool, claim: SeatClaim
) -> Seat | CapacityRefusal | None:
    """`claim` as a transaction of several statements, for every case. Under the
    room's row lock, so the counts the capacity rules judge are exact whatever the
    number of replicas: expired seats are freed
    (SEAT_EXPIRED), the live ones per role read from `seat_counts` (kept by every
    statement that inserts or deletes seats), and the seat inserted (SEAT_TAKEN)
    only if `seats.check_capacity` lets it in; an identity seated already gets its
    seat back, renewed. Every statement reads rows by key: its cost does not grow
    with the seats taken, and the room's lock is held for a few short statements."""
    tenant, room_id, user_id, role = claim.tenant, claim.room_id, claim.user_id, claim.role
    now, limits, actor = claim.now, claim.limits, claim.actor
    async with tenant_transaction(pool, tenant) as tx:
        conn = tx.conn
        room = await conn.fetchrow(
            QUERIES["claim_seat"],
            tenant,
            room_id,
            now,
            user_id,
            claim.decided_at_version,
        )
        if room is None or not room["holds"]:
            return None
        # Read before the lock was granted, `expired` may name a seat renewed or
        # released since (delete_expired then frees nothing); a seat expired by
        # `now` cannot appear since: one round trip saved under the lock.
        history = await delete_expired(conn, tenant, room_id, now) if room["expired"] else []
        # A recurring room's seat ends with the occurrence under way.
        window_end = ResolvedSettings(
            valid_from=room["valid_from"],
            valid_until=room["valid_until"],
            recurrence=tuple(room["recurrence"]),
            time_zone=room["time_zone"],
        ).window(now)[1]
        expire_time = seat_expiry(now, window_end, limits)
        # The live seats per role from the room's counters (a few rows by primary
        # key): the claim reads nothing that grows with the room's seats.
        taken = {
            ROLE_BY_VALUE[row["role"]]: row["taken"]
            for row in await conn.fetch(
                QUERIES["seat_counts"],
                tenant,
                room_id,
            )
        }
        refusal = check_capacity(
            role,
            taken,
            room["max_participants"],
            events.role_capacity_from(room["role_capacity"]),
            limits,
        )
        result: Seat | CapacityRefusal
        if refusal is not None:
            # Refused as a newcomer: an identity seated already gets its seat back.
            existing = await conn.fetchrow(
                QUERIES["extend_user_seat"],
                tenant,
                room_id,
                user_id,
                expire_time,
            )
            result = seat_of(existing) if existing is not None else refusal
        else:
            # The seat, its count and the claim's events in one statement: SEAT_TAKEN
            # is recorded only if the seat is new (not an identity's seat given back).
            fresh = Seat(new_seat_id(), room_id, user_id, role, now, expire_time)
            expired_types, expired_data = event_arrays(history)
            taken_types, taken_data = event_arrays([events.seat_taken(fresh)])
            row = await conn.fetchrow(
                QUERIES["take_seat"],
                tenant,
                fresh.seat_id,
                room_id,
                user_id,
                role.value,
                now,
                expire_time,
                expired_types,
                taken_types,
                expired_data,
                taken_data,
                actor,
            )
            assert row is not None  # an upsert always returns its row
            result = seat_of(row)
            if row["recorded"]:
                tx.touch(room_id)
            history = []
        if history:
            await append_events(tx, room_id, history, actor, now)
    return result
