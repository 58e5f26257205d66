"""The delivery engine's SQL: destinations, and per (destination, room) cursors over
room_events claimed with leases.

Every statement touches one tenant's rows (Citus: routed to one shard), holds its row
locks only for itself (no lock spans an outbound call), and takes times from the
caller's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.domain import events
from service.domain.events import RoomEvent
from service.storage.db import Connection
from service.storage.events import CROSS_TENANT_READ


@dataclass(frozen=True, slots=True)
class Claim:
    """A cursor this replica holds until its lease ends."""

    tenant: str
    destination: str
    sink: str
    room_id: str
    owner: str  # the lease's holder: unique per claim, so a lapsed lease stays lapsed
    delivered: int
    latest: int
    attempts: int
    first_failure_time: datetime | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: RoomEvent
    record_time: datetime


async def tenants_with_destinations(pool: asyncpg.Pool) -> list[str]:
    """Tenants that have a destination still delivering (a read; no locks)."""
    rows = await pool.fetch(
        f"""{CROSS_TENANT_READ}
            SELECT DISTINCT tenant FROM delivery_destinations WHERE failing_since IS NULL"""
    )
    return [row["tenant"] for row in rows]


async def claim(
    pool: asyncpg.Pool,
    tenant: str,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    sinks: Sequence[str],
) -> list[Claim]:
    """Lease up to `limit` of the tenant's cursors that have events due now and that no
    replica holds. Rows another replica is claiming at this moment are skipped."""
    rows = await pool.fetch(
        """UPDATE delivery_cursors c SET leased_until = $4, lease_owner = $3
           FROM (SELECT c2.destination, c2.room_id, d.sink
                 FROM delivery_cursors c2
                 JOIN delivery_destinations d
                   ON d.tenant = $1 AND d.destination = c2.destination
                 WHERE c2.tenant = $1
                   AND c2.latest_revision > c2.delivered_revision
                   AND (c2.next_attempt_time IS NULL OR c2.next_attempt_time <= $2)
                   AND (c2.leased_until IS NULL OR c2.leased_until <= $2)
                   AND d.failing_since IS NULL
                   AND d.sink = ANY($6::text[])
                 ORDER BY c2.next_attempt_time NULLS FIRST
                 LIMIT $5
                 FOR UPDATE OF c2 SKIP LOCKED) due
           WHERE c.tenant = $1 AND c.destination = due.destination AND c.room_id = due.room_id
           RETURNING c.destination, c.room_id, c.delivered_revision, c.latest_revision,
                     c.attempts, c.first_failure_time, due.sink""",
        tenant,
        now,
        owner,
        lease_until,
        limit,
        list(sinks),
    )
    return [
        Claim(
            tenant=tenant,
            destination=row["destination"],
            sink=row["sink"],
            room_id=row["room_id"],
            owner=owner,
            delivered=row["delivered_revision"],
            latest=row["latest_revision"],
            attempts=row["attempts"],
            first_failure_time=row["first_failure_time"],
        )
        for row in rows
    ]


async def read_events(
    pool: asyncpg.Pool, tenant: str, room_id: str, after: int, limit: int
) -> list[StoredEvent]:
    rows = await pool.fetch(
        """SELECT room_id, revision, event_time, record_time, type, actor, data
           FROM room_events
           WHERE tenant = $1 AND room_id = $2 AND revision > $3
           ORDER BY revision LIMIT $4""",
        tenant,
        room_id,
        after,
        limit,
    )
    return [
        StoredEvent(
            events.from_record(
                row["room_id"],
                row["revision"],
                row["event_time"],
                row["type"],
                row["actor"],
                row["data"],
            ),
            row["record_time"],
        )
        for row in rows
    ]


async def advance(
    pool: asyncpg.Pool,
    claim: Claim,
    revision: int,
    lease_until: datetime,
    success_time: datetime | None,
) -> bool:
    """Record that everything up to `revision` is done and extend the lease; with
    `success_time`, note a success on the destination (at most once a second, to keep
    its row cool). False when this replica no longer holds the cursor."""
    moved = await pool.fetchval(
        """WITH moved AS (
               UPDATE delivery_cursors
               SET delivered_revision = $5, attempts = 0, first_failure_time = NULL,
                   next_attempt_time = NULL, leased_until = $6
               WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4
                 AND delivered_revision < $5
               RETURNING 1),
           noted AS (
               UPDATE delivery_destinations
               SET last_success_time = $7
               WHERE $7::timestamptz IS NOT NULL AND tenant = $1 AND destination = $2
                 AND (last_success_time IS NULL
                      OR last_success_time < $7::timestamptz - interval '1 second')
                 AND EXISTS (SELECT 1 FROM moved))
           SELECT count(*) FROM moved""",
        claim.tenant,
        claim.destination,
        claim.room_id,
        claim.owner,
        revision,
        lease_until,
        success_time,
    )
    return bool(moved)


async def fail(
    pool: asyncpg.Pool,
    claim: Claim,
    *,
    attempts: int,
    first_failure_time: datetime,
    next_attempt_time: datetime,
    error: str,
    now: datetime,
    give_up: bool,
) -> None:
    """Record a failed attempt, schedule the next one and release the cursor; with
    `give_up`, mark the destination failing (delivery there stops until resumed)."""
    await pool.execute(
        """WITH failed AS (
               UPDATE delivery_cursors
               SET attempts = $5, first_failure_time = $6, next_attempt_time = $7,
                   leased_until = NULL, lease_owner = NULL
               WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4
               RETURNING 1)
           UPDATE delivery_destinations
           SET last_error = $8, last_error_time = $9,
               failing_since = CASE WHEN $10 THEN COALESCE(failing_since, $9)
                                    ELSE failing_since END
           WHERE tenant = $1 AND destination = $2 AND EXISTS (SELECT 1 FROM failed)""",
        claim.tenant,
        claim.destination,
        claim.room_id,
        claim.owner,
        attempts,
        first_failure_time,
        next_attempt_time,
        error,
        now,
        give_up,
    )


async def release(pool: asyncpg.Pool, claim: Claim) -> None:
    await pool.execute(
        """UPDATE delivery_cursors SET leased_until = NULL, lease_owner = NULL
           WHERE tenant = $1 AND destination = $2 AND room_id = $3 AND lease_owner = $4""",
        claim.tenant,
        claim.destination,
        claim.room_id,
        claim.owner,
    )


async def add_destination(
    conn: Connection,
    tenant: str,
    destination: str,
    sink: str,
    room_ids: Sequence[str],
    now: datetime,
) -> None:
    """Create (or refresh the room filter of) a destination."""
    await conn.execute(
        """INSERT INTO delivery_destinations (tenant, destination, sink, room_ids, create_time)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant, destination) DO UPDATE SET room_ids = EXCLUDED.room_ids""",
        tenant,
        destination,
        sink,
        list(room_ids),
        now,
    )


async def resume(conn: Connection, tenant: str, destination: str) -> None:
    """Clear a destination's failing state and retry every pending event now."""
    await conn.execute(
        """UPDATE delivery_destinations SET failing_since = NULL
           WHERE tenant = $1 AND destination = $2""",
        tenant,
        destination,
    )
    await conn.execute(
        """UPDATE delivery_cursors
           SET attempts = 0, first_failure_time = NULL, next_attempt_time = NULL
           WHERE tenant = $1 AND destination = $2 AND latest_revision > delivered_revision""",
        tenant,
        destination,
    )


