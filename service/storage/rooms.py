"""Rooms: create, read, list, update and delete; memberships; history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg

from service.domain import events
from service.domain.errors import (
    etag_mismatch,
    idempotency_key_reused,
    room_already_exists,
    room_not_found,
)
from service.domain.events import EventType, History, RoomEvent
from service.domain.models import (
    SETTING_TYPES,
    Membership,
    NewRoom,
    Room,
    RoomState,
    RosterEntry,
    state_bounds,
)
from service.domain.ports import Position, check_changes
from service.storage import history as history_sql
from service.storage import rows
from service.storage import seats as seats_sql
from service.storage.base import (
    ROLE_BY_VALUE,
    StoreBase,
    check_version,
    readable_instant,
    room_of,
    translate_errors,
)
from service.storage.db import Connection
from service.storage.history import append_events
from service.storage.queries import QUERIES
from service.storage.transaction import tenant_transaction

# The settable columns, in the order create_room's statement takes them ($4 on) and
# update_room's ($6 on).
_SETTING_COLUMNS = tuple(SETTING_TYPES)


def _in_state(state: RoomState | None, now: datetime) -> list[datetime | None]:
    """The parameters ($2..$5) that filter a List by state: the domain's window bounds."""
    bounds = state_bounds(state, now)
    return [bounds.starts_after, bounds.starts_by, bounds.ends_after, bounds.ends_by]


