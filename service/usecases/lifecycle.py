"""Background work on the room lifecycle: announcing windows that opened or ended (the
rooms', and participants' own), expiring seats, and purging tombstones, long-ended
rooms and old events, each through the lifecycle's store (service/storage/lifecycle.py
says how it stays safe with many replicas and on a distributed PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging

from service.domain.clock import Clock
from service.domain.lifecycle import LifecycleStore, Pass, Retention

log = logging.getLogger(__name__)


class Lifecycle:
    """One pass announces every due transition, then purges everything past retention."""

    def __init__(self, store: LifecycleStore, clock: Clock, retention: Retention) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention

    async def run_once(self) -> Pass:
        """Announce every due transition, then purge everything past retention."""
        now = self._clock.now()
        announced = await self._store.announce_transitions(now)
        windows_ended = await self._store.announce_window_ends(now)
        announced += await self._store.announce_occurrences(now)
        expired_seats = await self._store.expire_seats(now)
        purged_rooms = await self._store.purge_rooms(
            deleted_before=now - self._retention.deleted_rooms,
            ended_before=now - self._retention.ended_rooms,
        )
        purged_events = await self._store.purge_events(now - self._retention.events)
        return Pass(announced, windows_ended, purged_rooms, purged_events, expired_seats)

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
