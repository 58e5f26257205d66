"""Rooms in memory: create, read, list, update and delete; memberships; history; and
the lifecycle's transitions and retention, which tests drive by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from service.domain import events
from service.domain.errors import (
    etag_mismatch,
    idempotency_key_reused,
    room_already_exists,
    room_not_found,
)
from service.domain.events import SYSTEM_ACTOR, EventType, History, RoomEvent
from service.domain.models import (
    SETTING_TYPES,
    Membership,
    NewRoom,
    Participant,
    Room,
    RoomState,
    RosterEntry,
    etag_of,
)
from service.domain.ports import Position, check_changes
from service.domain.transitions import announced_after_change, owed_transitions
from service.storage.memory.tables import MemoryTables, RoomRows, stored


def _settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as their columns give them back: instants in UTC and in range, the
    metadata a copy of its own."""
    kept = dict(values)
    for name, value in kept.items():
        if isinstance(value, datetime):
            kept[name] = stored(value)
        elif isinstance(value, Mapping):
            kept[name] = dict(value)
    return kept


def _in_state(room: Room, state: RoomState | None, now: datetime) -> bool:
    return state is None or room.state(now) is state


class MemoryRooms(MemoryTables):
    """Rooms: create, read, list, update and delete; memberships; history."""

    async def create_room(
        self,
        *,
        tenant: str,
        room: NewRoom,
        roster: Sequence[RosterEntry],
        now: datetime,
        idempotency_key: str,
        request_hash: str,
        actor: str,
    ) -> Room:
        if idempotency_key:
            earlier = self._keys.get((tenant, idempotency_key))
            if earlier is not None:
                if earlier[0] != request_hash:
                    raise idempotency_key_reused(idempotency_key)
                replay = self._any(tenant, earlier[1])
                if replay is None:
                    raise room_not_found(room.room_id)
                return replay.room
        if self._any(tenant, room.room_id) is not None:
            raise room_already_exists(room.room_id)
        at = stored(now)
        created = Room(
            room_id=room.room_id,
            create_time=at,
            update_time=at,
            version=1,
            participant_count=len(roster),
            **_settings({name: getattr(room, name) for name in SETTING_TYPES}),
        )
        rows = self._tenant(tenant)[room.room_id] = RoomRows(created)
        for entry in roster:
            rows.participants[entry.user_id] = Participant(
                entry.user_id, entry.role, at, at, entry.valid_from, entry.valid_until
            )
        if idempotency_key:
            self._keys[tenant, idempotency_key] = (request_hash, room.room_id)
        history = [events.created(created)]
        history += [
            events.participant_added(e.user_id, e.role, e.valid_from, e.valid_until) for e in roster
        ]
        self._append(tenant, rows, history, actor, now)
        return rows.room

    async def get_room(self, *, tenant: str, room_id: str) -> Room | None:
        rows = self._live(tenant, room_id)
        return rows.room if rows is not None else None

    async def list_rooms(
        self,
        *,
        tenant: str,
        state: RoomState | None,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Room]:
        found = sorted(
            (
                rows.room
                for rows in self._tenant(tenant).values()
                if rows.live
                and _in_state(rows.room, state, now)
                and (after is None or (rows.room.create_time, rows.room.room_id) < after)
            ),
            key=lambda room: (room.create_time, room.room_id),
            reverse=True,
        )
        return found[:limit]

    async def update_room(
        self,
        *,
        tenant: str,
        room_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        state: RoomState,
        now: datetime,
        actor: str,
        previous: Room | None = None,
    ) -> Room | None:
        check_changes(changes)
        rows = self._live(tenant, room_id)
        if rows is None or rows.room.version != expected_version:
            return None
        self._bump(rows, now)
        rows.room = updated = replace(rows.room, **_settings(changes))
        # A window moved later makes the room scheduled (or open) again: its
        # transitions are announced anew.
        rows.announced = announced_after_change(rows.announced, state)
        changed = events.settings_changed(updated, changes, previous)
        self._append(tenant, rows, [changed], actor, now)
        return rows.room

    async def delete_room(
        self,
        *,
        tenant: str,
        room_id: str,
        expected_version: int | None,
        now: datetime,
        actor: str,
    ) -> None:
        rows = self._any(tenant, room_id)
        if rows is None:
            raise room_not_found(room_id)
        if not rows.live:
            return
        if expected_version is not None and expected_version != rows.room.version:
            raise etag_mismatch(room_id, etag_of(rows.room.version))
        self._bump(rows, now)
        rows.delete_time = stored(now)
        # Nobody is in a deleted room: its seats go with it (DELETED is the last event).
        for seat in list(rows.seats.values()):
            self._free_seat(tenant, rows, seat)
        self._append(tenant, rows, [events.deleted()], actor, now)

    async def list_memberships(
        self,
        *,
        tenant: str,
        user_id: str,
        state: RoomState | None,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Membership]:
        found = sorted(
            (
                Membership(rows.room, entry.role, entry.create_time)
                for rows in self._tenant(tenant).values()
                if rows.live
                and (entry := rows.participants.get(user_id)) is not None
                and _in_state(rows.room, state, now)
                and (after is None or (rows.room.valid_from, rows.room.room_id) > after)
            ),
            key=lambda m: (m.room.valid_from, m.room.room_id),
        )
        return found[:limit]

    # ---- history --------------------------------------------------------

    async def history(self, *, tenant: str, room_id: str) -> History | None:
        rows = self._any(tenant, room_id)
        if rows is None:
            return None
        latest = rows.room.last_event_revision
        oldest = rows.history[0].revision if rows.history else latest + 1
        return History(deleted=not rows.live, oldest=oldest, latest=latest)

    async def read_events(
        self,
        *,
        tenant: str,
        room_id: str,
        after: int,
        limit: int,
        newest_first: bool = False,
        types: Sequence[EventType] = (),
    ) -> list[RoomEvent]:
        rows = self._any(tenant, room_id)
        if rows is None:
            return []
        wanted = {t.value for t in types}
        found = [
            event
            for event in (reversed(rows.history) if newest_first else rows.history)
            if (event.revision < after if newest_first else event.revision > after)
            and (not wanted or event.type in wanted)
        ]
        return [event.read(room_id) for event in found[:limit]]

    # ---- what the lifecycle task does on PostgreSQL (tests call it by hand) ----

    async def announce_transitions(
        self, *, tenant: str, room_ids: Sequence[str], now: datetime
    ) -> int:
        """OPENED and ENDED for those of `room_ids` whose window opened or ended by
        `now`, each at the bound it marks; how many rooms moved."""
        moved = 0
        for room_id in room_ids:
            rows = self._live(tenant, room_id)
            if rows is None:
                continue
            room = rows.room
            owed = owed_transitions(rows.announced, room.valid_from, room.valid_until, now)
            for transition in owed:
                event = events.NewEvent(transition.type)
                self._append(
                    tenant, rows, [event], SYSTEM_ACTOR, now, event_time=transition.event_time
                )
                rows.announced = transition.state
            moved += bool(owed)
        return moved

    async def purge_events(self, *, tenant: str, room_id: str, up_to: int, before: datetime) -> int:
        """Forget the room's events up to revision `up_to` written before `before`
        (retention); how many."""
        rows = self._any(tenant, room_id)
        if rows is None:
            return 0
        kept = [e for e in rows.history if e.revision > up_to or e.record_time >= before]
        purged = len(rows.history) - len(kept)
        rows.history = kept
        return purged
