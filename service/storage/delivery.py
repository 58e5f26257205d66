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

from service.domain.events import RoomEvent
from service.storage.db import Connection
from service.storage.history import event_of
from service.storage.queries import QUERIES


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
    rows = await pool.fetch(QUERIES["tenants_with_destinations"])
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
        QUERIES["claim"],
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
        QUERIES["read_events"],
        tenant,
        room_id,
        after,
        limit,
    )
    return [StoredEvent(event_of(row), row["record_time"]) for row in rows]


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
    cursor = (claim.tenant, claim.destination, claim.room_id, claim.owner, revision)
    if success_time is None:
        status = await pool.execute(QUERIES["advance_cursor"], *cursor, lease_until)
        return status != "UPDATE 0"
    moved = await pool.fetchval(QUERIES["advance"], *cursor, lease_until, success_time)
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
        QUERIES["fail"],
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


async def renew_owned(
    pool: asyncpg.Pool, tenant: str, owners: Sequence[str], lease_until: datetime
) -> None:
    """Extend the leases of the tenant's cursors still held by one of `owners`."""
    await pool.execute(QUERIES["renew_owned"], tenant, list(owners), lease_until)


async def release_owned(pool: asyncpg.Pool, tenant: str, owners: Sequence[str]) -> None:
    """Hand back the tenant's cursors still held by one of `owners`."""
    await pool.execute(QUERIES["release_owned"], tenant, list(owners))


async def release(pool: asyncpg.Pool, claim: Claim) -> None:
    await pool.execute(
        QUERIES["release"],
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
        QUERIES["add_destination"],
        tenant,
        destination,
        sink,
        list(room_ids),
        now,
    )


async def resume(conn: Connection, tenant: str, destination: str) -> None:
    """Clear a destination's failing state and retry every pending event now."""
    for statement in (QUERIES["resume"], QUERIES["reset_backoff"]):
        await conn.execute(statement, tenant, destination)


async def remove_destination(conn: Connection, tenant: str, destination: str) -> None:
    """Drop a destination and its cursors."""
    await conn.execute(
        QUERIES["remove_destination"],
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
            QUERIES["sync_sink"],
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
        QUERIES["destination_state"],
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
    rows = await pool.fetch(QUERIES["sink_stats"])
    return {
        row["sink"]: SinkStats(int(row["pending"]), row["oldest"], int(row["failing"]))
        for row in rows
    }
