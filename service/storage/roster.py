"""Rosters: participants added, updated, removed (and banned) and listed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from service.domain import events
from service.domain.events import EventType, NewEvent
from service.domain.models import (
    Participant,
    Role,
    Room,
    RosterEntry,
)
from service.domain.roster import plan_upsert
from service.storage import seats as seats_sql
from service.storage.base import (
    ROLE_BY_VALUE,
    StoreBase,
    bump_epochs,
    participant_of,
    room_of,
    translate_errors,
)
from service.storage.db import Connection
from service.storage.history import append_events
from service.storage.queries import QUERIES
from service.storage.transaction import tenant_transaction


class RosterStore(StoreBase):
    """Rosters: participants added, updated, removed (and banned) and listed."""

    async def _bump(
        self, conn: Connection, tenant: str, room_id: str, count: int, now: datetime
    ) -> int:
        version: int = await conn.fetchval(
            QUERIES["bump"],
            tenant,
            room_id,
            count,
            now,
        )
        return version

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
                    [event.type.value for event in plan.history],
                    [json.dumps(event.data) for event in plan.history],
                    actor,
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
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room = await self._lock_room(conn, tenant, room_id, expected_version)
            version: int = room["version"]
            removed = {
                row["user_id"]: ROLE_BY_VALUE[row["role"]]
                for row in await conn.fetch(
                    QUERIES["remove_participants"],
                    tenant,
                    room_id,
                    list(user_ids),
                )
            }
            banned: set[str] = set()
            if ban:
                already = {
                    row["user_id"]
                    for row in await conn.fetch(
                        QUERIES["banned_among"],
                        tenant,
                        room_id,
                        list(user_ids),
                    )
                }
                banned = set(user_ids) - already
            if removed or banned:
                count = room["participant_count"] - len(removed)
                version = await self._bump(conn, tenant, room_id, count, now)
                history: list[NewEvent] = []
                touched: list[str] = []
                for user_id in user_ids:
                    if user_id in removed:
                        history.append(events.participant_removed(user_id, removed[user_id]))
                    if user_id in banned:
                        history.append(events.participant_banned(user_id))
                    if user_id in removed or user_id in banned:
                        touched.append(user_id)
                # Remember the removal (and the ban): a credential issued at an earlier
                # version of the room no longer holds.
                await conn.execute(
                    QUERIES["record_removals"],
                    tenant,
                    room_id,
                    touched,
                    version,
                    now,
                    ban,
                )
                await bump_epochs(conn, tenant, room_id, touched)
                await append_events(tx, room_id, history, actor, now)
            presence, decided = await seats_sql.revoke_presence(conn, tenant, room_id, user_ids)
            if presence:
                if decided and not removed:
                    version = await self._bump_version(conn, tenant, room_id, now)
                # A withdrawn admission ends that membership too (unless the removal
                # above already started a new one).
                revoked = [
                    e.data["user_id"]
                    for e in presence
                    if e.type is EventType.ADMISSION_REVOKED
                    and e.data["user_id"] not in removed
                    and e.data["user_id"] not in banned
                ]
                await bump_epochs(conn, tenant, room_id, revoked)
                await append_events(tx, room_id, presence, actor, now)
        return len(removed), version

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
