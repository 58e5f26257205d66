"""`RoomStore` on PostgreSQL: every SQL statement of the service is in this file.

Times come from the caller (the domain's clock), never from `now()` in SQL, so
tests that set the clock see consistent results.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import asyncpg

from service import deadline
from service.domain import events
from service.domain.errors import (
    DomainError,
    ErrorReason,
    etag_mismatch,
    room_not_found,
    roster_full,
)
from service.domain.events import EventType, History, NewEvent, RoomEvent
from service.domain.models import (
    JoinPolicy,
    Membership,
    NewRoom,
    Participant,
    Role,
    Room,
    RoomState,
    RosterEntry,
    etag_of,
)
from service.domain.ports import Position
from service.domain.updates import UPDATABLE_FIELDS
from service.storage import events as history_sql
from service.storage.db import Connection
from service.storage.events import append_events

P = ParamSpec("P")
R = TypeVar("R")

_ROOM_COLUMNS = (
    "room_id, create_time, update_time, valid_from, valid_until, pstn_dial_out_enabled,"
    " join_policy, metadata, open_join_role, early_entry, revision, participant_count,"
    " event_seq"
)
_R_ROOM_COLUMNS = ", ".join(f"r.{c.strip()}" for c in _ROOM_COLUMNS.split(","))
_PARTICIPANT_COLUMNS = "user_id, role, create_time, update_time"

# The state of a room at $now, as a condition on table alias r.
_STATE_CONDITION = {
    RoomState.SCHEDULED: "r.valid_from > {now}",
    RoomState.OPEN: "r.valid_from <= {now} AND r.valid_until > {now}",
    RoomState.ENDED: "r.valid_until <= {now}",
}

# Driver failures that mean "the database is not reachable right now".
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    # A connection the server has just closed can be handed out again before asyncpg
    # notices the close (its protocol still mid-error): "cannot switch to state".
    asyncpg.InternalClientError,
)


def translate_errors(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Bound the database work by the call's deadline (and the server's ceiling), and
    turn driver failures into DomainErrors the transport knows how to answer. For
    methods of stores that have a `statement_ceiling` (seconds)."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ceiling: float = getattr(args[0], "statement_ceiling")  # noqa: B009
        budget = deadline.remaining(ceiling)
        if budget <= 0:
            raise DomainError(ErrorReason.TIMEOUT, "the call's deadline has passed")
        try:
            # On expiry (or when the caller cancels the call) asyncpg asks the
            # server to cancel the running statement.
            async with asyncio.timeout(budget):
                return await method(*args, **kwargs)
        except asyncpg.QueryCanceledError as error:
            raise DomainError(ErrorReason.TIMEOUT, "the database query took too long") from error
        except TimeoutError as error:
            raise DomainError(ErrorReason.TIMEOUT, "the database did not answer in time") from error
        except _UNAVAILABLE as error:
            raise DomainError(
                ErrorReason.DATABASE_UNAVAILABLE, "the database is unavailable; retry later"
            ) from error

    return wrapper


# Enum lookups by value through a dict: Enum(value) is slow on the hot path.
_POLICY = {policy.value: policy for policy in JoinPolicy}
_ROLE = {role.value: role for role in Role}


def _room(record: asyncpg.Record) -> Room:
    return Room(
        room_id=record["room_id"],
        create_time=record["create_time"],
        update_time=record["update_time"],
        valid_from=record["valid_from"],
        valid_until=record["valid_until"],
        pstn_dial_out_enabled=record["pstn_dial_out_enabled"],
        join_policy=_POLICY[record["join_policy"]],
        metadata=record["metadata"],
        open_join_role=_ROLE[record["open_join_role"]],
        early_entry=record["early_entry"],
        revision=record["revision"],
        participant_count=record["participant_count"],
        last_event_revision=record["event_seq"],
    )


def _participant(record: asyncpg.Record, prefix: str = "") -> Participant:
    return Participant(
        user_id=record[prefix + "user_id"],
        role=_ROLE[record[prefix + "role"]],
        create_time=record[prefix + "create_time"],
        update_time=record[prefix + "update_time"],
    )


class PgRoomStore:
    """Rooms and rosters in PostgreSQL, scoped by tenant."""

    def __init__(self, pool: asyncpg.Pool, statement_ceiling: float = 10.0) -> None:
        self._pool = pool
        # The longest any one operation may take, whatever the caller's deadline.
        self.statement_ceiling = statement_ceiling

    # ---- rooms ----------------------------------------------------------

    @translate_errors
    async def create_room(
        self,
        tenant: str,
        room: NewRoom,
        roster: Sequence[RosterEntry],
        now: datetime,
        request_id: str,
        request_hash: str,
        actor: str,
    ) -> Room:
        async with self._pool.acquire() as conn, conn.transaction():
            if request_id:
                replay = await self._claim_request_id(
                    conn, tenant, request_id, request_hash, room.room_id, now
                )
                if replay is not None:
                    return replay
            row = await conn.fetchrow(
                f"""INSERT INTO rooms (tenant, room_id, create_time, update_time, valid_from,
                        valid_until, pstn_dial_out_enabled, join_policy, metadata,
                        open_join_role, early_entry, participant_count)
                    VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                    ON CONFLICT (tenant, room_id) DO NOTHING
                    RETURNING {_ROOM_COLUMNS}""",
                tenant,
                room.room_id,
                now,
                room.valid_from,
                room.valid_until,
                room.pstn_dial_out_enabled,
                room.join_policy.value,
                dict(room.metadata),
                room.open_join_role.value,
                room.early_entry,
                len(roster),
            )
            if row is None:
                raise DomainError(
                    ErrorReason.ROOM_ALREADY_EXISTS,
                    f"a room with id {room.room_id!r} already exists",
                    metadata={"room_id": room.room_id},
                )
            if roster:
                await conn.execute(
                    """INSERT INTO participants
                           (tenant, room_id, user_id, role, create_time, update_time)
                       SELECT $1, $2, u, r, $5, $5
                       FROM unnest($3::text[], $4::text[]) AS t(u, r)""",
                    tenant,
                    room.room_id,
                    [entry.user_id for entry in roster],
                    [entry.role.value for entry in roster],
                    now,
                )
            created = _room(row)
            history = [events.created(created)]
            history += [events.participant_added(e.user_id, e.role) for e in roster]
            seq = await append_events(conn, tenant, room.room_id, history, actor, now)
            return replace(created, last_event_revision=seq)

    async def _claim_request_id(
        self,
        conn: Connection,
        tenant: str,
        request_id: str,
        request_hash: str,
        room_id: str,
        now: datetime,
    ) -> Room | None:
        """Record a request id; if it was recorded before, the room it created."""
        claimed = await conn.fetchval(
            """INSERT INTO idempotency_keys (tenant, request_id, request_hash, room_id, create_time)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true""",
            tenant,
            request_id,
            request_hash,
            room_id,
            now,
        )
        if claimed:
            return None
        earlier = await conn.fetchrow(
            f"""SELECT k.request_hash, {_R_ROOM_COLUMNS}
                FROM idempotency_keys k
                LEFT JOIN rooms r ON r.tenant = k.tenant AND r.room_id = k.room_id
                WHERE k.tenant = $1 AND k.request_id = $2""",
            tenant,
            request_id,
        )
        if earlier is None or earlier["request_hash"] != request_hash:
            raise DomainError(
                ErrorReason.REQUEST_ID_REUSED,
                f"request_id {request_id!r} was used before with a different request",
                metadata={"request_id": request_id, "field": "request_id"},
            )
        if earlier["room_id"] is None:
            raise room_not_found(room_id)
        return _room(earlier)

    @translate_errors
    async def get_room(self, tenant: str, room_id: str) -> Room | None:
        row = await self._pool.fetchrow(
            f"""SELECT {_ROOM_COLUMNS} FROM rooms
                WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL""",
            tenant,
            room_id,
        )
        return _room(row) if row is not None else None

    @translate_errors
    async def list_rooms(
        self,
        tenant: str,
        state: RoomState | None,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Room]:
        args: list[Any] = [tenant, limit]
        where = ["r.tenant = $1", "r.delete_time IS NULL"]
        if after is not None:
            args += [after[0], after[1]]
            where.append(f"(r.create_time, r.room_id) < (${len(args) - 1}, ${len(args)})")
        if state is not None:
            args.append(now)
            where.append(_STATE_CONDITION[state].format(now=f"${len(args)}"))
        rows = await self._pool.fetch(
            f"""SELECT {_R_ROOM_COLUMNS} FROM rooms r WHERE {" AND ".join(where)}
                ORDER BY r.create_time DESC, r.room_id DESC LIMIT $2""",
            *args,
        )
        return [_room(row) for row in rows]

    @translate_errors
    async def update_room(
        self,
        tenant: str,
        room_id: str,
        expected_revision: int,
        changes: Mapping[str, Any],
        now: datetime,
        actor: str,
    ) -> Room | None:
        columns = set(UPDATABLE_FIELDS.values())
        assignments = ["update_time = $4", "revision = revision + 1"]
        args: list[Any] = [tenant, room_id, expected_revision, now]
        for column, value in changes.items():
            if column not in columns:
                raise ValueError(f"not an updatable column: {column}")
            args.append(value.value if isinstance(value, Role | JoinPolicy) else value)
            assignments.append(f"{column} = ${len(args)}")
        # A window moved later makes the room scheduled (or open) again: forget the
        # transitions announced for the old window, so they are announced anew.
        start = (
            f"${list(changes).index('valid_from') + 5}" if "valid_from" in changes else "valid_from"
        )
        end = (
            f"${list(changes).index('valid_until') + 5}"
            if "valid_until" in changes
            else "valid_until"
        )
        assignments.append(
            f"""announced_state = LEAST(announced_state,
                    CASE WHEN {start}::timestamptz > $4::timestamptz THEN 0
                         WHEN {end}::timestamptz > $4::timestamptz THEN 1 ELSE 2 END)"""
        )
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""UPDATE rooms SET {", ".join(assignments)}
                    WHERE tenant = $1 AND room_id = $2 AND revision = $3
                      AND delete_time IS NULL
                    RETURNING {_ROOM_COLUMNS}""",
                *args,
            )
            if row is None:
                return None
            updated = _room(row)
            seq = await append_events(
                conn, tenant, room_id, [events.settings_changed(updated, changes)], actor, now
            )
        return replace(updated, last_event_revision=seq)

    @translate_errors
    async def delete_room(
        self,
        tenant: str,
        room_id: str,
        expected_revision: int | None,
        now: datetime,
        actor: str,
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """SELECT revision, delete_time FROM rooms
                   WHERE tenant = $1 AND room_id = $2 FOR UPDATE""",
                tenant,
                room_id,
            )
            if row is None:
                raise room_not_found(room_id)
            if row["delete_time"] is not None:
                return
            if expected_revision is not None and expected_revision != row["revision"]:
                raise etag_mismatch(room_id, etag_of(row["revision"]))
            await conn.execute(
                """UPDATE rooms SET delete_time = $3, update_time = $3, revision = revision + 1
                   WHERE tenant = $1 AND room_id = $2""",
                tenant,
                room_id,
                now,
            )
            await append_events(conn, tenant, room_id, [events.deleted()], actor, now)

    # ---- rosters --------------------------------------------------------

    async def _lock_room(
        self,
        conn: Connection,
        tenant: str,
        room_id: str,
        expected_revision: int | None,
    ) -> asyncpg.Record:
        """Lock a live room's row for a roster change, checking its revision."""
        row = await conn.fetchrow(
            """SELECT revision, participant_count FROM rooms
               WHERE tenant = $1 AND room_id = $2 AND delete_time IS NULL FOR UPDATE""",
            tenant,
            room_id,
        )
        if row is None:
            raise room_not_found(room_id)
        if expected_revision is not None and expected_revision != row["revision"]:
            raise etag_mismatch(room_id, etag_of(row["revision"]))
        return row

    async def _bump(
        self, conn: Connection, tenant: str, room_id: str, count: int, now: datetime
    ) -> int:
        revision: int = await conn.fetchval(
            """UPDATE rooms SET participant_count = $3, update_time = $4, revision = revision + 1
               WHERE tenant = $1 AND room_id = $2 RETURNING revision""",
            tenant,
            room_id,
            count,
            now,
        )
        return revision

    @translate_errors
    async def upsert_participants(
        self,
        tenant: str,
        room_id: str,
        roster: Sequence[RosterEntry],
        expected_revision: int | None,
        max_roster_size: int,
        now: datetime,
        actor: str,
    ) -> tuple[list[Participant], int]:
        user_ids = [entry.user_id for entry in roster]
        async with self._pool.acquire() as conn, conn.transaction():
            room = await self._lock_room(conn, tenant, room_id, expected_revision)
            revision: int = room["revision"]
            existing = {
                row["user_id"]: _participant(row)
                for row in await conn.fetch(
                    f"""SELECT {_PARTICIPANT_COLUMNS} FROM participants
                        WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])""",
                    tenant,
                    room_id,
                    user_ids,
                )
            }
            result: list[Participant] = []
            changed: list[Participant] = []
            history: list[NewEvent] = []
            for entry in roster:
                before = existing.get(entry.user_id)
                if before is None:
                    after = Participant(entry.user_id, entry.role, now, now)
                    history.append(events.participant_added(entry.user_id, entry.role))
                elif before.role != entry.role:
                    after = replace(before, role=entry.role, update_time=now)
                    history.append(events.role_changed(entry.user_id, entry.role, before.role))
                else:
                    result.append(before)
                    continue
                result.append(after)
                changed.append(after)
            if changed:
                count = room["participant_count"] + len(roster) - len(existing)
                if count > max_roster_size:
                    raise roster_full(room_id, max_roster_size, count)
                await conn.execute(
                    """INSERT INTO participants AS p
                           (tenant, room_id, user_id, role, create_time, update_time)
                       SELECT $1, $2, u, r, $5, $5
                       FROM unnest($3::text[], $4::text[]) AS t(u, r)
                       ON CONFLICT (tenant, room_id, user_id)
                       DO UPDATE SET role = EXCLUDED.role, update_time = EXCLUDED.update_time""",
                    tenant,
                    room_id,
                    [p.user_id for p in changed],
                    [p.role.value for p in changed],
                    now,
                )
                revision = await self._bump(conn, tenant, room_id, count, now)
                await append_events(conn, tenant, room_id, history, actor, now)
        return result, revision

    @translate_errors
    async def remove_participants(
        self,
        tenant: str,
        room_id: str,
        user_ids: Sequence[str],
        expected_revision: int | None,
        now: datetime,
        actor: str,
    ) -> tuple[int, int]:
        async with self._pool.acquire() as conn, conn.transaction():
            room = await self._lock_room(conn, tenant, room_id, expected_revision)
            revision: int = room["revision"]
            removed = await conn.fetch(
                """DELETE FROM participants
                   WHERE tenant = $1 AND room_id = $2 AND user_id = ANY($3::text[])
                   RETURNING user_id, role""",
                tenant,
                room_id,
                list(user_ids),
            )
            if removed:
                count = room["participant_count"] - len(removed)
                revision = await self._bump(conn, tenant, room_id, count, now)
                order = {user_id: index for index, user_id in enumerate(user_ids)}
                history = [
                    events.participant_removed(row["user_id"], Role(row["role"]))
                    for row in sorted(removed, key=lambda r: order[r["user_id"]])
                ]
                await append_events(conn, tenant, room_id, history, actor, now)
        return len(removed), revision

    @translate_errors
    async def list_participants(
        self,
        tenant: str,
        room_id: str,
        role: Role | None,
        after_user_id: str | None,
        limit: int,
    ) -> list[Participant] | None:
        rows = await self._pool.fetch(
            """SELECT p.user_id, p.role, p.create_time, p.update_time
               FROM rooms r
               LEFT JOIN LATERAL (
                   SELECT q.user_id, q.role, q.create_time, q.update_time
                   FROM participants q
                   WHERE q.tenant = r.tenant AND q.room_id = r.room_id AND q.user_id > $3
                     AND ($4::text IS NULL OR q.role = $4)
                   ORDER BY q.user_id
                   LIMIT $5
               ) p ON true
               WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL
               ORDER BY p.user_id""",
            tenant,
            room_id,
            after_user_id or "",
            role.value if role is not None else None,
            limit,
        )
        if not rows:
            return None
        return [_participant(row) for row in rows if row["user_id"] is not None]

    @translate_errors
    async def get_participant(
        self, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None]:
        """One round trip by primary keys: the hot path of AuthorizeJoin."""
        row = await self._pool.fetchrow(
            f"""SELECT {_R_ROOM_COLUMNS}, p.user_id AS p_user_id, p.role AS p_role,
                       p.create_time AS p_create_time, p.update_time AS p_update_time
                FROM rooms r
                LEFT JOIN participants p
                       ON p.tenant = r.tenant AND p.room_id = r.room_id AND p.user_id = $3
                WHERE r.tenant = $1 AND r.room_id = $2 AND r.delete_time IS NULL""",
            tenant,
            room_id,
            user_id,
        )
        if row is None:
            return None, None
        participant = _participant(row, "p_") if row["p_user_id"] is not None else None
        return _room(row), participant

    @translate_errors
    async def list_memberships(
        self,
        tenant: str,
        user_id: str,
        state: RoomState | None,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Membership]:
        args: list[Any] = [tenant, user_id, limit]
        where = ["p.tenant = $1", "p.user_id = $2", "r.delete_time IS NULL"]
        if after is not None:
            args += [after[0], after[1]]
            where.append(f"(r.valid_from, r.room_id) > (${len(args) - 1}, ${len(args)})")
        if state is not None:
            args.append(now)
            where.append(_STATE_CONDITION[state].format(now=f"${len(args)}"))
        rows = await self._pool.fetch(
            f"""SELECT {_R_ROOM_COLUMNS}, p.role AS p_role, p.create_time AS p_create_time
                FROM participants p
                JOIN rooms r ON r.tenant = p.tenant AND r.room_id = p.room_id
                WHERE {" AND ".join(where)}
                ORDER BY r.valid_from, r.room_id LIMIT $3""",
            *args,
        )
        return [
            Membership(room=_room(row), role=Role(row["p_role"]), create_time=row["p_create_time"])
            for row in rows
        ]

    # ---- history --------------------------------------------------------

    @translate_errors
    async def history(self, tenant: str, room_id: str) -> History | None:
        return await history_sql.history(self._pool, tenant, room_id)

    @translate_errors
    async def read_events(
        self,
        tenant: str,
        room_id: str,
        after: int,
        limit: int,
        *,
        newest_first: bool = False,
        types: Sequence[EventType] = (),
    ) -> list[RoomEvent]:
        return await history_sql.read_events(
            self._pool, tenant, room_id, after, limit, newest_first=newest_first, types=types
        )
