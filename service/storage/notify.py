"""Both ends of the "room X may have news" hint, PostgreSQL LISTEN/NOTIFY on one channel.

`notify_rooms` is the sending end: `tenant_transaction` (service/storage/transaction.py)
calls it after its transaction commits, outside any transaction, so no write ever
carries a NOTIFY (a distributed database cannot prepare a transaction that has one).
`EventHub` is the receiving end: one LISTEN connection per process, fanned out to the
watchers on this replica."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import asyncpg

from service.storage.db import Connection
from service.storage.queries import QUERIES

log = logging.getLogger(__name__)

CHANNEL = "rooms_events"
# Between tenant and room id in a payload: chr(31) in the notify_rooms statement.
_SEPARATOR = "\x1f"


async def notify_rooms(conn: Connection, tenant: str, room_ids: Iterable[str]) -> None:
    """Tell every replica's watchers that these rooms of `tenant` may have news. Must run
    outside any transaction (one statement, its own implicit transaction)."""
    rooms = sorted(set(room_ids))
    if not rooms:
        return
    if conn.is_in_transaction():
        raise RuntimeError("notify_rooms runs after the commit, never inside a transaction")
    await conn.execute(
        QUERIES["notify_rooms"],
        CHANNEL,
        tenant,
        rooms,
    )


class EventHub:
    """One LISTEN connection per process, fanned out to per-room subscribers.

    Subscribers only learn "something may be new" and read the events themselves, so
    a slow watcher costs no memory here and never slows a writer. When the connection
    drops, every subscriber is woken (to re-read) and the hub reconnects.
    """

    def __init__(self, dsn: str, reconnect_delay: float = 1.0) -> None:
        self._dsn = dsn
        self._reconnect_delay = reconnect_delay
        self._subscribers: dict[tuple[str, str], set[asyncio.Event]] = defaultdict(set)
        self._everything: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        """Start listening; waits (up to 10 s) for the first connection."""
        self._task = asyncio.create_task(self._run(), name="rooms-event-hub")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self._connected.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._wake_all()

    @contextlib.contextmanager
    def subscribe(self, tenant: str, room_id: str) -> Iterator[asyncio.Event]:
        signal = asyncio.Event()
        key = (tenant, room_id)
        self._subscribers[key].add(signal)
        try:
            yield signal
        finally:
            self._subscribers[key].discard(signal)
            if not self._subscribers[key]:
                del self._subscribers[key]

    @contextlib.contextmanager
    def subscribe_all(self) -> Iterator[asyncio.Event]:
        """An event set whenever any room may have new events (the delivery engine)."""
        signal = asyncio.Event()
        self._everything.add(signal)
        try:
            yield signal
        finally:
            self._everything.discard(signal)

    def _wake_all(self) -> None:
        for signals in (*self._subscribers.values(), self._everything):
            for signal in signals:
                signal.set()

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        tenant, _, room_id = str(payload).partition(_SEPARATOR)
        for signal in (*self._subscribers.get((tenant, room_id), ()), *self._everything):
            signal.set()

    async def _run(self) -> None:
        while True:
            connection: asyncpg.Connection[asyncpg.Record] | None = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=10)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notify)
                self._connected.set()
                self._wake_all()  # anything missed while disconnected is re-read
                while not lost.is_set() and not connection.is_closed():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(5):
                            await lost.wait()
                    if not lost.is_set():
                        await connection.execute(QUERIES["listen_ping"])
            except asyncio.CancelledError:
                if connection is not None and not connection.is_closed():
                    connection.terminate()
                raise
            except Exception as error:
                log.warning("event hub connection failed: %r; reconnecting", error)
            finally:
                self._connected.clear()
                if connection is not None and not connection.is_closed():
                    connection.terminate()
            self._wake_all()
            await asyncio.sleep(self._reconnect_delay)
