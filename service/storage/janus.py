"""What the Janus control plane reads: a room's desired VideoRoom members, and the rooms
whose VideoRoom should exist now. Reads only, one tenant per statement, no locks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.domain.janus import Candidate
from service.domain.models import Role, Room
from service.storage import seats as seats_sql
from service.storage.repository import _R_ROOM_COLUMNS, _room

_KNOCK = ", ".join(f"k.{c.strip()} AS k_{c.strip()}" for c in seats_sql.KNOCK_COLUMNS.split(","))


@dataclass(frozen=True, slots=True)
class RoomFacts:
    """A live room and every identity that may be in its VideoRoom, read at once."""

    room: Room
    candidates: tuple[Candidate, ...]

    @property
    def version(self) -> tuple[int, tuple[Candidate, ...]]:
        """Changes whenever what a plan is made of changes (for the re-check after a
        reconcile)."""
        return self.room.revision, self.candidates


async def room_facts(pool: asyncpg.Pool, tenant: str, room_id: str) -> RoomFacts | None:
    """The live room with its candidates (its roster, and the identities issued a Janus
    credential at their current epoch), each with its epoch, knock and ban; None when
    the room is deleted or gone. One statement."""
    rows = await pool.fetch(
        f"""WITH ids AS (
                SELECT user_id FROM participants WHERE tenant = $1 AND room_id = $2
                UNION
                SELECT user_id FROM membership_epochs
                WHERE tenant = $1 AND room_id = $2 AND admit_time IS NOT NULL)
            SELECT {_R_ROOM_COLUMNS}, ids.user_id AS c_user_id, p.role AS p_role,
                   COALESCE(m.epoch, 0) AS m_epoch, COALESCE(x.banned, false) AS x_banned,
                   {_KNOCK}
            FROM rooms r
            LEFT JOIN ids ON true
            LEFT JOIN participants p
                   ON p.tenant = $1 AND p.room_id = $2 AND p.user_id = ids.user_id
            LEFT JOIN membership_epochs m
                   ON m.tenant = $1 AND m.room_id = $2 AND m.user_id = ids.user_id
            LEFT JOIN participant_removals x
                   ON x.tenant = $1 AND x.room_id = $2 AND x.user_id = ids.user_id
            LEFT JOIN knocks k
                   ON k.tenant = $1 AND k.room_id = $2 AND k.user_id = ids.user_id
            WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
            ORDER BY ids.user_id""",
        tenant,
        room_id,
    )
    if not rows:
        return None
    candidates = tuple(
        Candidate(
            user_id=row["c_user_id"],
            rostered_role=Role(row["p_role"]) if row["p_role"] is not None else None,
            epoch=row["m_epoch"],
            knock=seats_sql.knock_of(row, "k_") if row["k_user_id"] is not None else None,
            banned=row["x_banned"],
        )
        for row in rows
        if row["c_user_id"] is not None
    )
    return RoomFacts(_room(rows[0]), candidates)


async def epoch_of(pool: asyncpg.Pool, tenant: str, room_id: str, user_id: str) -> int:
    """The identity's membership epoch in the room (0 when never bumped)."""
    epoch = await pool.fetchval(
        """SELECT epoch FROM membership_epochs
           WHERE tenant = $1 AND room_id = $2 AND user_id = $3""",
        tenant,
        room_id,
        user_id,
    )
    return int(epoch or 0)


async def joinable_rooms(
    pool: asyncpg.Pool, tenant: str, now: datetime, after: str, limit: int
) -> list[str]:
    """Live rooms of the tenant someone may be in at `now` (early entry included),
    by room id after `after`: the VideoRooms a reconcile makes exist."""
    rows = await pool.fetch(
        """SELECT room_id FROM rooms
           WHERE tenant = $1 AND delete_time IS NULL AND valid_until > $2
             AND valid_from - early_entry <= $2 AND room_id > $3
           ORDER BY room_id LIMIT $4""",
        tenant,
        now,
        after,
        limit,
    )
    return [row["room_id"] for row in rows]
