"""Background work on the room lifecycle: announcing windows that opened or ended, and
purging tombstones, long-ended rooms and old events. Safe with many replicas: each
batch takes a transaction-scoped advisory lock, so one replica works at a time and a
replica that dies mid-batch leaves nothing half-done."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from service.domain.clock import Clock
from service.storage import events as history_sql
from service.storage import seats as seats_sql

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retention:
    deleted_rooms: timedelta = timedelta(days=7)
    ended_rooms: timedelta = timedelta(days=30)
    events: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did."""

    announced: int = 0
    purged_rooms: int = 0
    purged_events: int = 0
    expired_seats: int = 0


class Lifecycle:
    def __init__(
        self, pool: asyncpg.Pool, clock: Clock, retention: Retention, batch_size: int = 500
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._retention = retention
        self._batch = batch_size

    async def run_once(self) -> Pass:
        """Announce every due transition, then purge everything past retention, in
        batches (short transactions, no long locks)."""
        now = self._clock.now()
        announced = purged_rooms = purged_events = 0
        while True:
            moved = await history_sql.announce_transitions(self._pool, now, self._batch)
            announced += moved
            if moved < self._batch:
                break
        expired_seats = await self.expire_seats(now)
        while True:
            done = await history_sql.purge(
                self._pool,
                deleted_before=now - self._retention.deleted_rooms,
                ended_before=now - self._retention.ended_rooms,
                events_before=now - self._retention.events,
                batch=self._batch,
            )
            purged_rooms += done.rooms
            purged_events += done.events
            if done.locked or (done.rooms < self._batch and done.events < self._batch):
                break
        return Pass(announced, purged_rooms, purged_events, expired_seats)

    async def expire_seats(self, now: datetime) -> int:
        """Free seats not renewed in time, announcing SEAT_EXPIRED: the rooms are found
        without locks, then each is handled in a short transaction of its own tenant
        (no cross-tenant lock, as a sharded database requires)."""
        expired = 0
        while True:
            rooms = await seats_sql.rooms_with_expired_seats(self._pool, now, self._batch)
            for tenant, room_id in rooms:
                expired += await seats_sql.expire_room_seats(self._pool, tenant, room_id, now)
            if len(rooms) < self._batch:
                return expired

    async def run(self, interval: float) -> None:
        """Run a pass every `interval` seconds until cancelled."""
        while True:
            try:
                done = await self.run_once()
                if done.purged_rooms or done.purged_events:
                    log.info("purged %d rooms and %d events", done.purged_rooms, done.purged_events)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a failed pass is retried on the next tick
                log.warning("lifecycle pass failed: %r", error)
            await asyncio.sleep(interval)
