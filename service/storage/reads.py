"""Reads by primary key that arrive in the same turn of the event loop share one statement.

The hot reads (GetRoom's room, AuthorizeJoin's and IntrospectCredential's join facts)
are each one primary-key lookup. Under load many of them arrive together: the calls
whose requests were read in one turn of the event loop all reach their read in that same
turn. Instead of one pool acquire, one statement and one round trip each, the reads of a
turn are collected and sent, at the start of the next turn, as ONE statement per kind and
tenant (`room_id = ANY($2)`, or `unnest($2, $3)` for (room, user) pairs); each caller gets
its own row back. Alone (one call in flight) a read is the same single-row statement it
always was, through `Pool.fetchrow`.

Consistency: strict read-your-writes, as without batching. A read only ever joins a batch
that has not been SENT yet, and every batch is one autocommit statement whose snapshot is
taken when PostgreSQL starts it, i.e. after every read in it began. So a read that starts
after a write was acknowledged (committed) sees that write: nothing is served from a
result computed before the read began, and nothing is cached.

Cancellation: a caller that goes away (deadline, client cancel) only abandons its own
future; the statement still answers the others. Failures reach every caller of the batch
as the same DomainError the single reads raise (`translate`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from service import deadline
from service.domain.errors import DomainError, ErrorReason
from service.storage import seats as seats_sql

# Driver failures that mean "the database is not reachable right now".
UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    # A connection the server has just closed can be handed out again before asyncpg
    # notices the close (its protocol still mid-error): "cannot switch to state".
    asyncpg.InternalClientError,
)


def translate(error: BaseException) -> BaseException:
    """The DomainError a driver failure means to the caller; anything else as it is."""
    if isinstance(error, asyncpg.QueryCanceledError):
        return DomainError(ErrorReason.TIMEOUT, "the database query took too long")
    if isinstance(error, TimeoutError):
        return DomainError(ErrorReason.TIMEOUT, "the database did not answer in time")
    if isinstance(error, UNAVAILABLE):
        return DomainError(
            ErrorReason.DATABASE_UNAVAILABLE, "the database is unavailable; retry later"
        )
    return error


def budget(ceiling: float) -> float:
    """The time the current call may spend in the database (raises once it is over)."""
    left = deadline.remaining(ceiling)
    if left <= 0:
        raise DomainError(ErrorReason.TIMEOUT, "the call's deadline has passed")
    return left


ROOM_COLUMNS = (
    "room_id, create_time, update_time, valid_from, valid_until, pstn_dial_out_enabled,"
    " join_policy, metadata, open_join_role, early_entry, revision, participant_count,"
    " event_seq, waiting_room_enabled, max_participants, role_capacity"
)
_R_ROOM_COLUMNS = ", ".join(f"r.{c.strip()}" for c in ROOM_COLUMNS.split(","))
_KNOCK_COLUMNS = ", ".join(
    f"k.{c.strip()} AS k_{c.strip()}" for c in seats_sql.KNOCK_COLUMNS.split(",")
)

ROOM_ONE = f"""SELECT {ROOM_COLUMNS} FROM rooms
    WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL"""
ROOM_MANY = f"""SELECT {ROOM_COLUMNS} FROM rooms
    WHERE tenant = $1 AND room_id = ANY($2::text[]) AND delete_time IS NULL"""

_JOIN_SELECT = f"""SELECT {_R_ROOM_COLUMNS}, p.user_id AS p_user_id, p.role AS p_role,
           p.create_time AS p_create_time, p.update_time AS p_update_time,
           {_KNOCK_COLUMNS},
           x.revision AS x_revision, x.banned AS x_banned"""
_JOIN_FACTS = """LEFT JOIN participants p
           ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = {user}
    LEFT JOIN knocks k
           ON k.tenant = r.tenant AND k.room_id = r.room_id AND k.user_id = {user}
    LEFT JOIN participant_removals x
           ON x.tenant = r.tenant AND x.room_id = r.room_id AND x.user_id = {user}"""
JOIN_ONE = f"""{_JOIN_SELECT}
    FROM rooms r
    {_JOIN_FACTS.format(user="$3")}
    WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL"""
JOIN_MANY = f"""{_JOIN_SELECT}, q.user_id AS q_user_id
    FROM unnest($2::text[], $3::text[]) AS q(room_id, user_id)
    JOIN rooms r ON r.tenant = $1 AND r.room_id = q.room_id AND r.delete_time IS NULL
    {_JOIN_FACTS.format(user="q.user_id")}"""

Key = tuple[str, ...]
_Waiter = tuple[Key, "asyncio.Future[asyncpg.Record | None]"]


class _Kind:
    """One kind of read: its single-row statement, its many-row statement, and how a row
    of the latter names the key it answers."""

    __slots__ = ("key_of", "many", "one")

    def __init__(self, one: str, many: str, key_of: Callable[[asyncpg.Record], Key]) -> None:
        self.one = one
        self.many = many
        self.key_of = key_of


ROOM = _Kind(ROOM_ONE, ROOM_MANY, lambda row: (row["room_id"],))
JOIN = _Kind(JOIN_ONE, JOIN_MANY, lambda row: (row["room_id"], row["q_user_id"]))


class CoalescingReader:
    """Primary-key reads of one process, batched per event-loop turn (see the module)."""

    def __init__(self, pool: asyncpg.Pool, statement_ceiling: float) -> None:
        self._pool = pool
        self._ceiling = statement_ceiling
        # (kind, tenant) -> the reads waiting for the next flush, and their budget.
        self._pending: dict[tuple[_Kind, str], list[_Waiter]] = {}
        self._budget = 0.0
        self._flush_scheduled = False
        self._running: set[asyncio.Future[None]] = set()

    async def room(self, tenant: str, room_id: str) -> asyncpg.Record | None:
        return await self._read(ROOM, tenant, (room_id,))

    async def join_facts(self, tenant: str, room_id: str, user_id: str) -> asyncpg.Record | None:
        return await self._read(JOIN, tenant, (room_id, user_id))

    def _read(self, kind: _Kind, tenant: str, key: Key) -> asyncio.Future[asyncpg.Record | None]:
        left = budget(self._ceiling)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[asyncpg.Record | None] = loop.create_future()
        waiting = self._pending.get((kind, tenant))
        if waiting is None:
            waiting = self._pending[(kind, tenant)] = []
        waiting.append((key, future))
        self._budget = max(self._budget, left)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # Runs once every callback already due in this turn has run: the reads of
            # every call woken in this turn have joined by then.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        timeout, self._budget = self._budget, 0.0
        self._flush_scheduled = False
        for (kind, tenant), waiters in pending.items():
            task = asyncio.ensure_future(self._run(kind, tenant, waiters, timeout))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(
        self, kind: _Kind, tenant: str, waiters: Sequence[_Waiter], seconds: float
    ) -> None:
        try:
            if len(waiters) == 1:
                key, future = waiters[0]
                row = await self._pool.fetchrow(kind.one, tenant, *key, timeout=seconds)
                if not future.done():
                    future.set_result(row)
                return
            keys = list({key for key, _ in waiters})
            columns: list[list[str]] = [list(part) for part in zip(*keys, strict=True)]
            rows = await self._pool.fetch(kind.many, tenant, *columns, timeout=seconds)
        except BaseException as error:
            for _, future in waiters:
                if not future.done():
                    failure = translate(error)
                    if failure is not error:
                        failure.__cause__ = error
                    future.set_exception(failure)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        found: dict[Key, Any] = {kind.key_of(row): row for row in rows}
        for key, future in waiters:
            if not future.done():
                future.set_result(found.get(key))