class RoomsStore(StoreBase):
    """Rooms: create, read, list, update and delete; memberships; history."""

    @translate_errors
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
        """Store a room and its roster at once. With an idempotency key already used
        for the same request hash, return that room instead; with a different hash,
        raise REQUEST_ID_REUSED. A taken room id raises ROOM_ALREADY_EXISTS."""
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            if idempotency_key:
                replay = await self._claim_idempotency_key(
                    conn, tenant, idempotency_key, request_hash, room.room_id, now
                )
                if replay is not None:
                    return replay
            # Everything a create writes in ONE statement (one round trip, and the room's
            # row written once: its event_seq is set here rather than bumped after).
            settings = {name: getattr(room, name) for name in _SETTING_COLUMNS}
            created = Room(
                room_id=room.room_id,
                create_time=now,
                update_time=now,
                version=1,
                participant_count=len(roster),
                **{
                    **settings,
                    "valid_from": readable_instant(room.valid_from.astimezone(UTC)),
                    "valid_until": readable_instant(room.valid_until.astimezone(UTC)),
                    "metadata": dict(room.metadata),
                },
            )
            history = [events.created(created)]
            history += [
                events.participant_added(e.user_id, e.role, e.valid_from, e.valid_until)
                for e in roster
            ]
            inserted = await conn.fetchval(
                QUERIES["create_room"],
                tenant,
                room.room_id,
                now,
                *(rows.column_value(name, value) for name, value in settings.items()),
                created.occurrences()[-1].end,
                len(roster),
                [entry.user_id for entry in roster],
                [entry.role.value for entry in roster],
                *history_sql.event_arrays(history),
                actor,
                [entry.valid_from for entry in roster],
                [entry.valid_until for entry in roster],
            )
            if not inserted:
                raise room_already_exists(room.room_id)
            tx.touch(room.room_id)
            return replace(created, last_event_revision=len(history))

    async def _claim_idempotency_key(
        self,
        conn: Connection,
        tenant: str,
        idempotency_key: str,
        request_hash: str,
        room_id: str,
        now: datetime,
    ) -> Room | None:
        """Record an idempotency key; if it was recorded before, the room it created."""
        claimed = await conn.fetchval(
            QUERIES["claim_idempotency_key"],
            tenant,
            idempotency_key,
            request_hash,
            room_id,
            now,
        )
        if claimed:
            return None
        earlier = await conn.fetchrow(
            QUERIES["existing_request"],
            tenant,
            idempotency_key,
        )
        if earlier is None or earlier["request_hash"] != request_hash:
            raise idempotency_key_reused(idempotency_key)
        if earlier["room_id"] is None:
            raise room_not_found(room_id)
        return room_of(earlier)

    async def get_room(self, *, tenant: str, room_id: str) -> Room | None:
        """Coalesced with the other primary-key reads of this event-loop turn
        (service/storage/reads.py); read-your-writes holds."""
        row = await self._reads.room(tenant, room_id)
        return room_of(row) if row is not None else None

    @translate_errors
    async def list_rooms(
        self,
        *,
        tenant: str,
        state: RoomState | None,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Room]:
        """Rooms newest first (create_time, then room_id, descending)."""
        args = [tenant, *_in_state(state, now), limit]
        rows = await self._page(QUERIES["list_rooms"], QUERIES["list_rooms_after"], args, after)
        return [room_of(row) for row in rows]

    @translate_errors
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
        """Apply `changes` (column -> value) if the room is still at `expected_version`;
        None if it is not (or is gone); ValueError (`check_changes`) if a column is not
        a setting. `state` is the room's state at `now` once changed: a transition
        announced beyond it (a window moved later) is forgotten, to be announced anew."""
        check_changes(changes)
        values = [
            rows.column_value(column, changes[column]) if column in changes else None
            for column in _SETTING_COLUMNS
        ]
        # When the last occurrence ends, from the settings the update leaves (`previous`
        # is the room as read, at `expected_version`; without it the window's end).
        after = replace(previous, **changes) if previous is not None else None
        series_until = after.occurrences()[-1].end if after else changes.get("valid_until")
        # The occurrence a recurring room's announced state is about (NULL: the window).
        tracked = after.window(now) if after and after.series else (None, None)
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                QUERIES["update_room"],
                tenant,
                room_id,
                expected_version,
                now,
                list(changes),
                *values,
                series_until,
                history_sql.announced_code(state),
                *tracked,
            )
            if row is None:
                return None
            updated = room_of(row)
            seq = await append_events(
                tx, room_id, [events.settings_changed(updated, changes, previous)], actor, now
            )
        return replace(updated, last_event_revision=seq)

    @translate_errors
    async def delete_room(
        self,
        *,
        tenant: str,
        room_id: str,
        expected_version: int | None,
        now: datetime,
        actor: str,
    ) -> None:
        """Tombstone a room. Already deleted: success. Never existed: ROOM_NOT_FOUND.
        A version that does not match: ETAG_MISMATCH."""
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                QUERIES["delete_room"],
                tenant,
                room_id,
            )
            if row is None:
                raise room_not_found(room_id)
            if row["delete_time"] is not None:
                return
            check_version(expected_version, row["version"], partial(etag_mismatch, room_id))
            await conn.execute(
                QUERIES["mark_room_deleted"],
                tenant,
                room_id,
                now,
            )
            # Nobody is in a deleted room: its seats go with it (DELETED is the last event).
            await seats_sql.free_all(conn, tenant, room_id)
            await append_events(tx, room_id, [events.deleted()], actor, now)

    @translate_errors
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
        """Rooms whose roster holds `user_id`, by valid_from then room_id, ascending."""
        args = [tenant, *_in_state(state, now), user_id, limit]
        rows = await self._page(
            QUERIES["list_memberships"], QUERIES["list_memberships_after"], args, after
        )
        return [
            Membership(
                room=room_of(row),
                role=ROLE_BY_VALUE[row["p_role"]],
                create_time=readable_instant(row["p_create_time"]),
            )
            for row in rows
        ]

    async def _page(
        self, first: str, following: str, args: Sequence[Any], after: Position | None
    ) -> list[asyncpg.Record]:
        """A keyset page: the statement `first` from the start, or `following` (taking
        the position's two values after `args`) after `after`."""
        if after is None:
            return await self._pool.fetch(first, *args)
        return await self._pool.fetch(following, *args, *after)

    # ---- history --------------------------------------------------------

    @translate_errors
    async def history(self, *, tenant: str, room_id: str) -> History | None:
        """The span of a room's retained history (deleted rooms too); None if unknown."""
        return await history_sql.history(self._pool, tenant, room_id)

    @translate_errors
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
        """Events after revision `after` (before it when newest first), at most `limit`."""
        rows = await self._pool.fetch(
            QUERIES["room_events_newest_first"] if newest_first else QUERIES["room_events"],
            tenant,
            room_id,
            after,
            limit,
            [t.value for t in types],
        )
        return [history_sql.event_of(row) for row in rows]
