"""Room history in PostgreSQL: appending events in the writer's transaction, reading
them back, the time-based transitions, and purging what is past its retention."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import asyncpg

from service.domain import events
from service.domain.events import SYSTEM_ACTOR, EventType, History, NewEvent, RoomEvent
from service.storage.db import Connection

# pg_advisory_xact_lock keys: one lifecycle worker (transitions and purge) at a time.
LIFECYCLE_LOCK_KEY = int.from_bytes(b"roomslcy", "big") & 0x7FFF_FFFF_FFFF_FFFF

_EVENT_COLUMNS = "room_id, revision, event_time, type, actor, data"


async def append_events(
    conn: Connection,
    tenant: str,
    room_id: str,
    new: Sequence[NewEvent],
    actor: str,
    now: datetime,
) -> int:
    """Append events after the room's last one, in the caller's transaction; return the
    room's last event revision. Numbering them updates the room's row, whose lock
    orders concurrent writers, so revisions commit in order with no gaps."""
    if not new:
        raise ValueError("append_events needs at least one event")
    # The same statement makes the events due at every delivery destination of the
    # tenant (the transactional outbox, see service/delivery): a room's cursor there
    # learns the new latest revision, or is created just before the first new event.
    rows = await conn.fetch(
        """WITH seq AS (
               UPDATE rooms SET event_seq = event_seq + cardinality($3::text[])
               WHERE tenant = $1 AND room_id = $2
               RETURNING event_seq),
           written AS (
               INSERT INTO room_events
                   (tenant, room_id, revision, event_time, record_time, type, actor, data)
               SELECT $1, $2, seq.event_seq - cardinality($3::text[]) + t.ord, $5, $5,
                      t.type, $6, t.data::jsonb
               FROM seq, unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(type, data, ord)
               RETURNING revision),
           outbox AS (
               INSERT INTO delivery_cursors
                   (tenant, destination, room_id, delivered_revision, latest_revision)
               SELECT $1, d.destination, $2, seq.event_seq - cardinality($3::text[]),
                      seq.event_seq
               FROM seq, delivery_destinations d
               WHERE d.tenant = $1
                 AND (cardinality(d.room_ids) = 0 OR $2 = ANY(d.room_ids))
               ON CONFLICT (tenant, destination, room_id)
               DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
           SELECT revision FROM written""",
        tenant,
        room_id,
        [event.type.value for event in new],
        [json.dumps(event.data) for event in new],
        now,
        actor,
    )
    return max(int(row["revision"]) for row in rows)


def _event(row: asyncpg.Record) -> RoomEvent:
    return events.from_record(
        row["room_id"], row["revision"], row["event_time"], row["type"], row["actor"], row["data"]
    )


async def history(pool: asyncpg.Pool, tenant: str, room_id: str) -> History | None:
    """The span of a room's history (also of a deleted room); None if no such room."""
    row = await pool.fetchrow(
        """SELECT r.delete_time IS NOT NULL AS deleted, r.event_seq AS latest,
                  COALESCE((SELECT min(e.revision) FROM room_events e
                            WHERE e.tenant = r.tenant AND e.room_id = r.room_id),
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


async def announce_transitions(pool: asyncpg.Pool, now: datetime, batch: int) -> int:
    """Write OPENED and ENDED events for windows that opened or ended by `now`; return
    how many rooms moved. One replica at a time; each batch is one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LIFECYCLE_LOCK_KEY):
            return 0
        rows = await conn.fetch(
            """WITH due AS (
                   SELECT tenant, room_id, announced_state AS before,
                          CASE WHEN valid_until <= $1 THEN 2 ELSE 1 END AS after
                   FROM rooms
                   WHERE delete_time IS NULL
                     AND ((announced_state = 0 AND valid_from <= $1)
                          OR (announced_state < 2 AND valid_until <= $1))
                   ORDER BY LEAST(valid_from, valid_until)
                   LIMIT $2
                   FOR UPDATE SKIP LOCKED),
               moved AS (
                   UPDATE rooms r
                   SET announced_state = d.after, event_seq = r.event_seq + (d.after - d.before)
                   FROM due d WHERE r.tenant = d.tenant AND r.room_id = d.room_id
                   RETURNING r.tenant, r.room_id, r.event_seq, r.valid_from, r.valid_until,
                             d.before, d.after),
               written AS (
                   INSERT INTO room_events
                       (tenant, room_id, revision, event_time, record_time, type, actor, data)
                   SELECT m.tenant, m.room_id, m.event_seq - (m.after - s.state),
                          CASE s.state WHEN 1 THEN m.valid_from ELSE m.valid_until END, $1,
                          CASE s.state WHEN 1 THEN 'opened' ELSE 'ended' END,
                          $3, '{}'::jsonb
                   FROM moved m, generate_series(m.before + 1, m.after) AS s(state)
                   RETURNING room_id),
               -- Due at every delivery destination, as in append_events.
               outbox AS (
                   INSERT INTO delivery_cursors
                       (tenant, destination, room_id, delivered_revision, latest_revision)
                   SELECT m.tenant, d.destination, m.room_id,
                          m.event_seq - (m.after - m.before), m.event_seq
                   FROM moved m JOIN delivery_destinations d ON d.tenant = m.tenant
                   WHERE cardinality(d.room_ids) = 0 OR m.room_id = ANY(d.room_ids)
                   ON CONFLICT (tenant, destination, room_id)
                   DO UPDATE SET latest_revision = EXCLUDED.latest_revision)
               SELECT room_id FROM written""",
            now,
            batch,
            SYSTEM_ACTOR,
        )
    return len({row["room_id"] for row in rows})


class Purged(NamedTuple):
    """What one purge batch removed; `locked` when another replica was purging."""

    rooms: int
    events: int
    locked: bool


async def purge(
    pool: asyncpg.Pool,
    *,
    deleted_before: datetime,
    ended_before: datetime,
    events_before: datetime,
    batch: int,
) -> Purged:
    """Purge one batch: tombstones deleted before `deleted_before` and rooms that ended
    before `ended_before` (with their rosters, events and idempotency keys), and events
    older than `events_before`. One transaction, one replica at a time."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", LIFECYCLE_LOCK_KEY):
            return Purged(rooms=0, events=0, locked=True)
        rooms = await conn.fetch(
            """WITH gone AS (
                   SELECT tenant, room_id FROM rooms
                   WHERE delete_time < $1
                   UNION
                   SELECT tenant, room_id FROM rooms
                   WHERE valid_until < $2
                   LIMIT $3),
               locked AS (
                   SELECT r.tenant, r.room_id FROM rooms r JOIN gone g USING (tenant, room_id)
                   FOR UPDATE OF r SKIP LOCKED),
               keys AS (
                   DELETE FROM idempotency_keys k USING locked l
                   WHERE k.tenant = l.tenant AND k.room_id = l.room_id)
               DELETE FROM rooms r USING locked l
               WHERE r.tenant = l.tenant AND r.room_id = l.room_id
               RETURNING r.room_id""",
            deleted_before,
            ended_before,
            batch,
        )
        old_events = await conn.fetch(
            """DELETE FROM room_events WHERE ctid = ANY(ARRAY(
                   SELECT ctid FROM room_events WHERE record_time < $1 LIMIT $2))
               RETURNING 1""",
            events_before,
            batch,
        )
    return Purged(rooms=len(rooms), events=len(old_events), locked=False)
