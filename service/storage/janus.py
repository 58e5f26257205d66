"""What the Janus control plane reads: a room's desired VideoRoom members, and the rooms
whose VideoRoom should exist now. Reads only, one tenant per statement, no locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.domain.janus import Candidate
from service.domain.models import ParticipantWindow, Room
from service.storage import seats as seats_sql
from service.storage.base import ROLE_BY_VALUE, optional_instant, room_of
from service.storage.queries import QUERIES


@dataclass(frozen=True, slots=True)
class RoomFacts:
    """A live room and every identity that may be in its VideoRoom, read at once."""

    room: Room
    candidates: tuple[Candidate, ...]

    @property
    def version(self) -> tuple[int, tuple[Candidate, ...]]:
        """Changes whenever what a plan is made of changes (for the re-check after a
        reconcile)."""
        return self.room.version, self.candidates


async def room_facts(pool: asyncpg.Pool, tenant: str, room_id: str) -> RoomFacts | None:
    """The live room with its candidates (its roster, and the identities issued a Janus
    credential at their current epoch), each with its epoch, knock and ban; None when
    the room is deleted or gone. One statement."""
    rows = await pool.fetch(
        QUERIES["room_facts"],
        tenant,
        room_id,
    )
    if not rows:
        return None
    candidates = tuple(
        Candidate(
            user_id=row["c_user_id"],
            rostered_role=ROLE_BY_VALUE[row["p_role"]] if row["p_role"] is not None else None,
            epoch=row["m_epoch"],
            knock=seats_sql.knock_of(row, "k_") if row["k_user_id"] is not None else None,
            banned=row["x_banned"],
            window=ParticipantWindow(
                optional_instant(row["p_valid_from"]), optional_instant(row["p_valid_until"])
            ),
        )
        for row in rows
        if row["c_user_id"] is not None
    )
    return RoomFacts(room_of(rows[0]), candidates)


async def joinable_rooms(
    pool: asyncpg.Pool, tenant: str, now: datetime, after: str, limit: int
) -> list[str]:
    """Live rooms of the tenant someone may be in at `now` (early entry included),
    by room id after `after`: the VideoRooms a reconcile makes exist."""
    rows = await pool.fetch(
        QUERIES["joinable_rooms"],
        tenant,
        now,
        after,
        limit,
    )
    return [row["room_id"] for row in rows]
