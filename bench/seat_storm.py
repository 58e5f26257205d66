"""`python -m bench.seat_storm`: a webinar's opening minute at the storage layer.

One room (`max_participants` 4,000, 20 seats reserved for presenters), 5,000 attendee
claims (`PgRoomStore.claim_seat`) at once through a pool of `--pool` connections, then
the 20 presenters; the seats must come out exact. Printed: claims/s over the storm, per
1,000 answers in order, and `EXPLAIN ANALYZE` of the claim's statements with 3,000
seats taken. The database is a fresh one (support/database.py chooses the server);
it is dropped at the end. No gRPC: this measures the claim's transaction itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.processes import backend_pids, cpu_seconds
from service.domain.events import EventType
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, NewRoom, Role, RoleCapacity
from service.domain.seats import CapacityRefusal, Seat
from service.storage.db import create_pool, migrate
from service.storage.queries import QUERIES
from service.storage.repository import PgRoomStore
from support.database import admin_dsn, scratch_database

NOW = datetime.now(UTC).replace(microsecond=0)
TENANT = "storm"
LIMITS = replace(Limits(), max_participants_ceiling=4000)
TAKEN = EventType.SEAT_TAKEN.value

# The claim path's statements, as run with 3,000 seats taken ($3: now).
# (`seats_by_role` is the count the claim ran before seat_counts; skipped when absent.)
EXPLAINED: dict[str, list[object]] = {
    "claim_seat": [TENANT, "{room}", NOW, "nobody", 1],
    "delete_expired": [TENANT, "{room}", NOW],
    "extend_user_seat": [TENANT, "{room}", "nobody", NOW],
    "seats_by_role": [TENANT, "{room}"],
    "seat_counts": [TENANT, "{room}"],
    "take_seat": [
        TENANT,
        "s1",
        "{room}",
        "newcomer",
        "attendee",
        NOW,
        NOW + LIMITS.seat_ttl,
        [],
        [TAKEN],
        [],
        ["{}"],
        "bench",
    ],
    "claim_seats_together": [
        TENANT,
        "{room}",
        ["newcomer", "second"],
        ["attendee", "attendee"],
        [1, 1],
        ["s1", "s2"],
        [NOW, NOW],
        [NOW + LIMITS.seat_ttl] * 2,
        4000,
        [TAKEN, TAKEN],
        ["{}", "{}"],
        ["bench", "bench"],
    ],
}


async def make_room(store: PgRoomStore, room_id: str) -> None:
    await store.create_room(
        tenant=TENANT,
        room=NewRoom(
            room_id=room_id,
            valid_from=NOW - timedelta(hours=1),
            valid_until=NOW + timedelta(hours=6),
            join_policy=JoinPolicy.OPEN,
            open_join_role=Role.ATTENDEE,
            max_participants=4000,
            role_capacity=(RoleCapacity(Role.PRESENTER, 0, 20),),
        ),
        roster=(),
        now=NOW,
        idempotency_key="",
        request_hash="",
        actor="bench",
    )


async def claim(store: PgRoomStore, room_id: str, user: str, role: Role) -> object:
    return await store.claim_seat(
        tenant=TENANT,
        room_id=room_id,
        user_id=user,
        role=role,
        decided_at_version=1,
        now=NOW,
        limits=LIMITS,
        actor="bench",
    )


async def storm(store: PgRoomStore, room_id: str, users: int, in_flight: int) -> None:
    gate = asyncio.Semaphore(in_flight)
    done: list[float] = []
    results: list[object] = []

    async def one(user: str, role: Role) -> None:
        async with gate:
            results.append(await claim(store, room_id, user, role))
            done.append(time.perf_counter())

    start = time.perf_counter()
    await asyncio.gather(*(one(f"attendee-{i:05}", Role.ATTENDEE) for i in range(users)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(one(f"presenter-{i:02}", Role.PRESENTER) for i in range(20)))
    seats = sum(isinstance(r, Seat) for r in results)
    full = sum(isinstance(r, CapacityRefusal) for r in results)
    print(f"storm: {users} claims in {elapsed:.2f} s = {users / elapsed:.0f} claims/s")
    print(
        f"seats {seats} (presenters included), refused {full}, other {len(results) - seats - full}"
    )
    marks = [start] + [done[i - 1] for i in range(1000, users + 1, 1000)]
    rates = [f"{1000 / (b - a):.0f}" for a, b in itertools.pairwise(marks)]
    print("per 1,000 answers in order (claims/s): " + ", ".join(rates))


async def explain(pool: asyncpg.Pool, store: PgRoomStore) -> None:
    room_id = "explained"
    await make_room(store, room_id)
    await asyncio.gather(*(claim(store, room_id, f"u{i:05}", Role.ATTENDEE) for i in range(3000)))
    async with pool.acquire() as conn:
        for name, args in EXPLAINED.items():
            if name not in QUERIES:
                continue
            values = [room_id if a == "{room}" else a for a in args]
            tx = conn.transaction()  # rolled back: EXPLAIN ANALYZE runs the statement
            await tx.start()
            try:
                plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + QUERIES[name], *values)
            finally:
                await tx.rollback()
            lines = [row[0] for row in plan]
            timing = [line for line in lines if "Execution Time" in line]
            print(f"-- {name}: {timing[0].strip() if timing else ''}")
            for line in lines[:4]:
                print("   " + line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument(
        "--no-flush-wait",
        action="store_true",
        help="measurement only: commits do not wait for their WAL flush"
        " (synchronous_commit off for the storm's connections)",
    )
    args = parser.parse_args()
    with admin_dsn() as (admin, source):
        print(f"PostgreSQL from: {source}")
        asyncio.run(_measure(admin, args))


async def _measure(admin: str, args: argparse.Namespace) -> None:
    async with scratch_database(admin, "rooms_storm") as dsn:
        conn = await asyncpg.connect(dsn)
        await migrate(conn)
        await conn.close()
        settings = "?synchronous_commit=off" if args.no_flush_wait else ""
        pool = await create_pool(dsn + settings, min_size=args.pool, max_size=args.pool)
        try:
            store = PgRoomStore(pool)
            await make_room(store, "webinar")
            database = dsn.rsplit("/", 1)[1].split("?", 1)[0]
            pids = await asyncio.to_thread(backend_pids, admin, database)
            before = cpu_seconds(pids)
            await storm(store, "webinar", args.users, args.in_flight)
            used = cpu_seconds(pids) - before
            print(f"PostgreSQL CPU per claim: {used / (args.users + 20) * 1e6:,.0f} µs")
            await explain(pool, store)
        finally:
            await pool.close()


if __name__ == "__main__":
    main()
