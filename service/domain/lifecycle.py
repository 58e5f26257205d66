"""The room lifecycle's values and its port: how long tombstones, ended rooms and
events are kept, what one pass did, and what the lifecycle asks of a store
(service/storage/lifecycle.py; the use case is service/usecases/lifecycle.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Retention:
    deleted_rooms: timedelta = timedelta(days=7)
    ended_rooms: timedelta = timedelta(days=30)
    events: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass did."""

    announced: int = 0
    windows_ended: int = 0
    purged_rooms: int = 0
    purged_events: int = 0
    expired_seats: int = 0


class LifecycleStore(Protocol):
    """Each method does all of its kind of work due at `now` and returns how much it did
    (the store works in batches, one tenant's share at a time, and stops early when
    another replica is at work)."""

    async def announce_transitions(self, now: datetime) -> int:
        """OPENED and ENDED of the rooms whose window opened or ended."""
        ...

    async def announce_window_ends(self, now: datetime) -> int:
        """The ends of participants' own windows."""
        ...

    async def announce_occurrences(self, now: datetime) -> int:
        """OPENED and ENDED of each occurrence of the recurring rooms."""
        ...

    async def expire_seats(self, now: datetime) -> int:
        """Free the seats not renewed in time, announcing SEAT_EXPIRED."""
        ...

    async def purge_rooms(self, *, deleted_before: datetime, ended_before: datetime) -> int:
        """Remove tombstones deleted and rooms ended before these instants."""
        ...

    async def purge_events(self, before: datetime) -> int:
        """Remove events recorded before `before`."""
        ...
