"""Rosters in memory: participants added, updated, removed (and banned) and listed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from service.domain import events
from service.domain.credentials import Removal
from service.domain.events import Moderation
from service.domain.models import Participant, Role, Room, RosterEntry
from service.domain.roster import plan_removal, plan_upsert
from service.storage.memory.tables import MemoryTables, RoomRows


class MemoryRoster(MemoryTables):
    """Rosters: participants added, updated, removed (and banned) and listed."""

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
        rows = self._locked(tenant, room_id, expected_version)
        wanted = {entry.user_id for entry in roster}
        plan = plan_upsert(
            room_id,
            roster,
            {u: p for u, p in rows.participants.items() if u in wanted},
            {u for u, removal in rows.removals.items() if u in wanted and removal.banned},
            rows.room.participant_count,
            max_roster_size,
            now,
        )
        if not plan.changed:
            return plan.result, rows.room.version
        for user_id in plan.lifted:
            rows.removals[user_id] = replace(rows.removals[user_id], banned=False)
        for participant in plan.changed:
            rows.participants[participant.user_id] = participant
        version = self._bump(rows, now, plan.count)
        self._append(tenant, rows, plan.history, actor, now)
        self._bump_epochs(rows, plan.silenced)
        return plan.result, version

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
        rows = self._locked(tenant, room_id, expected_version)
        new = [events.participant_moderated(user_id, moderation)]
        return self._append(tenant, rows, new, actor, now)

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
        rows = self._locked(tenant, room_id, expected_version)
        plan = plan_removal(
            user_ids,
            {u: rows.participants[u].role for u in user_ids if u in rows.participants},
            {u for u in user_ids if _banned(rows, u)},
            {u: rows.knocks[u].state for u in user_ids if u in rows.knocks},
            [rows.seats[u] for u in user_ids if u in rows.seats],
            rows.room.participant_count,
            ban,
        )
        if not plan.writes:
            return 0, rows.room.version
        for user_id in plan.removed:
            del rows.participants[user_id]
        for user_id in plan.knocks:
            del rows.knocks[user_id]
        for seat in plan.seats:
            self._free_seat(tenant, rows, seat)
        if plan.changes_version:
            self._bump(rows, now, plan.count)
        version = rows.room.version
        # Remember the removal (and the ban): a credential issued at an earlier version
        # of the room no longer holds.
        for user_id in plan.recorded:
            rows.removals[user_id] = Removal(version, ban or _banned(rows, user_id))
        self._bump_epochs(rows, plan.new_epochs)
        if plan.history:
            self._append(tenant, rows, plan.history, actor, now)
        return len(plan.removed), version

    async def list_participants(
        self,
        *,
        tenant: str,
        room_id: str,
        role: Role | None,
        after_user_id: str | None,
        limit: int,
    ) -> list[Participant] | None:
        rows = self._live(tenant, room_id)
        if rows is None:
            return None
        after = after_user_id or ""
        found = sorted(
            (
                p
                for user_id, p in rows.participants.items()
                if user_id > after and (role is None or p.role is role)
            ),
            key=lambda p: p.user_id,
        )
        return found[:limit]

    async def get_participant(
        self, *, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None]:
        rows = self._live(tenant, room_id)
        if rows is None:
            return None, None
        return rows.room, rows.participants.get(user_id)


def _banned(rows: RoomRows, user_id: str) -> bool:
    removal = rows.removals.get(user_id)
    return removal is not None and removal.banned
