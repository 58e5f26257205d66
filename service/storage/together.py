"""Writes about one room that queue behind the one in flight and then go together.

A process's writes of one room serialize on the room's row anyway; here they wait as
coroutines, not as backends queued on the row lock (each holding a pooled connection
and costing PostgreSQL CPU to wait and wake), and the next batch takes the lock, its
round trips and its commit once for all of them. Used by seat claims
(`service/storage/claims.py`) and knock decisions (`service/storage/decisions.py`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import asyncpg

from service.storage.notify import notify_rooms

Request = TypeVar("Request")
Answer = TypeVar("Answer")
RoomKey = tuple[str, str]  # (tenant, room_id)

log = logging.getLogger(__name__)


@dataclass
class _Waiting(Generic[Request, Answer]):
    request: Request
    answer: asyncio.Future[Answer]


@dataclass
class Together(Generic[Request, Answer]):
    """`run(key, batch)` answers a batch of a room's requests, one answer (or the
    exception that request raises) per request, in order. A batch holds at most
    `limit` requests and each `identity` once: a second request of one identity waits
    for the next batch, so its answer sees the first's."""

    run: Callable[[RoomKey, list[Request]], Awaitable[list[Answer | Exception]]]
    identity: Callable[[Request], str]
    limit: int
    _queues: dict[RoomKey, list[_Waiting[Request, Answer]]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def ask(self, key: RoomKey, request: Request) -> Answer:
        waiting: _Waiting[Request, Answer] = _Waiting(
            request, asyncio.get_running_loop().create_future()
        )
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = []
            task = asyncio.create_task(self._serve(key, queue))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        queue.append(waiting)
        return await waiting.answer

    async def _serve(self, key: RoomKey, queue: list[_Waiting[Request, Answer]]) -> None:
        """Run the room's queued requests, a batch at a time, until none waits."""
        try:
            while queue:
                batch: list[_Waiting[Request, Answer]] = []
                later: list[_Waiting[Request, Answer]] = []
                seen: set[str] = set()
                for waiting in queue:
                    if waiting.answer.done():  # its caller gave up before it was sent
                        continue
                    identity = self.identity(waiting.request)
                    if identity in seen or len(batch) >= self.limit:
                        later.append(waiting)
                    else:
                        seen.add(identity)
                        batch.append(waiting)
                queue[:] = later
                if not batch:
                    continue
                answers: list[Answer | Exception]
                try:
                    answers = await self.run(key, [waiting.request for waiting in batch])
                except Exception as error:  # each caller raises it
                    answers = [error] * len(batch)
                for waiting, answer in zip(batch, answers, strict=True):
                    if waiting.answer.done():
                        continue
                    if isinstance(answer, Exception):
                        waiting.answer.set_exception(answer)
                    else:
                        waiting.answer.set_result(answer)
        finally:
            del self._queues[key]
            for waiting in queue:  # only if this task itself was cancelled
                if not waiting.answer.done():
                    waiting.answer.set_exception(RuntimeError("the room's queue stopped"))


# Rooms whose writes are being announced by this process: whether another claim
# committed since the announcement in flight was sent (and so needs one more).
_announcing: dict[tuple[str, str], bool] = {}


async def announce(pool: asyncpg.Pool, tenant: str, room_id: str) -> None:
    """Wake the room's watchers after a write's commit (as tenant_transaction does),
    once per burst: a write committed while an announcement of its room is in flight
    leaves it to the write sending that one, which sends one more after it. Every
    commit is still followed by a NOTIFY sent after it; a storm of claims and
    decisions on one room sends a few, not one per batch (each NOTIFY is a commit of
    its own), and no batch waits for one before the next is sent."""
    key = (tenant, room_id)
    if key in _announcing:
        _announcing[key] = True
        return
    _announcing[key] = False
    try:
        async with pool.acquire() as conn:
            while True:
                await notify_rooms(conn, tenant, [room_id])
                if not _announcing[key]:
                    break
                _announcing[key] = False
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        log.warning("notification after commit failed: %r", error)
    finally:
        del _announcing[key]
