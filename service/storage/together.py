"""Writes about one room that queue behind the one in flight and then go together.

A process's writes of one room serialize on the room's row anyway; here they wait as
coroutines, not as backends queued on the row lock (each holding a pooled connection
and costing PostgreSQL CPU to wait and wake), and the next batch takes the lock, its
round trips and its commit once for all of them. Used by seat claims
(`service/storage/claims.py`) and knock decisions (`service/storage/decisions.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Request = TypeVar("Request")
Answer = TypeVar("Answer")
RoomKey = tuple[str, str]  # (tenant, room_id)


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
