"""The memory store's data, and what its parts share: the rows of one room, the
room's lock (a check of its version), appending events, and the notifier.

Each store method runs without an `await`, so on one event loop it is atomic, as a
transaction is; every method checks (and raises) before it changes anything, so a
refused call leaves nothing behind, as a rolled-back transaction does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from service.domain import events, instants
from service.domain.credentials import Removal
from service.domain.errors import etag_mismatch, room_not_found
from service.domain.events import NewEvent, RoomEvent
from service.domain.models import Participant, Room, RoomState
from service.domain.seats import Seat, new_seat_id
from service.domain.waiting_room import Knock


def stored(moment: datetime) -> datetime:
    """An instant as a `timestamptz` column gives it back: in UTC, in the accepted range."""
    return instants.readable(moment.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A row of a room's history; `data` is JSON text, as the column holds it."""

    revision: int
    event_time: datetime
    record_time: datetime
    type: str
    actor: str
    data: str

    def read(self, room_id: str) -> RoomEvent:
        return events.from_record(
            room_id, self.revision, self.event_time, self.type, self.actor, json.loads(self.data)
        )


@dataclass(slots=True)
class RoomRows:
    """One room and everything that belongs to it (deleted with it by a purge)."""

    # Settings and counters; `last_event_revision` is the room's event sequence.
    room: Room
    delete_time: datetime | None = None
    # The state last announced (SCHEDULED: no transition yet).
    announced: RoomState = RoomState.SCHEDULED
    participants: dict[str, Participant] = field(default_factory=dict)
    history: list[StoredEvent] = field(default_factory=list)
    removals: dict[str, Removal] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)
    knocks: dict[str, Knock] = field(default_factory=dict)
    seats: dict[str, Seat] = field(default_factory=dict)  # by user_id: one per identity

    @property
    def live(self) -> bool:
        return self.delete_time is None


class MemoryNotifier:
    """The in-memory `Notifier`: the memory store tells it which rooms it wrote to,
    and it sets the events of those rooms' subscribers."""

    def __init__(self) -> None:
        self._signals: dict[tuple[str, str], list[asyncio.Event]] = {}

    @contextlib.contextmanager
    def subscribe(self, tenant: str, room_id: str) -> Iterator[asyncio.Event]:
        signal = asyncio.Event()
        waiting = self._signals.setdefault((tenant, room_id), [])
        waiting.append(signal)
        try:
            yield signal
        finally:
            waiting.remove(signal)
            if not waiting:
                self._signals.pop((tenant, room_id), None)

    def notify(self, tenant: str, room_ids: Iterable[str]) -> None:
        for room_id in room_ids:
            for signal in self._signals.get((tenant, room_id), ()):
                signal.set()


class MemoryTables:
    """The rows of every tenant, and the helpers the memory store's parts share."""

    def __init__(
        self,
        notifier: MemoryNotifier | None = None,
        seat_ids: Callable[[], str] = new_seat_id,
    ) -> None:
        self.notifier = notifier if notifier is not None else MemoryNotifier()
        self._seat_ids = seat_ids
        self._rooms: dict[str, dict[str, RoomRows]] = {}
        # (tenant, idempotency key) -> (request hash, room id)
        self._keys: dict[tuple[str, str], tuple[str, str]] = {}
        # (tenant, seat id) -> room id
        self._seat_rooms: dict[tuple[str, str], str] = {}

    def _tenant(self, tenant: str) -> dict[str, RoomRows]:
        return self._rooms.setdefault(tenant, {})

    def _any(self, tenant: str, room_id: str) -> RoomRows | None:
        """The room, deleted or not."""
        return self._rooms.get(tenant, {}).get(room_id)

    def _live(self, tenant: str, room_id: str) -> RoomRows | None:
        rows = self._any(tenant, room_id)
        return rows if rows is not None and rows.live else None

    def _locked(self, tenant: str, room_id: str, expected_version: int | None) -> RoomRows:
        """A live room for a change, at `expected_version` when one is given."""
        rows = self._live(tenant, room_id)
        if rows is None:
            raise room_not_found(room_id)
        if expected_version is not None and expected_version != rows.room.version:
            raise etag_mismatch(room_id, rows.room.etag)
        return rows

    @staticmethod
    def _bump(rows: RoomRows, now: datetime, count: int | None = None) -> int:
        """A caller's change: the room's version (its etag) moves on."""
        room = rows.room
        rows.room = replace(
            room,
            version=room.version + 1,
            update_time=stored(now),
            participant_count=room.participant_count if count is None else count,
        )
        return rows.room.version

    def _append(
        self,
        tenant: str,
        rows: RoomRows,
        new: Sequence[NewEvent],
        actor: str,
        now: datetime,
        event_time: datetime | None = None,
    ) -> int:
        """Number `new` after the room's last event, store them, wake the room's
        watchers; the room's last event revision."""
        if not new:
            raise ValueError("append needs at least one event")
        seq = rows.room.last_event_revision
        for event in new:
            seq += 1
            rows.history.append(
                StoredEvent(
                    seq,
                    stored(event_time or now),
                    stored(now),
                    event.type.value,
                    actor,
                    json.dumps(event.data),
                )
            )
        rows.room = replace(rows.room, last_event_revision=seq)
        self.notifier.notify(tenant, [rows.room.room_id])
        return seq

    @staticmethod
    def _bump_epochs(rows: RoomRows, user_ids: Iterable[str]) -> None:
        """A new membership epoch for each identity."""
        for user_id in set(user_ids):
            rows.epochs[user_id] = rows.epochs.get(user_id, 0) + 1

    def _free_seat(self, tenant: str, rows: RoomRows, seat: Seat) -> None:
        del rows.seats[seat.user_id]
        del self._seat_rooms[tenant, seat.seat_id]
