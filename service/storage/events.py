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
from service.storage.transaction import TenantTransaction

# pg_advisory_xact_lock keys: one lifecycle worker (transitions and purge) at a time.
LIFECYCLE_LOCK_KEY = int.from_bytes(b"roomslcy", "big") & 0x7FFF_FFFF_FFFF_FFFF

_EVENT_COLUMNS = "room_id, revision, event_time, type, actor, data"


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
    rows = await tx.conn.fetch(
        f"""WITH seq AS (
               UPDATE rooms SET event_seq = event_seq + cardinality($3::text[])
               WHERE tenant = $1 AND room_id = $2
               RETURNING room_id, event_seq),
           {events_and_outbox("seq", types="$3", data="$4", now="$5", actor="$6")}
           SELECT revision FROM written""",
        tx.tenant,
        room_id,
        [event.type.value for event in new],
        [json.dumps(event.data) for event in new],
        now,
        actor,
    )
    tx.touch(room_id)
    return max(int(row["revision"]) for row in rows)


def events_and_outbox(seq: str, *, types: str, data: str, now: str, actor: str) -> str:
    """Two CTEs for a statement that writes a room's events (the one place their SQL
    lives): `written` appends events of `types`/`data` (text[] parameters), numbered up
    to `seq.event_seq` (a CTE of one row: the room's room_id and its new event_seq);
    `outbox` makes them due at every delivery destination of the tenant ($1 is the
    tenant). The tenant is $1 in the statement."""
    return f"""written AS (
               INSERT INTO room_events
                   (tenant, room_id, revision, event_time, record_time, type, actor, data)
               SELECT $1, {seq}.room_id, {seq}.event_seq - cardinality({types}::text[]) + t.ord,
                      {now}, {now}, t.type, {actor}, t.data::jsonb
               FROM {seq}, unnest({types}::text[], {data}::text[])
                    WITH ORDINALITY AS t(type, data, ord)
               RETURNING revision),
           outbox AS (
               INSERT INTO delivery_cursors
                   (tenant, destination, room_id, delivered_revision, latest_revision)
               SELECT $1, d.destination, {seq}.room_id,
                      {seq}.event_seq - cardinality({types}::text[]), {seq}.event_seq
               FROM {seq}, delivery_destinations d
               WHERE d.tenant = $1
                 AND (cardinality(d.room_ids) = 0 OR {seq}.room_id = ANY(d.room_ids))
               ON CONFLICT (tenant, destination, room_id)
               DO UPDATE SET latest_revision = EXCLUDED.latest_revision)"""


def _event(row: asyncpg.Record) -> RoomEvent:
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
        """SELECT r.delete_time IS NOT NULL AS deleted, r.event_seq AS latest,
                  COALESCE((SELECT min(e.revision) FROM room_events e
                            WHERE e.tenant = $1 AND e.room_id = r.room_id),
                           r.event_seq + 1) AS oldest
           FROM rooms r WHERE r.tenant = $1 AND r.room_id = $2""",
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
    direction, compare = ("DESC", "<") if newest_first else ("ASC", ">")
    rows = await pool.fetch(
        f"""SELECT {_EVENT_COLUMNS} FROM room_events
            WHERE tenant = $1 AND room_id = $2 AND revision {compare} $3
              AND (cardinality($5::text[]) = 0 OR type = ANY($5::text[]))
            ORDER BY revision {direction} LIMIT $4""",
        tenant,
        room_id,
        after,
        limit,
        [t.value for t in types],
    )
    return [_event(row) for row in rows]


# ---- lifecycle --------------------------------------------------------------------
# Each kind of work is split in two: a read of candidates across all tenants that locks
# nothing (it runs outside any transaction, marked CROSS_TENANT_READ), then, per tenant,
# a short `tenant_transaction` that takes the lifecycle's advisory lock and re-checks
# and changes only that tenant's rows (service/lifecycle.py drives it).

# Marks the statements that read across tenants. They lock nothing and run outside any
# transaction; tests/integration/test_distribution.py holds every other statement to
# naming exactly one tenant.
CROSS_TENANT_READ = "/* cross-tenant read: no locks, no transaction */"


async def lock_lifecycle(tx: TenantTransaction) -> bool:
    """Take the lifecycle's transaction-scoped advisory lock if no other replica holds
    it; released at commit, so a replica that dies mid-batch leaves nothing held."""
    return bool(await tx.conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LIFECYCLE_LOCK_KEY))