async def remove_destination(conn: Connection, tenant: str, destination: str) -> None:
    """Drop a destination and its cursors."""
    await conn.execute(
        "DELETE FROM delivery_destinations WHERE tenant = $1 AND destination = $2",
        tenant,
        destination,
    )


async def sync_sink(
    pool: asyncpg.Pool, sink: str, destination: str, tenants: Sequence[str], now: datetime
) -> None:
    """Make `destination` of `sink` exist for exactly `tenants` (one tenant per
    statement): configured tenants get it, others lose it."""
    async with pool.acquire() as conn:
        for tenant in tenants:
            await add_destination(conn, tenant, destination, sink, (), now)
        rows = await conn.fetch(
            f"""{CROSS_TENANT_READ}
                SELECT tenant FROM delivery_destinations WHERE sink = $1 AND destination = $2""",
            sink,
            destination,
        )
        for row in rows:
            if row["tenant"] not in tenants:
                await remove_destination(conn, row["tenant"], destination)


@dataclass(frozen=True, slots=True)
class DestinationState:
    failing_since: datetime | None
    last_success_time: datetime | None
    last_error: str
    last_error_time: datetime | None
    pending_events: int
    oldest_pending_time: datetime | None


async def destination_state(
    conn: Connection, tenant: str, destination: str
) -> DestinationState | None:
    row = await conn.fetchrow(
        """SELECT d.failing_since, d.last_success_time, d.last_error, d.last_error_time,
                  p.pending, p.oldest
           FROM delivery_destinations d,
                LATERAL (
                    SELECT COALESCE(sum(c.latest_revision - c.delivered_revision), 0)
                               AS pending,
                           min(e.record_time) AS oldest
                    FROM delivery_cursors c
                    LEFT JOIN room_events e
                      ON e.tenant = $1 AND e.room_id = c.room_id
                     AND e.revision = c.delivered_revision + 1
                    WHERE c.tenant = $1 AND c.destination = d.destination
                      AND c.latest_revision > c.delivered_revision) p
           WHERE d.tenant = $1 AND d.destination = $2""",
        tenant,
        destination,
    )
    if row is None:
        return None
    return DestinationState(
        failing_since=row["failing_since"],
        last_success_time=row["last_success_time"],
        last_error=row["last_error"] or "",
        last_error_time=row["last_error_time"],
        pending_events=int(row["pending"]),
        oldest_pending_time=row["oldest"],
    )


@dataclass(frozen=True, slots=True)
class SinkStats:
    pending_events: int
    oldest_pending_time: datetime | None
    failing_destinations: int


async def sink_stats(pool: asyncpg.Pool) -> dict[str, SinkStats]:
    """Figures per sink for the metrics (a read over every tenant; no locks)."""
    rows = await pool.fetch(
        f"""{CROSS_TENANT_READ}
           SELECT d.sink,
                  count(*) FILTER (WHERE d.failing_since IS NOT NULL) AS failing,
                  COALESCE(sum(p.pending), 0) AS pending, min(p.oldest) AS oldest
           FROM delivery_destinations d,
                LATERAL (
                    SELECT sum(c.latest_revision - c.delivered_revision) AS pending,
                           min(e.record_time) AS oldest
                    FROM delivery_cursors c
                    LEFT JOIN room_events e
                      ON e.tenant = c.tenant AND e.room_id = c.room_id
                     AND e.revision = c.delivered_revision + 1
                    WHERE c.tenant = d.tenant AND c.destination = d.destination
                      AND c.latest_revision > c.delivered_revision) p
           GROUP BY d.sink"""
    )
    return {
        row["sink"]: SinkStats(int(row["pending"]), row["oldest"], int(row["failing"]))
        for row in rows
    }
