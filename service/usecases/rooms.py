"""Rooms: create, read, list, update and delete a room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from service.domain import rules
from service.domain.errors import (
    Violations,
    changing_too_often,
    etag_mismatch,
    room_not_found,
    roster_full,
)
from service.domain.limits import Limits
from service.domain.models import (
    Caller,
    Page,
    Room,
    RoomSettings,
    RoomState,
    RosterEntry,
    expected_version,
)
from service.domain.paging import by_time_and_key
from service.domain.updates import resolve_mask, resolve_update
from service.usecases.deps import UPDATE_ATTEMPTS, Deps


@dataclass(frozen=True, slots=True)
class RoomUseCases:
    """CreateRoom, GetRoom, ListRooms, UpdateRoom and DeleteRoom."""

    deps: Deps

    @property
    def limits(self) -> Limits:
        """The limits the rules apply (the edge checks a batch's size before converting it)."""
        return self.deps.limits

    async def create_room(
        self,
        caller: Caller,
        idempotency_key: str,
        room_id: str,
        settings: RoomSettings,
        roster: Sequence[RosterEntry],
    ) -> Room:
        """Create a room; `idempotency_key` (the API's `request_id`) makes a retry
        return the room the first call created."""
        violations = Violations()
        rules.check_idempotency_key(violations, "request_id", idempotency_key)
        rules.check_roster(violations, "participants", roster, self.deps.limits)
        now = self.deps.clock.now()
        new_room = rules.resolve_new_room(room_id, settings, now, self.deps.limits, violations)
        if len(roster) > self.deps.limits.max_roster_size:
            raise roster_full(new_room.room_id, self.deps.limits.max_roster_size, len(roster))
        # The fingerprint covers the request as sent, before defaults depend on "now".
        request_hash = rules.fingerprint(
            {
                "room_id": room_id,
                "settings": asdict(settings),
                "roster": [asdict(entry) for entry in roster],
            }
        )
        return await self.deps.store.create_room(
            tenant=caller.tenant,
            room=new_room,
            roster=roster,
            now=now,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            actor=caller.key_name,
        )

    async def get_room(self, caller: Caller, room_id: str) -> Room:
        rules.require_room_id(room_id)
        room = await self.deps.store.get_room(tenant=caller.tenant, room_id=room_id)
        if room is None:
            raise room_not_found(room_id)
        return room

    async def list_rooms(
        self, caller: Caller, page_size: int, page_token: str, state: RoomState | None
    ) -> Page[Room]:
        now = self.deps.clock.now()
        page = await self.deps.pages.page(
            ["rooms", caller.tenant, state or ""],
            page_size,
            page_token,
            by_time_and_key(lambda room: (room.create_time, room.room_id)),
            lambda after, n: self.deps.store.list_rooms(
                tenant=caller.tenant, state=state, now=now, after=after, limit=n
            ),
        )
        assert page is not None  # the list of rooms always exists
        return page

    async def update_room(
        self,
        caller: Caller,
        room_id: str,
        etag: str,
        settings: RoomSettings,
        paths: Sequence[str],
        populated: Sequence[str],
    ) -> Room:
        violations = Violations()
        rules.check_room_id(violations, "room.room_id", room_id)
        rules.check_etag(violations, "room.etag", etag)
        violations.raise_if_any()
        fields = resolve_mask(paths, populated)
        for _ in range(UPDATE_ATTEMPTS):
            room = await self.get_room(caller, room_id)
            if etag and etag != room.etag:
                raise etag_mismatch(room_id, room.etag)
            if not fields:
                return room
            now = self.deps.clock.now()
            changes = resolve_update(room, settings, fields, now, self.deps.limits)
            updated = await self.deps.store.update_room(
                tenant=caller.tenant,
                room_id=room_id,
                expected_version=room.version,
                changes=changes,
                state=replace(room, **changes).state(now),
                now=now,
                actor=caller.key_name,
                previous=room,
            )
            if updated is not None:
                return updated
            # The room changed between our read and our write: with an etag the
            # caller asked for exactly that version; without one, apply again.
            if etag:
                current = await self.get_room(caller, room_id)
                raise etag_mismatch(room_id, current.etag)
        raise changing_too_often(room_id, "update")

    async def delete_room(self, caller: Caller, room_id: str, etag: str) -> None:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        violations.raise_if_any()
        await self.deps.store.delete_room(
            tenant=caller.tenant,
            room_id=room_id,
            expected_version=expected_version(etag),
            now=self.deps.clock.now(),
            actor=caller.key_name,
        )