async def due_transitions(pool: asyncpg.Pool, now: datetime, limit: int) -> list[tuple[str, str]]:
    """Rooms (tenant, room_id) whose window opened or ended by `now` and is not yet
    announced, oldest bound first. Reads all tenants; locks nothing."""
    rows = await pool.fetch(
        f"""{CROSS_TENANT_READ}
            SELECT tenant, room_id FROM rooms
            WHERE delete_time IS NULL
              AND ((announced_state = 0 AND valid_from <= $1)
                   OR (announced_state < 2 AND valid_until <= $1))
            ORDER BY LEAST(valid_from, valid_until)
            LIMIT $2""",
        now,
        limit,
    )
    return [(row["tenant"], row["room_id"]) for row in rows]


async def announce_transitions(
    tx: TenantTransaction, room_ids: Sequence[str], now: datetime
) -> int:
    """Write OPENED and ENDED events for those of `room_ids` (of `tx.tenant`) whose
    window opened or ended by `now`, re-checked under their row locks; return how many
    rooms moved."""
    rows = await tx.conn.fetch(
        """WITH due AS (
               SELECT room_id, announced_state AS before,
                      CASE WHEN valid_until <= $2 THEN 2 ELSE 1 END AS after
               FROM rooms
               WHERE tenant = $1 AND room_id = ANY($3::text[]) AND delete_time IS NULL
                 AND ((announced_state = 0 AND valid_from <= $2)
                      OR (announced_state < 2 AND valid_until <= $2))
               FOR UPDATE),
           moved AS (
               UPDATE rooms r
               SET announced_state = d.after, event_seq = r.event_seq + (d.after - d.before)
               FROM due d WHERE r.tenant = $1 AND r.room_id = d.room_id
               RETURNING r.room_id, r.event_seq, r.valid_from, r.valid_until,
                         d.before, d.after),
           written AS (
               INSERT INTO room_events
                   (tenant, room_id, revision, event_time, record_time, type, actor, data)
               SELECT $1, m.room_id, m.event_seq - (m.after - s.state),
                      CASE s.state WHEN 1 THEN m.valid_from ELSE m.valid_until END, $2,
                      CASE s.state WHEN 1 THEN 'opened' ELSE 'ended' END,
                      $4, '{}'::jsonb
               FROM moved m, generate_series(m.before + 1, m.after) AS s(state)
               RETURNING room_id),
           -- Due at every delivery destination of the tenant, as in append_events.
           outbox AS (
               INSERT INTO delivery_cursors
                   (tenant, destination, room_id, delivered_revision, latest_revision)
               SELECT $1, d.destination, m.room_id,
                      m.event_seq - (m.after - m.before), m.event_seq
               FROM moved m, delivery_destinations d
               WHERE d.tenant = $1
                 AND (cardinality(d.room_ids) = 0 OR m.room_id = ANY(d.room_ids))
               ON CONFLICT (tenant, destination, room_id)
               DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
           SELECT room_id FROM written""",
        tx.tenant,
        now,
        list(room_ids),
        SYSTEM_ACTOR,
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
        f"""{CROSS_TENANT_READ}
            SELECT tenant, room_id FROM rooms WHERE delete_time < $1
            UNION
            SELECT tenant, room_id FROM rooms WHERE valid_until < $2
            LIMIT $3""",
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
        """DELETE FROM rooms
           WHERE tenant = $1 AND room_id = ANY($2::text[])
             AND (delete_time < $3 OR valid_until < $4)
           RETURNING room_id""",
        tx.tenant,
        list(room_ids),
        deleted_before,
        ended_before,
    )
    if gone:
        await tx.conn.execute(
            "DELETE FROM idempotency_keys WHERE tenant = $1 AND room_id = ANY($2::text[])",
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
        f"""{CROSS_TENANT_READ}
            SELECT tenant, room_id, max(revision) AS up_to
            FROM (SELECT tenant, room_id, revision FROM room_events
                  WHERE record_time < $1 ORDER BY record_time LIMIT $2) AS old
            GROUP BY tenant, room_id""",
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
            """DELETE FROM room_events
               WHERE tenant = $1 AND room_id = $2 AND revision <= $3 AND record_time < $4""",
            tx.tenant,
            room.room_id,
            room.up_to,
            before,
        )
        deleted += int(status.rpartition(" ")[2])
    return deleted
