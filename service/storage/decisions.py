"""A host's knock decisions (admit, deny) of one room, those queued behind the one in
flight written together: one transaction of two statements under the room's row lock
for the lot (docs/decisions/waiting-room.md, "Decisions go together")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from service.domain.errors import etag_mismatch, room_not_found
from service.domain.models import Role, etag_of
from service.domain.waiting_room import (
    Decision,
    Knock,
    KnockState,
    plan_decision,
    would_be_role,
)
from service.storage.base import ROLE_BY_VALUE, room_of
from service.storage.history import event_arrays
from service.storage.queries import QUERIES
from service.storage.seats import knock_of
from service.storage.together import RoomKey, Together, announce
from service.storage.transaction import tenant_transaction

# The most decisions one transaction takes; the rest wait for the next.
BATCH = 64


@dataclass(frozen=True)
class KnockDecision:
    """Admit or deny `user_id` (with the host's `chosen_role`, or None), if the room is
    at `expected_version` (None: whatever its version)."""

    user_id: str
    state: KnockState
    chosen_role: Role | None
    expected_version: int | None
    now: datetime
    actor: str
    pool: asyncpg.Pool


async def decide(tenant: str, room_id: str, decision: KnockDecision) -> tuple[Knock, int]:
    """The knock after the decision and the room's version after it. Deciding again
    the same way changes nothing (the version it answers is the room's)."""
    knock, version, changed = await _decisions.ask((tenant, room_id), decision)
    if changed:
        await announce(decision.pool, tenant, room_id)
    return knock, version


async def _together(
    key: RoomKey, batch: list[KnockDecision]
) -> list[tuple[Knock, int, bool] | Exception]:
    """The batch's decisions in arrival order, as if each had the room's lock to
    itself: read the facts of all (`decide_knocks`), plan each in the domain against
    the version the earlier ones left (an etag is checked against it), write the
    changes (`write_knock_decisions`), COMMIT; the callers announce it (`announce`)."""
    tenant, room_id = key
    answers: list[tuple[Knock, int, bool] | Exception] = []
    # Nothing touched: the callers announce the commit (`announce`, coalesced).
    async with tenant_transaction(batch[0].pool, tenant) as tx:
        conn = tx.conn
        users = [decision.user_id for decision in batch]
        rows = await conn.fetch(QUERIES["decide_knocks"], tenant, room_id, users)
        if not rows:
            return [room_not_found(room_id) for _ in batch]
        room = room_of(rows[0])
        facts = {row["u_user_id"]: row for row in rows}
        version = room.version
        writes: list[tuple[int, KnockDecision, Decision]] = []
        for decision in batch:
            row = facts[decision.user_id]
            if decision.expected_version is not None and decision.expected_version != version:
                answers.append(etag_mismatch(room_id, etag_of(version)))
                continue
            rostered = ROLE_BY_VALUE[row["p_role"]] if row["p_role"] is not None else None
            before = knock_of(row, "k_") if row["k_user_id"] is not None else None
            plan = plan_decision(
                decision.user_id,
                before,
                decision.state,
                decision.chosen_role,
                would_be_role(room, rostered),
            )
            if plan is None:
                assert before is not None  # only a decision already made is unchanged
                answers.append((before, version, False))
                continue
            version += 1
            writes.append((len(answers), decision, plan))
            answers.append(Exception("written below"))
        if not writes:
            return answers
        plans = [plan for _, _, plan in writes]
        types, data = event_arrays([plan.event for plan in plans])
        written = await conn.fetch(
            QUERIES["write_knock_decisions"],
            tenant,
            room_id,
            [decision.user_id for _, decision, _ in writes],
            [decision.state.value for _, decision, _ in writes],
            [p.role.value if p.role is not None else None for p in plans],
            [p.role_chosen for p in plans],
            [decision.now for _, decision, _ in writes],
            [p.new_epoch for p in plans],
            types,
            data,
            [decision.actor for _, decision, _ in writes],
        )
        after = {row["user_id"]: knock_of(row) for row in written}
        first = written[0]["version"] - len(writes)
        for number, (index, decision, _) in enumerate(writes, start=1):
            answers[index] = (after[decision.user_id], first + number, True)
    return answers


# This process's knock decisions, by room: those queued behind the transaction in
# flight go as the next one.
_decisions: Together[KnockDecision, tuple[Knock, int, bool]] = Together(
    _together, lambda decision: decision.user_id, limit=BATCH
)
