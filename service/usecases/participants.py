"""A room's roster, and an identity's rooms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.domain import rules
from service.domain.errors import Violations, participant_not_found, room_not_found
from service.domain.limits import Limits
from service.domain.models import (
    Caller,
    Membership,
    Page,
    Participant,
    Role,
    RoomState,
    RosterEntry,
    etag_of,
    expected_version,
)
from service.domain.paging import by_key, by_time_and_key
from service.usecases.deps import Deps


@dataclass(frozen=True, slots=True)
class ParticipantUseCases:
    """AddOrUpdateParticipants, RemoveParticipants, ListParticipants, GetParticipant and
    ListRoomsForParticipant."""

    deps: Deps

    @property
    def limits(self) -> Limits:
        """The limits the rules apply (the edge checks a batch's size before converting it)."""
        return self.deps.limits

    async def add_or_update_participants(
        self, caller: Caller, room_id: str, roster: Sequence[RosterEntry], etag: str
    ) -> tuple[list[Participant], str]:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        rules.check_roster(violations, "participants", roster, self.deps.limits)
        violations.raise_if_any()
        participants, version = await self.deps.store.upsert_participants(
            tenant=caller.tenant,
            room_id=room_id,
            roster=roster,
            expected_version=expected_version(etag),
            max_roster_size=self.deps.limits.max_roster_size,
            now=self.deps.clock.now(),
            actor=caller.key_name,
        )
        return participants, etag_of(version)

    async def remove_participants(
        self, caller: Caller, room_id: str, user_ids: Sequence[str], etag: str, ban: bool = False
    ) -> tuple[int, str]:
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_etag(violations, "etag", etag)
        rules.check_roster_batch(violations, "user_ids", user_ids, self.deps.limits)
        violations.raise_if_any()
        removed, version = await self.deps.store.remove_participants(
            tenant=caller.tenant,
            room_id=room_id,
            user_ids=user_ids,
            expected_version=expected_version(etag),
            now=self.deps.clock.now(),
            actor=caller.key_name,
            ban=ban,
        )
        return removed, etag_of(version)

    async def list_participants(
        self, caller: Caller, room_id: str, page_size: int, page_token: str, role: Role | None
    ) -> Page[Participant]:
        rules.require_room_id(room_id)
        page = await self.deps.pages.page(
            ["participants", caller.tenant, room_id, role or ""],
            page_size,
            page_token,
            by_key(lambda participant: participant.user_id),
            lambda after, n: self.deps.store.list_participants(
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
        room, participant = await self.deps.store.get_participant(
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
        now = self.deps.clock.now()
        page = await self.deps.pages.page(
            ["memberships", caller.tenant, user_id, state or ""],
            page_size,
            page_token,
            by_time_and_key(lambda m: (m.room.valid_from, m.room.room_id)),
            lambda after, n: self.deps.store.list_memberships(
                tenant=caller.tenant, user_id=user_id, state=state, now=now, after=after, limit=n
            ),
        )
        assert page is not None  # an identity's list of rooms always exists
        return page
