"""The lifecycle of recurring rooms in PostgreSQL: OPENED and ENDED per occurrence.
Candidates are read across tenants without locks; the domain plans
(`transitions.owed_occurrence_transitions`); each tenant's share is written in its own
transaction, for rooms still at the version read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from service.domain.models import RoomState
from service.domain.recurrence import Occurrence, RecurrenceError, Series
from service.domain.transitions import OccurrencePlan, owed_occurrence_transitions
from service.storage.history import ANNOUNCED, announce, announced_code
from service.storage.queries import QUERIES
from service.storage.transaction import TenantTransaction


class DueOccurrence(NamedTuple):
    """A recurring room that may owe a transition, as read without a lock."""

    tenant: str
    room_id: str
    version: int
    announced: RoomState
    tracked: Occurrence
    series: Series


async def due_occurrences(pool: asyncpg.Pool, now: datetime, limit: int) -> list[DueOccurrence]:
    rows = await pool.fetch(QUERIES["due_occurrences"], now, limit)
    return [
        DueOccurrence(
            row["tenant"],
            row["room_id"],
            row["version"],
            ANNOUNCED[row["announced_state"]],
            Occurrence(row["tracked_from"], row["tracked_until"]),
            Series(
                tuple(row["recurrence"]),
                row["time_zone"] or "UTC",
                row["valid_from"],
                row["valid_until"] - row["valid_from"],
            ),
        )
        for row in rows
    ]


def _plan(room: DueOccurrence, now: datetime) -> OccurrencePlan | None:
    try:
        plan = owed_occurrence_transitions(room.announced, room.tracked, room.series, now)
    except RecurrenceError:  # checked when written; never expected
        return None
    return plan if plan.transitions else None


async def announce_occurrences(
    tx: TenantTransaction, rooms: Sequence[DueOccurrence], now: datetime
) -> int:
    """Write what each room of `tx.tenant` owes; return how many rooms moved."""
    owed = [(room, plan) for room in rooms if (plan := _plan(room, now)) is not None]
    rooms_columns: list[list[Any]] = [
        [room.version for room, _ in owed],
        [plan.tracked.start for _, plan in owed],
        [plan.tracked.end for _, plan in owed],
        [announced_code(plan.announced) for _, plan in owed],
    ]
    return await announce(
        tx,
        QUERIES["announce_occurrences"],
        now,
        rooms_columns,
        [(room.room_id, plan.transitions) for room, plan in owed],
    )
