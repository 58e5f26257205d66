"""A seat claim in one statement (`claim_seat_at_once`), this process's claims of a
room taking turns, and their NOTIFYs sent a few per burst; `seats.claim_in_transaction`
decides whatever the statement declines (docs/decisions.md, "A claim is one
statement")."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import asyncpg

from service.domain import events
from service.domain.seats import CapacityRefusal, Seat, check_capacity, new_seat_id
from service.storage.base import ROLE_BY_VALUE
from service.storage.db import Connection
from service.storage.history import event_arrays
from service.storage.notify import notify_rooms
from service.storage.queries import QUERIES
from service.storage.seats import SeatClaim, claim_in_transaction, seat_of

log = logging.getLogger(__name__)


@dataclass
class _Turn:
    """This process's claims of one room take turns: one statement at a time reaches
    PostgreSQL, the others wait here (a coroutine each) rather than as backends queued
    on the room's row lock, each holding a pooled connection and costing PostgreSQL CPU
    to wait and wake. `users`: the claims holding or waiting for the turn."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


_turns: dict[tuple[str, str], _Turn] = {}


def _leave(key: tuple[str, str], turn: _Turn, *, locked: bool) -> None:
    if locked:
        turn.lock.release()
    turn.users -= 1
    if turn.users == 0:
        del _turns[key]


# Why claim_seat_at_once left a claim to the transaction of `claim_in_transaction`.
_NOT_AT_ONCE = frozenset({"slow", "setup"})


async def claim(pool: asyncpg.Pool, claim: SeatClaim) -> Seat | CapacityRefusal | None:
    """Take a seat for an allowed identity, or give back (and renew) its live one;
    None, taking nothing, if the room changed since the decision was read
    (`decided_at_version`: a removal, a denial, new settings; knock decisions about
    other identities leave a decision standing), so that the caller decides again.

    Usually ONE statement on its own (`claim_seat_at_once`): the room's row lock is
    taken and released inside PostgreSQL, with no round trip to this server while it
    is held, so the claims of one room serialize for the statement's own work and its
    commit only. Where that statement declines (seats to free, a recurring room, a
    window ending within a seat's lifetime, a counter row missing) or refuses an
    identity that a concurrent claim may just have seated, the transaction of
    `claim_in_transaction` decides instead."""
    tenant, room_id, user_id, role = claim.tenant, claim.room_id, claim.user_id, claim.role
    now, limits = claim.now, claim.limits
    expire_time = now + limits.seat_ttl
    fresh = Seat(new_seat_id(), room_id, user_id, role, now, expire_time)
    taken_types, taken_data = event_arrays([events.seat_taken(fresh)])
    arguments = (
        tenant, room_id, user_id, role.value, now, claim.decided_at_version,
        limits.max_participants_ceiling, expire_time, fresh.seat_id, taken_types,
        taken_data, claim.actor,
    )  # fmt: skip
    key = (tenant, room_id)
    turn = _turns.setdefault(key, _Turn())
    turn.users += 1
    try:
        await turn.lock.acquire()
    except BaseException:
        _leave(key, turn, locked=False)
        raise
    locked = True
    try:
        async with pool.acquire() as conn:
            row: asyncpg.Record | None = None
            try:
                for _ in range(2):
                    row = await conn.fetchrow(QUERIES["claim_seat_at_once"], *arguments)
                    assert row is not None  # the statement always answers one row
                    if row["state"] != "setup":
                        break
                    await conn.execute(QUERIES["seat_count_rows"], tenant, room_id)
            finally:
                locked = False
                _leave(key, turn, locked=True)
            assert row is not None
            state = row["state"]
            if state == "moved":
                return None
            if state == "seat":
                if row["inserted"]:
                    await _announce(conn, tenant, room_id)
                return seat_of(row)
            if state == "refused":
                taken = {
                    ROLE_BY_VALUE[r]: n
                    for r, n in zip(row["count_roles"], row["count_taken"], strict=True)
                }
                refusal = check_capacity(
                    role,
                    taken,
                    row["max_participants"],
                    events.role_capacity_from(row["role_capacity"]),
                    limits,
                )
                # A seat the statement's snapshot could not see (the identity's own claim,
                # committed while this one waited for the lock) is given back by the
                # transaction below; so is anything the domain judges otherwise.
                seated = await conn.fetchval(QUERIES["seat_of_user"], tenant, room_id, user_id)
                if refusal is not None and seated is None:
                    return refusal
    finally:
        if locked:
            _leave(key, turn, locked=True)
    assert state in _NOT_AT_ONCE or state == "refused", state
    return await claim_in_transaction(pool, claim)


# Rooms whose claims are being announced by this process: whether another claim
# committed since the announcement in flight was sent (and so needs one more).
_announcing: dict[tuple[str, str], bool] = {}


async def _announce(conn: Connection, tenant: str, room_id: str) -> None:
    """Wake the room's watchers after a claim's own commit (as tenant_transaction does),
    once per burst: a claim committed while an announcement of its room is in flight
    leaves it to the claim sending that one, which sends one more after it. Every
    commit is still followed by a NOTIFY sent after it; a storm of claims on one room
    sends a few, not one per claim (each NOTIFY is a commit of its own)."""
    key = (tenant, room_id)
    if key in _announcing:
        _announcing[key] = True
        return
    _announcing[key] = False
    try:
        while True:
            await notify_rooms(conn, tenant, [room_id])
            if not _announcing[key]:
                break
            _announcing[key] = False
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        log.warning("notification after commit failed: %r", error)
    finally:
        del _announcing[key]
