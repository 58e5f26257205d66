"""What the use cases need from storage. The asyncpg implementation is in service.storage."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from service.domain.credentials import Removal, StoredSigningKey
from service.domain.events import EventType, History, Moderation, RoomEvent
from service.domain.limits import Limits
from service.domain.media_ports import CredentialSigner as CredentialSigner  # re-exported
from service.domain.media_ports import MediaControl as MediaControl  # re-exported
from service.domain.models import (
    SETTING_TYPES,
    Membership,
    NewRoom,
    Participant,
    Role,
    Room,
    RoomState,
    RosterEntry,
)
from service.domain.seats import CapacityRefusal, Seat
from service.domain.waiting_room import Knock, KnockState

# A keyset position: (timestamp, id) of the last item of the previous page.
Position = tuple[datetime, str]


def check_changes(changes: Mapping[str, Any]) -> None:
    """What every `RoomStore.update_room` checks first: `changes` names settings only
    (a room's id, version or times are not for the caller to set)."""
    for column in changes:
        if column not in SETTING_TYPES:
            raise ValueError(f"not an updatable column: {column}")


class RoomStore(Protocol):
    """Rooms and rosters, scoped by tenant. Methods raise DomainError for expected
    failures and take keyword arguments only. `version` is a room's counter behind
    its etag; `revision` only ever an event's number in the room's history."""

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
        ...

    async def get_room(self, *, tenant: str, room_id: str) -> Room | None: ...

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
        ...

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
        ...

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
        ...

    async def upsert_participants(
        self,
        *,
        tenant: str,
        room_id: str,
        roster: Sequence[RosterEntry],
        expected_version: int | None,
        max_roster_size: int,
        now: datetime,
        actor: str,
    ) -> tuple[list[Participant], int]:
        """Upsert roster entries; return them (in request order) and the room's new
        version."""
        ...

    async def remove_participants(
        self,
        *,
        tenant: str,
        room_id: str,
        user_ids: Sequence[str],
        expected_version: int | None,
        now: datetime,
        actor: str,
        ban: bool = False,
    ) -> tuple[int, int]:
        """Remove identities (and ban them, rostered or not, when `ban`); return how
        many were on the roster and the room's version after."""
        ...

    async def list_participants(
        self,
        *,
        tenant: str,
        room_id: str,
        role: Role | None,
        after_user_id: str | None,
        limit: int,
    ) -> list[Participant] | None:
        """A page of the roster ordered by user_id; None if the room does not exist."""
        ...

    async def get_participant(
        self, *, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None]: ...

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
        ...

    async def history(self, *, tenant: str, room_id: str) -> History | None:
        """The span of a room's retained history (deleted rooms too); None if unknown."""
        ...

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
        """Events after revision `after` (before it when newest first)."""
        ...

    # ---- waiting room and seats ----

    async def get_join_facts(
        self, *, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None, Knock | None, Removal | None, int]:
        """In one round trip: the live room, the identity's roster entry, its knock,
        its last removal (with the ban) and its membership epoch (0 if never bumped)."""
        ...

    async def record_moderation(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        moderation: Moderation,
        expected_version: int,
        now: datetime,
        actor: str,
    ) -> int:
        """Append PARTICIPANT_MODERATED if the live room is still at `expected_version`
        (else ETAG_MISMATCH; ROOM_NOT_FOUND when gone); its revision."""
        ...

    async def record_janus_admission(
        self, *, tenant: str, room_id: str, user_id: str, version: int, now: datetime
    ) -> bool:
        """Note that the identity was issued a Janus credential, if the room is still at
        `version` (so its epoch, roster and settings are those the decision saw), live
        and not ended; False (nothing written) otherwise."""
        ...

    async def record_knock(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        role: Role,
        display_name: str | None,
        now: datetime,
        actor: str,
    ) -> None:
        """Record a knock; the first one appends PARTICIPANT_KNOCKED."""
        ...

    async def decide_knock(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        state: KnockState,
        chosen_role: Role | None,
        expected_version: int | None,
        now: datetime,
        actor: str,
    ) -> tuple[Knock, int]:
        """Admit or deny; return the knock and the room's version after."""
        ...

    async def list_knocks(
        self,
        *,
        tenant: str,
        room_id: str,
        state: KnockState | None,
        after: Position | None,
        limit: int,
    ) -> tuple[list[Knock], int] | None:
        """Knocks by (sort_time, user_id) and the room's version; None if no room."""
        ...

    async def claim_seat(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        role: Role,
        decided_at_version: int,
        now: datetime,
        limits: Limits,
        actor: str,
    ) -> Seat | CapacityRefusal | None:
        """Take (or give back) the identity's seat, exactly within the capacity rules;
        None if the room is no longer at `decided_at_version`."""
        ...

    async def renew_seat(
        self, *, tenant: str, seat_id: str, now: datetime, expire_time: datetime
    ) -> Seat | None:
        """Extend a live seat; None if there is none with this id."""
        ...

    async def release_seat(self, *, tenant: str, seat_id: str, now: datetime, actor: str) -> None:
        """Free a seat; already free is a success."""
        ...

    async def list_seats(
        self,
        *,
        tenant: str,
        room_id: str,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Seat] | None:
        """Live seats by (create_time, seat_id); None if the room does not exist."""
        ...


class SigningKeyStore(Protocol):
    """Where the keys signing rooms' own credentials are kept, shared by replicas."""

    async def signing_keys(self) -> list[StoredSigningKey]:
        """Every stored key, newest activation first."""
        ...

    async def add_signing_key(self, key: StoredSigningKey, *, only_if_none: bool) -> bool:
        """Store a key; with `only_if_none`, only when no key exists yet (the first
        start of the first replica). Whether it was stored."""
        ...


class Notifier(Protocol):
    """Tells a watcher that a room may have new events."""

    def subscribe(self, tenant: str, room_id: str) -> AbstractContextManager[asyncio.Event]:
        """An event set whenever the room may have new events; unsubscribes on exit."""
        ...
