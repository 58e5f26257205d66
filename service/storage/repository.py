"""`RoomStore` on PostgreSQL: every SQL statement of the service is in this file.

Times come from the caller (the domain's clock), never from `now()` in SQL, so
tests that set the clock see consistent results.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import asyncpg

from service import deadline
from service.domain import events, instants
from service.domain.credentials import Removal, StoredSigningKey
from service.domain.errors import (
    DomainError,
    ErrorReason,
    FieldViolation,
    etag_mismatch,
    room_not_found,
    roster_full,
)
from service.domain.events import EventType, History, NewEvent, RoomEvent
from service.domain.janus import forbids_publishing
from service.domain.limits import Limits
from service.domain.models import (
    SETTING_TYPES,
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
from service.domain.seats import CapacityRefusal, Seat, check_capacity, new_seat_id, seat_expiry
from service.domain.waiting_room import Knock, KnockState, would_be_role
from service.storage import events as history_sql
from service.storage import rows
from service.storage import seats as seats_sql
from service.storage.db import Connection
from service.storage.events import append_events
from service.storage.notify import notify_rooms
from service.storage.queries import QUERIES
from service.storage.reads import UNAVAILABLE, CoalescingReader
from service.storage.transaction import tenant_transaction

P = ParamSpec("P")
R = TypeVar("R")

# The settable columns, in the order update_room's statement takes them ($6 on).
_SETTING_COLUMNS = tuple(SETTING_TYPES)

# The static statements of the two filtered Lists, by (after a position?, state).
_LIST_ROOMS = {
    (after, state): QUERIES[
        "list_rooms" + ("_after" if after else "") + (f"_{state.value}" if state else "")
    ]
    for after in (False, True)
    for state in (None, *RoomState)
}
_LIST_MEMBERSHIPS = {
    (after, state): QUERIES[
        "list_memberships" + ("_after" if after else "") + (f"_{state.value}" if state else "")
    ]
    for after in (False, True)
    for state in (None, *RoomState)
}

# Driver failures that mean "the database is not reachable right now".
_UNAVAILABLE = UNAVAILABLE


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
        except asyncpg.IntegrityConstraintViolationError as error:
            # The domain's rules run first, so this is a rule the domain lacks: still a
            # refusal of the input (named by the constraint), never INTERNAL.
            raise DomainError(
                ErrorReason.INVALID_ARGUMENT,
                f"the request breaks the stored rule {error.constraint_name or 'unnamed'}",
                metadata={"constraint": error.constraint_name or ""},
            ) from error

    return wrapper


# Enum lookups by value through a dict: Enum(value) is slow on the hot path.
_ROLE = {role.value: role for role in Role}
# Whatever a row holds (an infinity, an instant from before the accepted range), it reads.
_instant = instants.readable


def _room(record: asyncpg.Record) -> Room:
    return Room(
        room_id=record["room_id"],
        create_time=_instant(record["create_time"]),
        update_time=_instant(record["update_time"]),
        revision=record["revision"],
        participant_count=record["participant_count"],
        last_event_revision=record["event_seq"],
        **rows.settings_from_row(record),
    )


def _participant(record: asyncpg.Record, prefix: str = "") -> Participant:
    return Participant(
        user_id=record[prefix + "user_id"],
        role=_ROLE[record[prefix + "role"]],
        create_time=_instant(record[prefix + "create_time"]),
        update_time=_instant(record[prefix + "update_time"]),
    )


async def bump_epochs(conn: Connection, tenant: str, room_id: str, user_ids: Sequence[str]) -> None:
    """Start a new membership epoch for each of `user_ids` (a removal, a ban, a denial,
    a role change that takes publishing away), in the writer's transaction: their Janus
    join tokens change, and a Janus admission of the old epoch no longer counts."""
    if not user_ids:
        return
    await conn.execute(
        QUERIES["bump_epochs"],
        tenant,
        room_id,
        sorted(set(user_ids)),
    )


class PgRoomStore:
    """Rooms and rosters in PostgreSQL, scoped by tenant."""

    def __init__(self, pool: asyncpg.Pool, statement_ceiling: float = 10.0) -> None:
        self._pool = pool
        # The longest any one operation may take, whatever the caller's deadline.
        self.statement_ceiling = statement_ceiling
        self._reads = CoalescingReader(pool, statement_ceiling)

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
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            if request_id:
                replay = await self._claim_request_id(
                    conn, tenant, request_id, request_hash, room.room_id, now
                )
                if replay is not None:
                    return replay
            # Everything a create writes in ONE statement (one round trip, and the room's
            # row written once: its event_seq is set here rather than bumped after).
            created = Room(
                room_id=room.room_id,
                create_time=now,
                update_time=now,
                valid_from=_instant(room.valid_from.astimezone(UTC)),
                valid_until=_instant(room.valid_until.astimezone(UTC)),
                pstn_dial_out_enabled=room.pstn_dial_out_enabled,
                join_policy=room.join_policy,
                metadata=dict(room.metadata),
                open_join_role=room.open_join_role,
                early_entry=room.early_entry,
                revision=1,
                participant_count=len(roster),
                waiting_room_enabled=room.waiting_room_enabled,
                max_participants=room.max_participants,
                role_capacity=room.role_capacity,
            )
            history = [events.created(created)]
            history += [events.participant_added(e.user_id, e.role) for e in roster]
            inserted = await conn.fetchval(
                QUERIES["create_room"],
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
                room.waiting_room_enabled,
                room.max_participants,
                events.role_capacity_data(room.role_capacity),
                [entry.user_id for entry in roster],
                [entry.role.value for entry in roster],
                [event.type.value for event in history],
                [json.dumps(event.data) for event in history],
                actor,
            )
            if not inserted:
                raise DomainError(
                    ErrorReason.ROOM_ALREADY_EXISTS,
                    f"a room with id {room.room_id!r} already exists",
                    metadata={"room_id": room.room_id},
                )
            tx.touch(room.room_id)
            return replace(created, last_event_revision=len(history))

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
            QUERIES["claim_request_id"],
            tenant,
            request_id,
            request_hash,
            room_id,
            now,
        )
        if claimed:
            return None
        earlier = await conn.fetchrow(
            QUERIES["claim_request_id_2"],
            tenant,
            request_id,
        )
        if earlier is None or earlier["request_hash"] != request_hash:
            raise DomainError(
                ErrorReason.REQUEST_ID_REUSED,
                f"request_id {request_id!r} was used before with a different request",
                metadata={"request_id": request_id, "field": "request_id"},
                field_violations=[
                    FieldViolation(
                        "request_id",
                        "was used before with a different request",
                        ErrorReason.REQUEST_ID_REUSED,
                    )
                ],
            )
        if earlier["room_id"] is None:
            raise room_not_found(room_id)
        return _room(earlier)

    async def get_room(self, tenant: str, room_id: str) -> Room | None:
        """Coalesced with the other primary-key reads of this event-loop turn
        (service/storage/reads.py); read-your-writes holds."""
        row = await self._reads.room(tenant, room_id)
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
        if after is not None:
            args += [after[0], after[1]]
        if state is not None:
            args.append(now)
        rows = await self._pool.fetch(_LIST_ROOMS[after is not None, state], *args)
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
        for column in changes:
            if column not in _SETTING_COLUMNS:
                raise ValueError(f"not an updatable column: {column}")
        values = [
            rows.column_value(column, changes[column]) if column in changes else None
            for column in _SETTING_COLUMNS
        ]
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                QUERIES["update_room"],
                tenant,
                room_id,
                expected_revision,
                now,
                list(changes),
                *values,
            )
            if row is None:
                return None
            updated = _room(row)
            seq = await append_events(
                tx, room_id, [events.settings_changed(updated, changes)], actor, now
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
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                QUERIES["delete_room"],
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
                QUERIES["delete_room_2"],
                tenant,
                room_id,
                now,
            )
            # Nobody is in a deleted room: its seats go with it (DELETED is the last event).
            await seats_sql.free_all(conn, tenant, room_id)
            await append_events(tx, room_id, [events.deleted()], actor, now)

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
            QUERIES["lock_room"],
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
            QUERIES["bump"],
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
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room = await self._lock_room(conn, tenant, room_id, expected_revision)
            revision: int = room["revision"]
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
                    existing[row["user_id"]] = _participant(row)
            result: list[Participant] = []
            changed: list[Participant] = []
            history: list[NewEvent] = []
            silenced: list[str] = []
            for entry in roster:
                before = existing.get(entry.user_id)
                if before is None:
                    after = Participant(entry.user_id, entry.role, now, now)
                    history.append(events.participant_added(entry.user_id, entry.role))
                elif before.role != entry.role:
                    after = replace(before, role=entry.role, update_time=now)
                    history.append(events.role_changed(entry.user_id, entry.role, before.role))
                    if forbids_publishing(before.role, entry.role):
                        silenced.append(entry.user_id)
                else:
                    result.append(before)
                    continue
                result.append(after)
                changed.append(after)
            if changed:
                count = room["participant_count"] + len(roster) - len(existing)
                if count > max_roster_size:
                    raise roster_full(room_id, max_roster_size, count)
                # Adding an identity lifts its ban (a banned identity is never rostered).
                lifted = {p.user_id for p in changed} & banned
                if lifted:
                    history = [
                        events.participant_unbanned(e.user_id)
                        for e in roster
                        if e.user_id in lifted
                    ] + history
                # The whole change in one statement: bans lifted, entries upserted, the
                # room's count, revision and event numbers bumped in ONE update of its
                # row, the events appended and made due at the tenant's destinations.
                revision = await conn.fetchval(
                    QUERIES["upsert_participants_2"],
                    tenant,
                    room_id,
                    [p.user_id for p in changed],
                    [p.role.value for p in changed],
                    now,
                    sorted(lifted),
                    count,
                    [event.type.value for event in history],
                    [json.dumps(event.data) for event in history],
                    actor,
                )
                if silenced:
                    await bump_epochs(conn, tenant, room_id, silenced)
                tx.touch(room_id)
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
        ban: bool = False,
    ) -> tuple[int, int]:
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room = await self._lock_room(conn, tenant, room_id, expected_revision)
            revision: int = room["revision"]
            removed = {
                row["user_id"]: Role(row["role"])
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
                        QUERIES["remove_participants_2"],
                        tenant,
                        room_id,
                        list(user_ids),
                    )
                }
                banned = set(user_ids) - already
            if removed or banned:
                count = room["participant_count"] - len(removed)
                revision = await self._bump(conn, tenant, room_id, count, now)
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
                # revision no longer holds.
                await conn.execute(
                    QUERIES["remove_participants_3"],
                    tenant,
                    room_id,
                    touched,
                    revision,
                    now,
                    ban,
                )
                await bump_epochs(conn, tenant, room_id, touched)
                await append_events(tx, room_id, history, actor, now)
            presence, decided = await seats_sql.revoke_presence(conn, tenant, room_id, user_ids)
            if presence:
                if decided and not removed:
                    revision = await self._bump_revision(conn, tenant, room_id, now)
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
            QUERIES["list_participants"],
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
            QUERIES["get_participant"],
            tenant,
            room_id,
            user_id,
        )
        if row is None:
            return None, None
        participant = _participant(row, "p_") if row["p_user_id"] is not None else None
        return _room(row), participant

    # ---- signing keys ---------------------------------------------------

    @translate_errors
    async def signing_keys(self) -> list[StoredSigningKey]:
        rows = await self._pool.fetch(QUERIES["signing_keys"])
        return [StoredSigningKey(**dict(row)) for row in rows]

    @translate_errors
    async def add_signing_key(self, key: StoredSigningKey, *, only_if_none: bool) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            if only_if_none:
                # Replicas starting together: one makes the first key, the others wait
                # for its transaction and then see it.
                await conn.execute(QUERIES["add_signing_key"])
                if await conn.fetchval(QUERIES["add_signing_key_2"]):
                    return False
            await conn.execute(
                QUERIES["add_signing_key_3"],
                key.key_id,
                key.algorithm,
                key.private_key,
                dict(key.public_jwk),
                key.create_time,
                key.activate_time,
            )
            return True

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
        if after is not None:
            args += [after[0], after[1]]
        if state is not None:
            args.append(now)
        rows = await self._pool.fetch(_LIST_MEMBERSHIPS[after is not None, state], *args)
        return [
            Membership(
                room=_room(row),
                role=Role(row["p_role"]),
                create_time=_instant(row["p_create_time"]),
            )
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

    # ---- waiting room and seats -------------------------------------------

    async def _bump_revision(
        self, conn: Connection, tenant: str, room_id: str, now: datetime
    ) -> int:
        """A host's decision changes the room's etag, as a roster change does."""
        revision: int = await conn.fetchval(
            QUERIES["bump_revision"],
            tenant,
            room_id,
            now,
        )
        return revision

    async def get_join_facts(
        self, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None, Knock | None, Removal | None, int]:
        """The room, the identity's roster entry, its knock, its last removal (or ban)
        and its membership epoch: one round trip by primary keys, the hot path of
        AuthorizeJoin and of IntrospectCredential, coalesced with the other reads of
        this event-loop turn (service/storage/reads.py); read-your-writes holds."""
        row = await self._reads.join_facts(tenant, room_id, user_id)
        if row is None:
            return None, None, None, None, 0
        participant = _participant(row, "p_") if row["p_user_id"] is not None else None
        knock = seats_sql.knock_of(row, "k_") if row["k_user_id"] is not None else None
        removal = (
            Removal(row["x_revision"], row["x_banned"]) if row["x_revision"] is not None else None
        )
        return _room(row), participant, knock, removal, row["m_epoch"] or 0

    @translate_errors
    async def record_janus_admission(
        self, tenant: str, room_id: str, user_id: str, revision: int, now: datetime
    ) -> bool:
        """Note a Janus credential issued at the identity's current epoch, if the room
        is still at `revision`, live and not announced ended (one statement; a bump of
        the epoch bumps the revision too, so the epoch is the one the decision saw)."""
        async with tenant_transaction(self._pool, tenant) as tx:
            written = await tx.conn.fetchval(
                QUERIES["record_janus_admission"],
                tenant,
                room_id,
                user_id,
                revision,
                now,
            )
        return bool(written)

    @translate_errors
    async def record_knock(
        self,
        tenant: str,
        room_id: str,
        user_id: str,
        role: Role,
        display_name: str | None,
        now: datetime,
        actor: str,
    ) -> None:
        """Record a knock in one statement: the first knock inserts the record and
        appends PARTICIPANT_KNOCKED; later ones only move `last_knock_time` (and the
        display name, when given). A decision taken meanwhile is kept."""
        event = events.participant_knocked(user_id, role, display_name)
        async with self._pool.acquire() as conn:
            status = await conn.execute(
                QUERIES["record_knock"],
                tenant,
                room_id,
                user_id,
                role.value,
                display_name,
                now,
                event.type.value,
                actor,
                event.data,
            )
            if status.endswith(" 1"):  # the first knock appended its event
                await notify_rooms(conn, tenant, [room_id])

    @translate_errors
    async def decide_knock(
        self,
        tenant: str,
        room_id: str,
        user_id: str,
        state: KnockState,
        chosen_role: Role | None,
        expected_revision: int | None,
        now: datetime,
        actor: str,
    ) -> tuple[Knock, int]:
        """Admit or deny an identity (knocked or not) under the room's row lock; a
        change bumps the room's revision and appends its event. Deciding again the
        same way changes nothing."""
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            row = await conn.fetchrow(
                QUERIES["decide_knock"],
                tenant,
                room_id,
                user_id,
            )
            if row is None:
                raise room_not_found(room_id)
            room = _room(row)
            if expected_revision is not None and expected_revision != room.revision:
                raise etag_mismatch(room_id, room.etag)
            rostered = _ROLE[row["p_role"]] if row["p_role"] is not None else None
            role = chosen_role or would_be_role(room, rostered)
            before = await conn.fetchrow(
                QUERIES["decide_knock_2"],
                tenant,
                room_id,
                user_id,
            )
            if (
                before is not None
                and before["state"] == state.value
                and before["role_chosen"] == (chosen_role is not None)
                and (chosen_role is None or before["role"] == chosen_role.value)
            ):
                return seats_sql.knock_of(before), room.revision
            after = await conn.fetchrow(
                QUERIES["decide_knock_3"],
                tenant,
                room_id,
                user_id,
                state.value,
                role.value if role is not None else None,
                chosen_role is not None,
                now,
            )
            assert after is not None  # an upsert always returns its row
            revision = await self._bump_revision(conn, tenant, room_id, now)
            if state is KnockState.DENIED:
                await bump_epochs(conn, tenant, room_id, [user_id])
            event = (
                events.participant_admitted(user_id, role)
                if state is KnockState.ADMITTED
                else events.participant_denied(user_id)
            )
            await append_events(tx, room_id, [event], actor, now)
        return seats_sql.knock_of(after), revision

    @translate_errors
    async def list_knocks(
        self,
        tenant: str,
        room_id: str,
        state: KnockState | None,
        after: Position | None,
        limit: int,
    ) -> tuple[list[Knock], int] | None:
        """A page of knocks by (sort_time, user_id), and the room's revision; None if
        the room does not exist."""
        rows = await self._pool.fetch(
            QUERIES["list_knocks"],
            tenant,
            room_id,
            state.value if state is not None else None,
            after[0] if after is not None else None,
            after[1] if after is not None else "",
            limit,
        )
        if not rows:
            return None
        knocks = [seats_sql.knock_of(row) for row in rows if row["user_id"] is not None]
        return knocks, rows[0]["room_revision"]

    @translate_errors
    async def claim_seat(
        self,
        tenant: str,
        room_id: str,
        user_id: str,
        role: Role,
        decided_at_revision: int,
        now: datetime,
        limits: Limits,
        actor: str,
    ) -> Seat | CapacityRefusal | None:
        """Take a seat for an allowed identity, or give back (and renew) its live one;
        None, taking nothing, if the room changed since the decision was read
        (`decided_at_revision`: a removal, a denial, new settings), so that the caller
        decides again.

        One transaction under the room's row lock, so the counts the capacity rules
        judge are exact whatever the number of replicas: expired seats are freed
        (SEAT_EXPIRED), the live ones counted per role, and the seat inserted
        (SEAT_TAKEN) only if `seats.check_capacity` lets it in."""
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room = await conn.fetchrow(
                QUERIES["claim_seat"],
                tenant,
                room_id,
            )
            if room is None or room["revision"] != decided_at_revision:
                return None
            history = await seats_sql.delete_expired(conn, tenant, room_id, now)
            expire_time = seat_expiry(now, room["valid_until"], limits)
            existing = await conn.fetchrow(
                QUERIES["claim_seat_2"],
                tenant,
                room_id,
                user_id,
                expire_time,
            )
            result: Seat | CapacityRefusal
            if existing is not None:
                result = seats_sql.seat_of(existing)
            else:
                taken = {
                    _ROLE[row["role"]]: row["count"]
                    for row in await conn.fetch(
                        QUERIES["claim_seat_3"],
                        tenant,
                        room_id,
                    )
                }
                refusal = check_capacity(
                    role,
                    taken,
                    room["max_participants"],
                    events.role_capacity_from(room["role_capacity"]),
                    limits,
                )
                if refusal is not None:
                    result = refusal
                else:
                    result = Seat(new_seat_id(), room_id, user_id, role, now, expire_time)
                    await conn.execute(
                        QUERIES["claim_seat_4"],
                        tenant,
                        result.seat_id,
                        room_id,
                        user_id,
                        role.value,
                        now,
                        expire_time,
                    )
                    history.append(events.seat_taken(result))
            if history:
                await append_events(tx, room_id, history, actor, now)
        return result

    @translate_errors
    async def renew_seat(
        self, tenant: str, seat_id: str, now: datetime, expire_time: datetime
    ) -> Seat | None:
        """Extend a live seat to `expire_time` (never past its room's `valid_until`);
        None when no live seat has this id. One statement, locking the seat only: a
        claim counting seats sees it either renewed or expired, never both."""
        row = await self._pool.fetchrow(
            QUERIES["renew_seat"],
            tenant,
            seat_id,
            now,
            expire_time,
        )
        return seats_sql.seat_of(row) if row is not None else None

    @translate_errors
    async def release_seat(self, tenant: str, seat_id: str, now: datetime, actor: str) -> None:
        """Free a seat (SEAT_RELEASED; SEAT_EXPIRED if it had already expired). A seat
        already gone is a success."""
        async with tenant_transaction(self._pool, tenant) as tx:
            conn = tx.conn
            room_id = await conn.fetchval(
                QUERIES["release_seat"],
                tenant,
                seat_id,
            )
            if room_id is None:
                return
            # The room's lock first, as a claim takes it: no deadlock between the two.
            live = await conn.fetchval(
                QUERIES["release_seat_2"],
                tenant,
                room_id,
            )
            if not live:  # a deleted room's seats went with it; nothing to announce
                return
            row = await conn.fetchrow(
                QUERIES["release_seat_3"],
                tenant,
                seat_id,
            )
            if row is None:
                return
            seat = seats_sql.seat_of(row)
            event = (
                events.seat_released(seat) if seat.expire_time > now else events.seat_expired(seat)
            )
            await append_events(tx, room_id, [event], actor, now)

    @translate_errors
    async def list_seats(
        self,
        tenant: str,
        room_id: str,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Seat] | None:
        """A page of the room's live seats by (create_time, seat_id); None if the room
        does not exist."""
        rows = await self._pool.fetch(
            QUERIES["list_seats"],
            tenant,
            room_id,
            now,
            after[0] if after is not None else None,
            after[1] if after is not None else "",
            limit,
        )
        if not rows:
            return None
        return [seats_sql.seat_of(row) for row in rows if row["seat_id"] is not None]
