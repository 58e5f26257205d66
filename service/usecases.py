"""The use cases: one method per API operation, joining the domain rules to storage.

No grpc and no asyncpg here: the transport converts messages to the domain's
values and calls these; the store is any `RoomStore`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, replace
from datetime import datetime

from service.domain import rules
from service.domain.admission import JoinDecision, JoinReason
from service.domain.clock import Clock
from service.domain.credentials import (
    CredentialFormat,
    CredentialGrant,
    CredentialStatus,
    IssuedCredential,
    UnreadableClaims,
    Verdict,
    judge,
    lifetime,
)
from service.domain.errors import (
    DomainError,
    ErrorReason,
    Violations,
    etag_mismatch,
    invalid,
    participant_not_found,
    room_not_found,
    roster_full,
    seat_not_found,
)
from service.domain.events import EventType, RoomEvent
from service.domain.limits import Limits
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
    expected_revision,
)
from service.domain.paging import Pager, PageTokens, by_key, by_number, by_time_and_key
from service.domain.ports import (
    CredentialSigner,
    MediaControl,
    Notifier,
    Position,
    RoomStore,
)
from service.domain.seats import Seat, check_seat_id
from service.domain.updates import resolve_mask, resolve_update
from service.domain.waiting_room import (
    Knock,
    KnockState,
    check_display_name,
    decide_with_waiting_room,
)

_UPDATE_ATTEMPTS = 5


class RoomsUseCases:
    """Every operation of the rooms and participants services."""

    def __init__(
        self,
        store: RoomStore,
        clock: Clock,
        limits: Limits,
        page_tokens: PageTokens,
        notifier: Notifier | None = None,
        credentials: CredentialSigner | None = None,
        media: MediaControl | None = None,
    ) -> None:
        self._credentials = credentials
        self._media = media
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._limits = limits
        self._pages = Pager(page_tokens, limits)

    # ---- rooms ----------------------------------------------------------

    async def create_room(
        self,
        caller: Caller,
        request_id: str,
        room_id: str,
        settings: RoomSettings,
        roster: Sequence[RosterEntry],
    ) -> Room:
        violations = Violations()
        rules.check_request_id(violations, "request_id", request_id)
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
            caller.tenant, new_room, roster, now, request_id, request_hash, caller.key_name
        )

    async def get_room(self, caller: Caller, room_id: str) -> Room:
        rules.require_room_id(room_id)
        room = await self._store.get_room(caller.tenant, room_id)
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
            lambda after, n: self._store.list_rooms(caller.tenant, state, now, after, n),
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
        for _ in range(_UPDATE_ATTEMPTS):
            room = await self.get_room(caller, room_id)
            if etag and etag != room.etag:
                raise etag_mismatch(room_id, room.etag)
            if not fields:
                return room
            now = self._clock.now()
            changes = resolve_update(room, settings, fields, now, self._limits)
            updated = await self._store.update_room(
                caller.tenant, room_id, room.revision, changes, now, caller.key_name
            )
            if updated is not None:
                return updated
            # The room changed between our read and our write: with an etag the
            # caller asked for exactly that version; without one, apply again.
            if etag:
                current = await self.get_room(caller, room_id)
                raise etag_mismatch(room_id, current.etag)
        raise DomainError(
            ErrorReason.ETAG_MISMATCH,
            f"room {room_id!r} is changing too often to update; retry",
            metadata={"room_id": room_id},
        )

    async def delete_room(self, caller: Caller, room_id: str, etag: str) -> None:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        violations.raise_if_any()
        expected = expected_revision(etag)
        await self._store.delete_room(
            caller.tenant, room_id, expected, self._clock.now(), caller.key_name
        )

    # ---- admission ------------------------------------------------------

    async def authorize_join(
        self,
        caller: Caller,
        room_id: str,
        user_id: str,
        credential_format: CredentialFormat | None = None,
        display_name: str | None = None,
        claim_seat: bool = False,
    ) -> tuple[JoinDecision, IssuedCredential | None]:
        """The decision; with `claim_seat`, a seat; and when it allows and a format was
        asked for, a credential signed for it. Without `claim_seat`: one database round
        trip (with the ban and waiting-room reads), one signature. A Janus credential
        also puts the join token in the VideoRoom's allowed list first, then records the
        admission (a second round trip), see `_admit_to_janus`."""
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "user_id", user_id)
        check_display_name(violations, "display_name", display_name)
        violations.raise_if_any()
        signer = self._credentials
        if credential_format is not None and (
            signer is None or not signer.configured(caller.tenant, credential_format)
        ):
            raise _not_configured(credential_format)
        if credential_format is CredentialFormat.JANUS and self._media is None:
            raise _not_configured(credential_format)
        for _ in range(_UPDATE_ATTEMPTS):
            room, participant, knock, removal, epoch = await self._store.get_join_facts(
                caller.tenant, room_id, user_id
            )
            now = self._clock.now()
            decision = decide_with_waiting_room(
                room,
                participant.role if participant else None,
                knock,
                now,
                banned=removal is not None and removal.banned,
            )
            if decision.reason is JoinReason.WAITING_FOR_ADMISSION and decision.role is not None:
                await self._store.record_knock(
                    caller.tenant,
                    room_id,
                    user_id,
                    decision.role,
                    display_name,
                    now,
                    caller.key_name,
                )
            if claim_seat and decision.allowed and room is not None:
                claimed = await self._claim_seat(caller, room, user_id, decision, now)
                if claimed is None:
                    continue  # the room changed between the decision and the claim
                decision = claimed
            if not decision.allowed or credential_format is None or room is None:
                return decision, None
            issued = self._issue(
                caller, room, user_id, decision, credential_format, display_name, now, epoch
            )
            if credential_format is CredentialFormat.JANUS and not await self._admit_to_janus(
                caller, room, user_id, decision, epoch, now
            ):
                continue  # the room changed meanwhile: decide again
            return decision, issued
        raise DomainError(
            ErrorReason.ETAG_MISMATCH,
            f"room {room_id!r} is changing too often to claim a seat; retry",
            metadata={"room_id": room_id},
        )

    def _issue(
        self,
        caller: Caller,
        room: Room,
        user_id: str,
        decision: JoinDecision,
        credential_format: CredentialFormat,
        display_name: str | None,
        now: datetime,
        epoch: int = 0,
    ) -> IssuedCredential:
        """Sign a credential for an allowed decision. With a seat, the credential never
        outlives the seat by more than one renewal."""
        signer = self._credentials
        assert signer is not None and decision.role is not None
        until = room.valid_until
        if decision.seat is not None:
            until = min(until, decision.seat.expire_time + self._limits.seat_ttl)
        issue_time, expire_time = lifetime(now, until, self._limits.credential_ttl)
        grant = CredentialGrant(
            tenant=caller.tenant,
            room_id=room.room_id,
            user_id=user_id,
            role=decision.role,
            capabilities=decision.capabilities,
            issue_time=issue_time,
            expire_time=expire_time,
            revision=room.revision,
            display_name=display_name or "",
            credential_id=uuid.uuid4().hex,
        )
        janus = (
            signer.janus_join(caller.tenant, room.room_id, user_id, decision.role, epoch)
            if credential_format is CredentialFormat.JANUS
            else None
        )
        return IssuedCredential(
            format=credential_format,
            token=signer.sign(credential_format, grant),
            expire_time=expire_time,
            server_url=signer.server_url(caller.tenant, credential_format),
            janus=janus,
        )

    async def _admit_to_janus(
        self,
        caller: Caller,
        room: Room,
        user_id: str,
        decision: JoinDecision,
        epoch: int,
        now: datetime,
    ) -> bool:
        """Put the identity's join token (of `epoch`) in the VideoRoom's allowed list,
        then record the admission if the room is still as the decision saw it. False
        (the token taken out again) when it changed: a removal, ban, role change or end
        committed meanwhile, whose delivery might otherwise run before the token was
        added and leave it there."""
        media = self._media
        assert media is not None and decision.role is not None
        await media.admit(caller.tenant, room.room_id, user_id, decision.role, epoch)
        if await self._store.record_janus_admission(
            caller.tenant, room.room_id, user_id, room.revision, now
        ):
            return True
        await media.retract(caller.tenant, room.room_id, user_id, epoch)
        return False

    async def _claim_seat(
        self, caller: Caller, room: Room, user_id: str, decision: JoinDecision, now: datetime
    ) -> JoinDecision | None:
        """Take a seat for an allowed decision: the decision with its seat, ROOM_FULL
        naming the limit reached, or None if the room changed since it was read."""
        assert decision.role is not None
        taken = await self._store.claim_seat(
            caller.tenant,
            room.room_id,
            user_id,
            decision.role,
            room.revision,
            now,
            self._limits,
            caller.key_name,
        )
        if taken is None:
            return None
        if isinstance(taken, Seat):
            return replace(decision, seat=taken)
        return JoinDecision(
            False,
            JoinReason.ROOM_FULL,
            taken.message,
            role=decision.role,
            valid_from=decision.valid_from,
            valid_until=decision.valid_until,
            full=taken,
        )

    # ---- waiting room and seats -------------------------------------------

    async def list_knocks(
        self,
        caller: Caller,
        room_id: str,
        page_size: int,
        page_token: str,
        state: KnockState | None,
    ) -> tuple[Page[Knock], str]:
        rules.require_room_id(room_id)
        revision = 0

        async def fetch(after: Position | None, n: int) -> list[Knock] | None:
            nonlocal revision
            found = await self._store.list_knocks(caller.tenant, room_id, state, after, n)
            if found is None:
                return None
            rows, revision = found
            return rows

        page = await self._pages.page(
            ["knocks", caller.tenant, room_id, state or ""],
            page_size,
            page_token,
            by_time_and_key(lambda knock: (knock.sort_time, knock.user_id)),
            fetch,
        )
        if page is None:
            raise room_not_found(room_id)
        return page, etag_of(revision)

    async def decide_knock(
        self,
        caller: Caller,
        room_id: str,
        user_id: str,
        state: KnockState,
        role: Role | None,
        etag: str,
    ) -> tuple[Knock, str]:
        """Admit (`state` ADMITTED, with a chosen role or None) or deny an identity."""
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "user_id", user_id)
        rules.check_etag(violations, "etag", etag)
        violations.raise_if_any()
        knock, revision = await self._store.decide_knock(
            caller.tenant,
            room_id,
            user_id,
            state,
            role,
            expected_revision(etag),
            self._clock.now(),
            caller.key_name,
        )
        return knock, etag_of(revision)

    async def renew_seat(self, caller: Caller, seat_id: str) -> Seat:
        violations = Violations()
        check_seat_id(violations, "seat_id", seat_id)
        violations.raise_if_any()
        now = self._clock.now()
        seat = await self._store.renew_seat(
            caller.tenant, seat_id, now, now + self._limits.seat_ttl
        )
        if seat is None:
            raise seat_not_found(seat_id)
        return seat

    async def release_seat(self, caller: Caller, seat_id: str) -> None:
        violations = Violations()
        check_seat_id(violations, "seat_id", seat_id)
        violations.raise_if_any()
        await self._store.release_seat(caller.tenant, seat_id, self._clock.now(), caller.key_name)

    async def list_seats(
        self, caller: Caller, room_id: str, page_size: int, page_token: str
    ) -> Page[Seat]:
        rules.require_room_id(room_id)
        now = self._clock.now()
        page = await self._pages.page(
            ["seats", caller.tenant, room_id],
            page_size,
            page_token,
            by_time_and_key(lambda seat: (seat.create_time, seat.seat_id)),
            lambda after, n: self._store.list_seats(caller.tenant, room_id, now, after, n),
        )
        if page is None:
            raise room_not_found(room_id)
        return page

    # ---- credentials ----------------------------------------------------

    async def introspect_credential(
        self, caller: Caller, token: str, credential_format: CredentialFormat | None
    ) -> tuple[Verdict, CredentialFormat | None, CredentialGrant | None]:
        """Whether a credential issued to the caller's tenant holds now. One round trip."""
        if not token:
            raise invalid("token", "must not be empty")
        if self._credentials is None:
            raise RuntimeError("introspection needs a credential signer")
        try:
            found, grant = self._credentials.read(caller.tenant, token, credential_format)
        except UnreadableClaims:
            invalid_token = Verdict(
                CredentialStatus.INVALID, "Not a credential issued to this tenant."
            )
            return invalid_token, None, None
        room, participant, _, removal, _ = await self._store.get_join_facts(
            caller.tenant, grant.room_id, grant.user_id
        )
        rostered = participant.role if participant else None
        return judge(grant, self._clock.now(), room, rostered, removal), found, grant

    # ---- participants ---------------------------------------------------

    async def add_or_update_participants(
        self, caller: Caller, room_id: str, roster: Sequence[RosterEntry], etag: str
    ) -> tuple[list[Participant], str]:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        rules.check_roster(violations, "participants", roster, self._limits)
        violations.raise_if_any()
        participants, revision = await self._store.upsert_participants(
            caller.tenant,
            room_id,
            roster,
            expected_revision(etag),
            self._limits.max_roster_size,
            self._clock.now(),
            caller.key_name,
        )
        return participants, etag_of(revision)

    async def remove_participants(
        self, caller: Caller, room_id: str, user_ids: Sequence[str], etag: str, ban: bool = False
    ) -> tuple[int, str]:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        rules.check_roster_batch(violations, "user_ids", user_ids, self._limits)
        violations.raise_if_any()
        removed, revision = await self._store.remove_participants(
            caller.tenant,
            room_id,
            user_ids,
            expected_revision(etag),
            self._clock.now(),
            caller.key_name,
            ban=ban,
        )
        return removed, etag_of(revision)

    async def list_participants(
        self, caller: Caller, room_id: str, page_size: int, page_token: str, role: Role | None
    ) -> Page[Participant]:
        rules.require_room_id(room_id)
        page = await self._pages.page(
            ["participants", caller.tenant, room_id, role or ""],
            page_size,
            page_token,
            by_key(lambda participant: participant.user_id),
            lambda after, n: self._store.list_participants(caller.tenant, room_id, role, after, n),
        )
        if page is None:
            raise room_not_found(room_id)
        return page

    async def get_participant(self, caller: Caller, room_id: str, user_id: str) -> Participant:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "user_id", user_id)
        violations.raise_if_any()
        room, participant = await self._store.get_participant(caller.tenant, room_id, user_id)
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
                caller.tenant, user_id, state, now, after, n
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
        history = await self._store.history(caller.tenant, room_id)
        if history is None:
            raise room_not_found(room_id)
        page = await self._pages.page(
            ["events", caller.tenant, room_id, str(newest_first), *sorted(types)],
            page_size,
            page_token,
            by_number(lambda event: event.revision),
            lambda after, n: self._store.read_events(
                caller.tenant, room_id, after or 0, n, newest_first=newest_first, types=types
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
            history = await self._store.history(caller.tenant, room_id)
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
                found = await self._store.read_events(caller.tenant, room_id, last, batch)
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
                history = await self._store.history(caller.tenant, room_id)
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


def _not_configured(format: CredentialFormat) -> DomainError:
    name = f"CREDENTIAL_FORMAT_{format.name}"
    return DomainError(
        ErrorReason.CREDENTIALS_NOT_CONFIGURED,
        f"credential_format: {name} is not configured for this tenant",
        metadata={"format": name, "field": "credential_format"},
    )


def _revision_expired(room_id: str, oldest: int) -> DomainError:
    return DomainError(
        ErrorReason.REVISION_EXPIRED,
        f"the history of room {room_id!r} before revision {oldest} is no longer kept; "
        "re-read the room and watch from its last_event_revision",
        metadata={"room_id": room_id, "oldest_revision": str(oldest)},
    )
