"""Participants' own windows ending: the lifecycle reads the entries due without locks
(across tenants), then, per tenant in its transaction, marks those still due and
appends their PARTICIPANT_WINDOW_ENDED events (which the media servers' sinks turn
into an ejection)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import asyncpg

from service.domain import events
from service.storage import history as history_sql
from service.storage.base import ROLE_BY_VALUE, readable_instant
from service.storage.queries import QUERIES
from service.storage.transaction import TenantTransaction


class DueWindow(NamedTuple):
    """A roster entry whose own window ended, as read without a lock."""

    tenant: str
    room_id: str
    user_id: str


async def due_window_ends(pool: asyncpg.Pool, now: datetime, limit: int) -> list[DueWindow]:
    """Entries of live rooms whose `valid_until` passed by `now`, not yet announced,
    earliest first. Reads all tenants; locks nothing."""
    rows = await pool.fetch(QUERIES["due_window_ends"], now, limit)
    return [DueWindow(row["tenant"], row["room_id"], row["user_id"]) for row in rows]


async def announce_window_ends(
    tx: TenantTransaction, due: Sequence[DueWindow], now: datetime
) -> int:
    """Mark the entries of `due` (of `tx.tenant`) still due at `now` and append one
    PARTICIPANT_WINDOW_ENDED per entry to its room's history; return how many."""
    by_room: dict[str, list[str]] = defaultdict(list)
    for entry in due:
        by_room[entry.room_id].append(entry.user_id)
    ended = 0
    for room_id, user_ids in by_room.items():
        rows = await tx.conn.fetch(
            QUERIES["end_participant_windows"], tx.tenant, room_id, sorted(user_ids), now
        )
        if not rows:
            continue
        new = [
            events.participant_window_ended(
                row["user_id"], ROLE_BY_VALUE[row["role"]], readable_instant(row["valid_until"])
            )
            for row in sorted(rows, key=lambda row: (row["valid_until"], row["user_id"]))
        ]
        await history_sql.append_events(tx, room_id, new, events.SYSTEM_ACTOR, now)
        ended += len(new)
    return ended
