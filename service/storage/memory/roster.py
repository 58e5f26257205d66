"""Rosters in memory: participants added, updated, removed (and banned) and listed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from service.domain import events
from service.domain.credentials import Removal
from service.domain.events import NewEvent
from service.domain.models import Participant, Role, Room, RosterEntry
from service.domain.roster import plan_upsert
from service.domain.waiting_room import KnockState
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
        version = rows.room.version
        removed = {u: rows.participants.pop(u).role for u in user_ids if u in rows.participants}
        banned: set[str] = set()
        if ban:
            banned = {u for u in user_ids if not _banned(rows, u)}
        if removed or banned:
            version = self._bump(rows, now, rows.room.participant_count - len(removed))
            history: list[NewEvent] = []
            touched: list[str] = []
            for user_id in user_ids:
                if user_id in removed:
                    history.append(events.participant_removed(user_id, removed[user_id]))
                if user_id in banned:
                    history.append(events.participant_banned(user_id))
                if user_id in removed or user_id in banned:
                    touched.append(user_id)
            # Remember the removal (and the ban): a credential issued before this
            # version no longer holds.
            for user_id in touched:
                rows.removals[user_id] = Removal(version, ban or _banned(rows, user_id))
            self._bump_epochs(rows, touched)
            self._append(tenant, rows, history, actor, now)
        presence, decided = self._revoke_presence(tenant, rows, user_ids)
        if presence:
            if decided and not removed:
                version = self._bump(rows, now)
            # A withdrawn admission ends that membership too (unless the removal above
            # already started a new one).
            self._bump_epochs(
                rows,
                [
                    e.data["user_id"]
                    for e in presence
                    if e.type is events.EventType.ADMISSION_REVOKED
                    and e.data["user_id"] not in removed
                    and e.data["user_id"] not in banned
                ],
            )
            self._append(tenant, rows, presence, actor, now)
        return len(removed), version

    def _revoke_presence(
        self, tenant: str, rows: RoomRows, user_ids: Sequence[str]
    ) -> tuple[list[NewEvent], bool]:
        """Withdraw the admissions (or denials) and free the seats of removed
        identities: the events, and whether a host's decision was withdrawn."""
        knocks = [rows.knocks.pop(u) for u in dict.fromkeys(user_ids) if u in rows.knocks]
        seats = [rows.seats[u] for u in dict.fromkeys(user_ids) if u in rows.seats]
        for seat in seats:
            self._free_seat(tenant, rows, seat)
        revoked = [k.user_id for k in knocks if k.state is not KnockState.WAITING]
        history = [events.admission_revoked(user_id) for user_id in revoked]
        history += [events.seat_released(seat) for seat in seats]
        return history, bool(revoked)

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
