"""Room history in PostgreSQL: appending events in the writer's transaction, reading
them back, the time-based transitions, and purging what is past its retention."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import asyncpg

from service.domain import events, instants
from service.domain.events import SYSTEM_ACTOR, EventType, History, NewEvent, RoomEvent
from service.domain.models import RoomState
from service.domain.transitions import IN_ORDER, owed_transitions
from service.storage.queries import QUERIES
from service.storage.transaction import TenantTransaction

# pg_advisory_xact_lock keys: one lifecycle worker (transitions and purge) at a time.
LIFECYCLE_LOCK_KEY = int.from_bytes(b"roomslcy", "big") & 0x7FFF_FFFF_FFFF_FFFF


def event_arrays(new: Sequence[NewEvent]) -> tuple[list[str], list[str]]:
    """Events as a statement that writes them takes them (the `batch(types, data, ...)`
    of the number_events fragment): their types and their JSON payloads, in order."""
    return [event.type.value for event in new], [json.dumps(event.data) for event in new]


async def append_events(
    tx: TenantTransaction,
    room_id: str,
    new: Sequence[NewEvent],
    actor: str,
    now: datetime,
) -> int:
    """Append events after the room's last one, in the caller's transaction; return the
    room's last event revision. Numbering them updates the room's row, whose lock
    orders concurrent writers, so revisions commit in order with no gaps. The room's
    watchers are told after the transaction commits."""
    if not new:
        raise ValueError("append_events needs at least one event")
    # The same statement makes the events due at every delivery destination of the
    # tenant (the transactional outbox, see service/delivery): a room's cursor there
    # learns the new latest revision, or is created just before the first new event.
    latest: int = await tx.conn.fetchval(
        QUERIES["append_events"],
        tx.tenant,
        room_id,
        *event_arrays(new),
        now,
        actor,
    )
    tx.touch(room_id)
    return latest


def event_of(row: asyncpg.Record) -> RoomEvent:
    """A `room_events` row (room_id, revision, event_time, type, actor, data) as an event."""
    return events.from_record(
        row["room_id"],
        row["revision"],
        instants.readable(row["event_time"]),
        row["type"],
        row["actor"],
        row["data"],
    )


async def history(pool: asyncpg.Pool, tenant: str, room_id: str) -> History | None:
    """The span of a room's history (also of a deleted room); None if no such room."""
    row = await pool.fetchrow(
        QUERIES["history"],
        tenant,
        room_id,
    )
    if row is None:
        return None
    return History(deleted=row["deleted"], oldest=row["oldest"], latest=row["latest"])


async def read_events(
    pool: asyncpg.Pool,
    tenant: str,
    room_id: str,
    after: int,
    limit: int,
    *,
    newest_first: bool = False,
    types: Sequence[EventType] = (),
) -> list[RoomEvent]:
    """Events after revision `after` (before it, newest first), at most `limit`."""
    rows = await pool.fetch(
        QUERIES["room_events_newest_first"] if newest_first else QUERIES["room_events"],
        tenant,
        room_id,
        after,
        limit,
        [t.value for t in types],
    )
    return [event_of(row) for row in rows]


# ---- lifecycle --------------------------------------------------------------------
# Each kind of work is split in two: a read of candidates across all tenants that locks
# nothing (it runs outside any transaction, marked CROSS_TENANT_READ), then, per tenant,
# a short `tenant_transaction` that takes the lifecycle's advisory lock and re-checks
# and changes only that tenant's rows (service/storage/lifecycle.py drives it).

# Marks the statements that read across tenants. They lock nothing and run outside any
# transaction; tests/integration/test_distribution.py holds every other statement to
# naming exactly one tenant.
CROSS_TENANT_READ = "/* cross-tenant read: no locks, no transaction */"


async def lock_lifecycle(tx: TenantTransaction) -> bool:
    """Take the lifecycle's transaction-scoped advisory lock if no other replica holds
    it; released at commit, so a replica that dies mid-batch leaves nothing held."""
    return bool(await tx.conn.fetchval(QUERIES["lock_lifecycle"], LIFECYCLE_LOCK_KEY))


# rooms.announced_state: the last state announced, coded by its place in the order a
# window goes through them (so LEAST in update_room is `announced_after_change`; the
# SQL's literals and the partial indexes use these codes).
ANNOUNCED: tuple[RoomState, ...] = IN_ORDER
_CODE = {state: code for code, state in enumerate(ANNOUNCED)}


