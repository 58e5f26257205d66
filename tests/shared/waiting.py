"""Waiting in tests: for a condition to hold (never for a length of time), for a call to
wait on a row lock that a test holds, and for a watcher to subscribe."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
from rooms.v1 import participant_pb2
from rooms.v1 import participants_service_pb2 as ps

from tests.shared.calls import People

# ---- held locks --------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def room_row_locked(pool: asyncpg.Pool, room_id: str) -> AsyncIterator[None]:
    """Hold a room's row lock, so a roster change of that room stays in flight."""
    connection = await pool.acquire()
    transaction = connection.transaction()
    await transaction.start()
    try:
        # Tenant first, as every statement of the service: Citus locks rows of one shard.
        tenant = await connection.fetchval("SELECT tenant FROM rooms WHERE room_id = $1", room_id)
        await connection.execute(
            "SELECT 1 FROM rooms WHERE tenant = $1 AND room_id = $2 FOR UPDATE", tenant, room_id
        )
        yield
    finally:
        await transaction.rollback()
        await pool.release(connection)


@contextlib.asynccontextmanager
async def roster_change_in_flight(
    pool: asyncpg.Pool, roster: People, room_id: str
) -> AsyncIterator[asyncio.Future[ps.AddOrUpdateParticipantsResponse]]:
    """AddOrUpdateParticipants of "late" into the room, held in flight by the room's row
    lock: the call, once PostgreSQL shows it waiting for the lock (released on leaving)."""
    async with room_row_locked(pool, room_id):
        in_flight = asyncio.ensure_future(
            roster.AddOrUpdateParticipants(
                ps.AddOrUpdateParticipantsRequest(
                    room_id=room_id, participants=[participant_pb2.Participant(user_id="late")]
                )
            )
        )
        await eventually(lambda: waiting_for_a_lock(pool), what="the call waiting")
        yield in_flight


# ---- waiting for a condition -------------------------------------------------------------


async def eventually(
    condition: Callable[[], Awaitable[bool] | bool],
    *,
    within: float = 20.0,
    what: str = "the condition",
) -> None:
    """Poll `condition` (plain or async) until it holds, failing the test after
    `within` seconds. The test waits for a state it can observe, never for a length of
    time; the deadline only bounds a hang."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within

    async def holds() -> bool:
        result = condition()
        return await result if inspect.isawaitable(result) else result

    while not await holds():
        assert loop.time() < deadline, f"{what} did not happen within {within} s"
        await asyncio.sleep(0.01)


async def lock_waiters(pool: asyncpg.Pool, query_like: str = "%") -> int:
    """How many statements (their text LIKE `query_like`) of this database wait for a
    lock. On a Citus cluster they wait on the worker that holds the row, so every
    node's activity is looked at there (citus_stat_activity)."""
    on_citus = await pool.fetchval("SELECT to_regclass('citus_stat_activity') IS NOT NULL")
    activity = "citus_stat_activity" if on_citus else "pg_stat_activity"
    waiting: int = await pool.fetchval(
        f"""SELECT count(*) FROM {activity}
           WHERE wait_event_type = 'Lock' AND datname = current_database()
             AND query LIKE $1""",
        query_like,
    )
    return waiting


async def waiting_for_a_lock(pool: asyncpg.Pool, query_like: str = "%") -> bool:
    """Whether a statement (its text LIKE `query_like`) of this database is waiting
    for a lock: a call held by `room_row_locked` has reached PostgreSQL."""
    return await lock_waiters(pool, query_like) > 0


def subscribed(hub: Any, tenant: str, room_id: str) -> Callable[[], Awaitable[bool]]:
    """A condition for `eventually`: some WatchRoom of the room has subscribed to the
    server's change notifications (so it will see what is written next)."""

    async def check() -> bool:
        return (tenant, room_id) in hub._subscribers

    return check
