"""Primary-key reads that arrive while earlier ones are in flight share one statement.

The hot reads (GetRoom's room, AuthorizeJoin's and IntrospectCredential's join facts)
are each one primary-key lookup. Alone, a read is sent at once as the single-row
statement it always was (`Pool.fetchrow`): at one call in flight nothing changes, and
nothing waits. Under load, reads of one kind and tenant have at most `concurrency`
statements in flight; a read arriving while that many are out waits for the next one,
which carries every read queued meanwhile as ONE statement (`room_id = ANY($2)`, or
`unnest($2, $3)` for (room, user) pairs), each caller getting its own row back. So the
more calls are in flight, the fewer statements, pool acquires and round trips per call
(adaptive batching, as a database's group commit does), with no timer and no added
latency when the database keeps up.

Consistency: strict read-your-writes, as without batching. A read only ever joins a
statement that has not been SENT yet, and every statement is one autocommit statement
whose snapshot is taken when PostgreSQL starts it, i.e. after every read in it began. So
a read that starts after a write was acknowledged (committed) sees that write: nothing is
served from a result computed before the read began, and nothing is cached.

Cancellation: a caller that goes away (deadline, client cancel) only abandons its own
future; the statement still answers the others. Failures reach every caller of the batch
as the same DomainError the single reads raise (`translate`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from service.domain import deadline
from service.domain.errors import DomainError, ErrorReason
from service.storage.queries import QUERIES

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


ROOM = _Kind(QUERIES["room_one"], QUERIES["room_many"], lambda row: (row["room_id"],))
JOIN = _Kind(
    QUERIES["join_one"], QUERIES["join_many"], lambda row: (row["room_id"], row["q_user_id"])
)


class _Group:
    """The reads of one kind and tenant: those waiting, and the statements out."""

    __slots__ = ("pending", "running")

    def __init__(self) -> None:
        self.pending: list[_Waiter] = []
        self.running = 0


class CoalescingReader:
    """Primary-key reads of one process, batched while the database is busy (see the
    module). `concurrency`: statements in flight per kind and tenant."""

    def __init__(self, pool: asyncpg.Pool, statement_ceiling: float, concurrency: int = 1) -> None:
        self._pool = pool
        self._ceiling = statement_ceiling
        self._concurrency = concurrency
        self._groups: dict[tuple[_Kind, str], _Group] = {}
        self._drains: set[asyncio.Future[None]] = set()

    async def room(self, tenant: str, room_id: str) -> asyncpg.Record | None:
        return await self._read(ROOM, tenant, (room_id,))

    async def join_facts(self, tenant: str, room_id: str, user_id: str) -> asyncpg.Record | None:
        return await self._read(JOIN, tenant, (room_id, user_id))

    async def _read(self, kind: _Kind, tenant: str, key: Key) -> asyncpg.Record | None:
        left = budget(self._ceiling)
        group = self._groups.get((kind, tenant))
        if group is None:
            if len(self._groups) > 10_000:  # tenants come and go: forget the idle ones
                self._groups = {k: g for k, g in self._groups.items() if g.running}
            group = self._groups[(kind, tenant)] = _Group()
        if group.running < self._concurrency and not group.pending:
            # Nothing queued and room for one more statement: this read goes now, alone.
            group.running += 1
            try:
                row: asyncpg.Record | None = await self._pool.fetchrow(
                    kind.one, tenant, *key, timeout=left
                )
            except Exception as error:
                failure = translate(error)
                if failure is error:
                    raise
                raise failure from error
            finally:
                group.running -= 1
                self._drain_if_waiting(kind, tenant, group)
            return row
        future: asyncio.Future[asyncpg.Record | None] = asyncio.get_running_loop().create_future()
        group.pending.append((key, future))
        self._drain_if_waiting(kind, tenant, group)
        return await future

    def _drain_if_waiting(self, kind: _Kind, tenant: str, group: _Group) -> None:
        if group.pending and group.running < self._concurrency:
            group.running += 1
            drain = asyncio.ensure_future(self._drain(kind, tenant, group))
            self._drains.add(drain)
            drain.add_done_callback(self._drains.discard)

    async def _drain(self, kind: _Kind, tenant: str, group: _Group) -> None:
        """Send what is queued as one statement; again while more was queued meanwhile."""
        try:
            while group.pending:
                waiters, group.pending = group.pending, []
                await self._run(kind, tenant, waiters, self._ceiling)
        finally:
            group.running -= 1

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