def announced_code(state: RoomState) -> int:
    """A state as `rooms.announced_state` holds it."""
    return _CODE[state]


class Due(NamedTuple):
    """A room that may owe a transition, as read without a lock."""

    tenant: str
    room_id: str
    announced: RoomState
    valid_from: datetime
    valid_until: datetime


async def due_transitions(pool: asyncpg.Pool, now: datetime, limit: int) -> list[Due]:
    """Rooms whose window opened or ended by `now` and is not yet announced, oldest
    bound first. Reads all tenants; locks nothing."""
    rows = await pool.fetch(
        QUERIES["due_transitions"],
        now,
        limit,
    )
    return [
        Due(
            row["tenant"],
            row["room_id"],
            ANNOUNCED[row["announced_state"]],
            row["valid_from"],
            row["valid_until"],
        )
        for row in rows
    ]


async def announce_transitions(tx: TenantTransaction, rooms: Sequence[Due], now: datetime) -> int:
    """Write the OPENED and ENDED events the domain says `rooms` (of `tx.tenant`) owe at
    `now`, for those still as they were read (checked under their row locks); return
    how many rooms moved."""
    owed = [
        (room, transitions)
        for room in rooms
        if (transitions := owed_transitions(room.announced, room.valid_from, room.valid_until, now))
    ]
    if not owed:
        return 0
    events = [(room.room_id, t, place) for room, ts in owed for place, t in enumerate(ts, 1)]
    rows = await tx.conn.fetch(
        QUERIES["announce_transitions"],
        tx.tenant,
        now,
        SYSTEM_ACTOR,
        [room.room_id for room, _ in owed],
        [announced_code(room.announced) for room, _ in owed],
        [room.valid_from for room, _ in owed],
        [room.valid_until for room, _ in owed],
        [announced_code(ts[-1].state) for _, ts in owed],
        [len(ts) for _, ts in owed],
        [room_id for room_id, _, _ in events],
        [t.type.value for _, t, _ in events],
        [t.event_time for _, t, _ in events],
        [place for _, _, place in events],
    )
    moved = {row["room_id"] for row in rows}
    for room_id in moved:
        tx.touch(room_id)
    return len(moved)


async def purgeable_rooms(
    pool: asyncpg.Pool, *, deleted_before: datetime, ended_before: datetime, limit: int
) -> list[tuple[str, str]]:
    """Rooms (tenant, room_id) deleted before `deleted_before` or ended before
    `ended_before`. Reads all tenants; locks nothing."""
    rows = await pool.fetch(
        QUERIES["purgeable_rooms"],
        deleted_before,
        ended_before,
        limit,
    )
    return [(row["tenant"], row["room_id"]) for row in rows]


async def purge_rooms(
    tx: TenantTransaction,
    room_ids: Sequence[str],
    *,
    deleted_before: datetime,
    ended_before: datetime,
) -> int:
    """Delete those of `room_ids` (of `tx.tenant`) still past their grace, with their
    rosters and events (by cascade) and their idempotency keys; return how many."""
    gone = await tx.conn.fetch(
        QUERIES["purge_rooms"],
        tx.tenant,
        list(room_ids),
        deleted_before,
        ended_before,
    )
    if gone:
        await tx.conn.execute(
            QUERIES["purge_idempotency_keys"],
            tx.tenant,
            [row["room_id"] for row in gone],
        )
    return len(gone)


class OldEvents(NamedTuple):
    """Up to which revision a room's history is past retention (in this batch)."""

    tenant: str
    room_id: str
    up_to: int


async def old_events(pool: asyncpg.Pool, *, before: datetime, limit: int) -> list[OldEvents]:
    """The `limit` oldest events written before `before`, as one revision bound per
    room. Reads all tenants; locks nothing."""
    rows = await pool.fetch(
        QUERIES["old_events"],
        before,
        limit,
    )
    return [OldEvents(row["tenant"], row["room_id"], row["up_to"]) for row in rows]


async def purge_events(tx: TenantTransaction, old: Sequence[OldEvents], before: datetime) -> int:
    """Delete the events of `old` (all of `tx.tenant`) up to their bound and still
    written before `before`; return how many."""
    deleted = 0
    for room in old:
        if room.tenant != tx.tenant:
            raise ValueError("purge_events works on the transaction's tenant only")
        status = await tx.conn.execute(
            QUERIES["purge_events"],
            tx.tenant,
            room.room_id,
            room.up_to,
            before,
        )
        deleted += int(status.rpartition(" ")[2])
    return deleted
