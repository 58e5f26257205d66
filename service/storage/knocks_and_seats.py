"""The waiting room (knocks and decisions), seats and the facts of a join."""

from __future__ import annotations

from datetime import datetime

from service.domain import events
from service.domain.credentials import Removal
from service.domain.limits import Limits
from service.domain.models import (
    Participant,
    Role,
    Room,
)
from service.domain.ports import Position
from service.domain.seats import CapacityRefusal, Seat
from service.domain.waiting_room import Knock, KnockState
from service.storage import claims, decisions
from service.storage import seats as seats_sql
from service.storage.base import (
    StoreBase,
    participant_of,
    room_of,
    translate_errors,
)
from service.storage.decisions import KnockDecision
from service.storage.history import append_events
from service.storage.notify import notify_rooms
from service.storage.queries import QUERIES
from service.storage.transaction import tenant_transaction


class KnocksAndSeatsStore(StoreBase):
    """The waiting room (knocks and decisions), seats and the facts of a join."""

    async def get_join_facts(
        self, *, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None, Knock | None, Removal | None, int]:
        """The room, the identity's roster entry, its knock, its last removal (or ban)
        and its membership epoch: one round trip by primary keys, the hot path of
        AuthorizeJoin and of IntrospectCredential, coalesced with the other reads of
        this event-loop turn (service/storage/reads.py); read-your-writes holds."""
        row = await self._reads.join_facts(tenant, room_id, user_id)
        if row is None:
            return None, None, None, None, 0
        participant = participant_of(row, "p_") if row["p_user_id"] is not None else None
        knock = seats_sql.knock_of(row, "k_") if row["k_user_id"] is not None else None
        removal = (
            Removal(row["x_version"], row["x_banned"]) if row["x_version"] is not None else None
        )
        return room_of(row), participant, knock, removal, row["m_epoch"] or 0

    @translate_errors
    async def record_janus_admission(
        self, *, tenant: str, room_id: str, user_id: str, version: int, now: datetime
    ) -> bool:
        """Note a Janus credential issued at the identity's current epoch, if the room
        is still at `version`, live and not announced ended (one statement; a bump of
        the epoch bumps the version too, so the epoch is the one the decision saw)."""
        async with tenant_transaction(self._pool, tenant) as tx:
            written = await tx.conn.fetchval(
                QUERIES["record_janus_admission"],
                tenant,
                room_id,
                user_id,
                version,
                now,
            )
        return bool(written)

    @translate_errors
    async def record_knock(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        role: Role,
        display_name: str | None,
        now: datetime,
        actor: str,
    ) -> None:
        """Record a knock in one statement: the first knock inserts the record and
        appends PARTICIPANT_KNOCKED (due at the tenant's destinations); later ones only
        move `last_knock_time` (and the display name, when given). A decision taken
        meanwhile is kept."""
        event = events.participant_knocked(user_id, role, display_name)
        async with self._pool.acquire() as conn:
            appended = await conn.fetchval(
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
            if appended:  # the first knock appended its event
                await notify_rooms(conn, tenant, [room_id])

    @translate_errors
    async def decide_knock(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        state: KnockState,
        chosen_role: Role | None,
        expected_version: int | None,
        now: datetime,
        actor: str,
    ) -> tuple[Knock, int]:
        """Admit or deny an identity (knocked or not) under the room's row lock; a
        change bumps the room's version and appends its event. Deciding again the
        same way changes nothing. This process's decisions about one room queued
        behind the one in flight are written together (`service/storage/decisions.py`)."""
        decision = KnockDecision(
            user_id, state, chosen_role, expected_version, now, actor, self._pool
        )
        return await decisions.decide(tenant, room_id, decision)

    @translate_errors
    async def list_knocks(
        self,
        *,
        tenant: str,
        room_id: str,
        state: KnockState | None,
        after: Position | None,
        limit: int,
    ) -> tuple[list[Knock], int] | None:
        """A page of knocks by (sort_time, user_id), and the room's version; None if
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
        return knocks, rows[0]["room_version"]

    @translate_errors
    async def claim_seat(
        self,
        *,
        tenant: str,
        room_id: str,
        user_id: str,
        role: Role,
        decided_at_version: int,
        now: datetime,
        limits: Limits,
        actor: str,
    ) -> Seat | CapacityRefusal | None:
        """Take a seat for an allowed identity, or give back (and renew) its live one;
        None, taking nothing, if the room changed since the decision was read
        (`decided_at_version`: a removal, a denial, new settings), so that the caller
        decides again. The transaction: `seats.claim` (service/storage/seats.py)."""
        request = seats_sql.SeatClaim(
            tenant, room_id, user_id, role, decided_at_version, now, limits, actor
        )
        return await claims.claim(self._pool, request)

    @translate_errors
    async def renew_seat(
        self, *, tenant: str, seat_id: str, now: datetime, expire_time: datetime
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
    async def release_seat(self, *, tenant: str, seat_id: str, now: datetime, actor: str) -> None:
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
                QUERIES["lock_room_if_live"],
                tenant,
                room_id,
            )
            if not live:  # a deleted room's seats went with it; nothing to announce
                return
            row = await conn.fetchrow(
                QUERIES["delete_seat"],
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
        *,
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
