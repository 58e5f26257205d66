"""The use cases: one method per API operation, joining the domain rules to storage.

No grpc and no asyncpg here: the transport converts messages to the domain's
values and calls these; the store is `PgRoomStore`. `RoomsUseCases` composes the
groups: rooms, participants and history here, admission in usecases_admission.py,
the waiting room and seats in usecases_waiting_room.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, replace

from service.domain import rules
from service.domain.errors import (
    DomainError,
    ErrorReason,
    Violations,
    changing_too_often,
    etag_mismatch,
    invalid,
    participant_not_found,
    room_not_found,
    roster_full,
)
from service.domain.events import EventType, RoomEvent
from service.domain.models import (
    Caller,
    Membership,
    Page,
    Participant,
    Role,
    Room,
    RoomSettings,
    RoomState,
    RosterEntry,
    etag_of,
    expected_version,
)
from service.domain.paging import by_key, by_number, by_time_and_key
from service.domain.updates import resolve_mask, resolve_update
from service.usecases_admission import AdmissionUseCases
from service.usecases_base import UPDATE_ATTEMPTS
from service.usecases_moderation import ModerationUseCases
from service.usecases_waiting_room import WaitingRoomUseCases


class RoomsUseCases(AdmissionUseCases, WaitingRoomUseCases, ModerationUseCases):
    """Every operation of the rooms and participants services."""

    # ---- rooms ----------------------------------------------------------

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
        rules.check_roster(violations, "participants", roster, self._limits)
        now = self._clock.now()
        new_room = rules.resolve_new_room(room_id, settings, now, self._limits, violations)
        if len(roster) > self._limits.max_roster_size:
            raise roster_full(new_room.room_id, self._limits.max_roster_size, len(roster))
        # The fingerprint covers the request as sent, before defaults depend on "now".
        request_hash = rules.fingerprint(
            {
                "room_id": room_id,
                "settings": asdict(settings),
                "roster": [asdict(entry) for entry in roster],
            }
        )
        return await self._store.create_room(
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
        room = await self._store.get_room(tenant=caller.tenant, room_id=room_id)
        if room is None:
            raise room_not_found(room_id)
        return room

    async def list_rooms(
        self, caller: Caller, page_size: int, page_token: str, state: RoomState | None
    ) -> Page[Room]:
        now = self._clock.now()
        page = await self._pages.page(
            ["rooms", caller.tenant, state or ""],
            page_size,
            page_token,
            by_time_and_key(lambda room: (room.create_time, room.room_id)),
            lambda after, n: self._store.list_rooms(
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
            now = self._clock.now()
            changes = resolve_update(room, settings, fields, now, self._limits)
            updated = await self._store.update_room(
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
        await self._store.delete_room(
            tenant=caller.tenant,
            room_id=room_id,
            expected_version=expected_version(etag),
            now=self._clock.now(),
            actor=caller.key_name,
        )

    # ---- participants ---------------------------------------------------

    async def add_or_update_participants(
        self, caller: Caller, room_id: str, roster: Sequence[RosterEntry], etag: str
    ) -> tuple[list[Participant], str]:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        rules.check_roster(violations, "participants", roster, self._limits)
        violations.raise_if_any()
        participants, version = await self._store.upsert_participants(
            tenant=caller.tenant,
            room_id=room_id,
            roster=roster,
            expected_version=expected_version(etag),
            max_roster_size=self._limits.max_roster_size,
            now=self._clock.now(),
            actor=caller.key_name,
        )
        return participants, etag_of(version)

    async def remove_participants(
        self, caller: Caller, room_id: str, user_ids: Sequence[str], etag: str, ban: bool = False
    ) -> tuple[int, str]:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        rules.check_roster_batch(violations, "user_ids", user_ids, self._limits)
        violations.raise_if_any()
        removed, version = await self._store.remove_participants(
            tenant=caller.tenant,
            room_id=room_id,
            user_ids=user_ids,
            expected_version=expected_version(etag),
            now=self._clock.now(),
            actor=caller.key_name,
            ban=ban,
        )
        return removed, etag_of(version)

    async def list_participants(
        self, caller: Caller, room_id: str, page_size: int, page_token: str, role: Role | None
    ) -> Page[Participant]:
        rules.require_room_id(room_id)
        page = await self._pages.page(
            ["participants", caller.tenant, room_id, role or ""],
            page_size,
            page_token,
            by_key(lambda participant: participant.user_id),
            lambda after, n: self._store.list_participants(
                tenant=caller.tenant, room_id=room_id, role=role, after_user_id=after, limit=n
            ),
        )
        if page is None:
            raise room_not_found(room_id)
        return page

    async def get_participant(self, caller: Caller, room_id: str, user_id: str) -> Participant:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "user_id", user_id)
        violations.raise_if_any()
        room, participant = await self._store.get_participant(
            tenant=caller.tenant, room_id=room_id, user_id=user_id
        )
        if room is None:
            raise room_not_found(room_id)
        if participant is None:
            raise participant_not_found(room_id, user_id)
        return participant

    async def list_rooms_for_participant(
        self,
        caller: Caller,
        user_id: str,
        page_size: int,
        page_token: str,
        state: RoomState | None,
    ) -> Page[Membership]:
        violations = Violations()
        rules.check_user_id(violations, "user_id", user_id)
        violations.raise_if_any()
        now = self._clock.now()
        page = await self._pages.page(
            ["memberships", caller.tenant, user_id, state or ""],
            page_size,
            page_token,
            by_time_and_key(lambda m: (m.room.valid_from, m.room.room_id)),
            lambda after, n: self._store.list_memberships(
                tenant=caller.tenant, user_id=user_id, state=state, now=now, after=after, limit=n
            ),
        )
        assert page is not None  # an identity's list of rooms always exists
        return page

    # ---- history --------------------------------------------------------

    async def list_room_events(
        self,
        caller: Caller,
        room_id: str,
        page_size: int,
        page_token: str,
        newest_first: bool,
        types: Sequence[EventType],
    ) -> Page[RoomEvent]:
        rules.require_room_id(room_id)
        rules.page_size(page_size, self._limits)  # a bad page size first, as elsewhere
        history = await self._store.history(tenant=caller.tenant, room_id=room_id)
        if history is None:
            raise room_not_found(room_id)
        page = await self._pages.page(
            ["events", caller.tenant, room_id, str(newest_first), *sorted(types)],
            page_size,
            page_token,
            by_number(lambda event: event.revision),
            lambda after, n: self._store.read_events(
                tenant=caller.tenant,
                room_id=room_id,
                after=after or 0,
                limit=n,
                newest_first=newest_first,
                types=types,
            ),
            start=history.latest + 1 if newest_first else 0,
        )
        assert page is not None  # the room's history was found above
        return page

    async def watch_room(
        self, caller: Caller, room_id: str, after_revision: int
    ) -> AsyncIterator[RoomEvent]:
        """Every event after `after_revision`, then live ones, until the room is deleted
        (its DELETED event is the last) or the caller goes away."""
        rules.require_room_id(room_id)
        if after_revision < 0:
            raise invalid("after_revision", "must not be negative")
        if self._notifier is None:
            raise RuntimeError("watching needs a notifier")
        batch = self._limits.watch_batch_size
        poll = self._limits.watch_poll_interval.total_seconds()
        # Subscribe before the first read, so nothing committed after it is missed.
        with self._notifier.subscribe(caller.tenant, room_id) as signal:
            history = await self._store.history(tenant=caller.tenant, room_id=room_id)
            if history is None:
                raise room_not_found(room_id)
            if after_revision > history.latest:
                raise invalid(
                    "after_revision",
                    f"is ahead of the room's history (latest revision {history.latest})",
                )
            # 0 means "all that is retained", even when older events were purged.
            last = after_revision or max(0, history.oldest - 1)
            while True:
                if last + 1 < history.oldest:
                    raise _revision_expired(room_id, history.oldest)
                if history.deleted and last >= history.latest:
                    return
                signal.clear()
                found = await self._store.read_events(
                    tenant=caller.tenant, room_id=room_id, after=last, limit=batch
                )
                if found and found[0].revision != last + 1:
                    raise _revision_expired(room_id, found[0].revision)
                for event in found:
                    yield event
                    last = event.revision
                    if event.type is EventType.DELETED:
                        return
                if len(found) < batch:
                    # Caught up: wait for a notification (or poll, as a safety net).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(poll):
                            await signal.wait()
                history = await self._store.history(tenant=caller.tenant, room_id=room_id)
                if history is None:  # purged while watching
                    return
                if history.latest - last > self._limits.watch_max_lag:
                    raise DomainError(
                        ErrorReason.WATCH_TOO_SLOW,
                        f"the watcher is {history.latest - last} events behind room "
                        f"{room_id!r}; resume from revision {last}",
                        metadata={
                            "room_id": room_id,
                            "last_revision": str(last),
                            "latest_revision": str(history.latest),
                        },
                    )


def _revision_expired(room_id: str, oldest: int) -> DomainError:
    return DomainError(
        ErrorReason.REVISION_EXPIRED,
        f"the history of room {room_id!r} before revision {oldest} is no longer kept; "
        "re-read the room and watch from its last_event_revision",
        metadata={"room_id": room_id, "oldest_revision": str(oldest)},
    )
