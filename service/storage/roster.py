"""Rosters: participants added, updated, removed (and banned) and listed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from service.domain import events
from service.domain.events import Moderation
from service.domain.models import (
    Participant,
    Role,
    Room,
    RosterEntry,
)
from service.domain.roster import plan_removal, plan_upsert
from service.domain.seats import Seat
from service.domain.waiting_room import KnockState
from service.storage import history as history_sql
from service.storage import seats as seats_sql
from service.storage.base import (
    ROLE_BY_VALUE,
    StoreBase,
    bump_epochs,
    participant_of,
    room_of,
    translate_errors,
)
from service.storage.queries import QUERIES
from service.storage.transaction import tenant_transaction


class RosterStore(StoreBase):
    """Rosters: participants added, updated, removed (and banned) and listed."""

    @translate_errors
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
        user_ids = [entry.user_id for entry in roster]
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room = await self._lock_room(conn, tenant, room_id, expected_version)
            version: int = room["version"]
            # Under the room's lock: the entries as they are, and which identities are
            # banned, in one statement.
            existing: dict[str, Participant] = {}
            banned: set[str] = set()
            for row in await conn.fetch(
                QUERIES["upsert_participants"],
                tenant,
                room_id,
                user_ids,
            ):
                if row["ban"]:
                    banned.add(row["user_id"])
                else:
                    existing[row["user_id"]] = participant_of(row)
            plan = plan_upsert(
                room_id,
                roster,
                existing,
                banned,
                room["participant_count"],
                max_roster_size,
                now,
            )
            if plan.changed:
                # The whole change in one statement: bans lifted, entries upserted, the
                # room's count, version and event numbers bumped in ONE update of its
                # row, the events appended and made due at the tenant's destinations.
                version = await conn.fetchval(
                    QUERIES["write_participants"],
                    tenant,
                    room_id,
                    [p.user_id for p in plan.changed],
                    [p.role.value for p in plan.changed],
                    now,
                    sorted(plan.lifted),
                    plan.count,
                    *history_sql.event_arrays(plan.history),
                    actor,
                    [p.valid_from for p in plan.changed],
                    [p.valid_until for p in plan.changed],
                )
                if plan.silenced:
                    await bump_epochs(conn, tenant, room_id, plan.silenced)
                tx.touch(room_id)
        return plan.result, version

    @translate_errors
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
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room = await self._lock_room(conn, tenant, room_id, expected_version)
            version: int = room["version"]
            # Under the room's lock: the facts the plan is made of, in one statement.
            rostered: dict[str, Role] = {}
            banned: set[str] = set()
            knocks: dict[str, KnockState] = {}
            seats: list[Seat] = []
            for row in await conn.fetch(
                QUERIES["removal_facts"],
                tenant,
                room_id,
                list(user_ids),
            ):
                if row["kind"] == "entry":
                    rostered[row["user_id"]] = ROLE_BY_VALUE[row["role"]]
                elif row["kind"] == "ban":
                    banned.add(row["user_id"])
                elif row["kind"] == "knock":
                    knocks[row["user_id"]] = seats_sql.KNOCK_STATE[row["state"]]
                else:
                    seats.append(seats_sql.seat_of(row))
            plan = plan_removal(
                user_ids, rostered, banned, knocks, seats, room["participant_count"], ban
            )
            if plan.writes:
                version = await conn.fetchval(
                    QUERIES["write_removal"],
                    tenant,
                    room_id,
                    plan.removed,
                    plan.count,
                    plan.changes_version,
                    now,
                    plan.recorded,
                    ban,
                    plan.knocks,
                    [seat.seat_id for seat in plan.seats],
                    *history_sql.event_arrays(plan.history),
                    actor,
                )
                await bump_epochs(conn, tenant, room_id, plan.new_epochs)
                if plan.history:
                    tx.touch(room_id)
        return len(plan.removed), version

    @translate_errors
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
        """Append the moderation's event if the room is still at `expected_version` (the
        actor's right was judged on it: a roster change since raises ETAG_MISMATCH);
        return its revision."""
        async with tenant_transaction(self._pool, tenant) as tx:
            await self._lock_room(tx.conn, tenant, room_id, expected_version)
            new = [events.participant_moderated(user_id, moderation)]
            return await history_sql.append_events(tx, room_id, new, actor, now)

    @translate_errors
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
        rows = await self._pool.fetch(
            QUERIES["list_participants"],
            tenant,
            room_id,
            after_user_id or "",
            role.value if role is not None else None,
            limit,
        )
        if not rows:
            return None
        return [participant_of(row) for row in rows if row["user_id"] is not None]

    @translate_errors
    async def get_participant(
        self, *, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None]:
        """One round trip by primary keys: the hot path of AuthorizeJoin."""
        row = await self._pool.fetchrow(
            QUERIES["get_participant"],
            tenant,
            room_id,
            user_id,
        )
        if row is None:
            return None, None
        participant = participant_of(row, "p_") if row["p_user_id"] is not None else None
        return room_of(row), participant
