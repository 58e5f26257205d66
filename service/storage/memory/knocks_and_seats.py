"""The waiting room (knocks and decisions), seats and the facts of a join, in memory."""

from __future__ import annotations

from datetime import datetime

from service.domain import events
from service.domain.credentials import Removal
from service.domain.errors import stored_rule_broken
from service.domain.events import NewEvent
from service.domain.limits import Limits
from service.domain.models import Participant, Role, Room, RoomState
from service.domain.ports import Position
from service.domain.seats import CapacityRefusal, Seat, check_capacity, seat_expiry
from service.domain.waiting_room import Knock, KnockState, plan_decision, would_be_role
from service.storage.memory.tables import MemoryTables, RoomRows, stored


class MemoryKnocksAndSeats(MemoryTables):
    """The waiting room (knocks and decisions), seats and the facts of a join."""

    async def get_join_facts(
        self, *, tenant: str, room_id: str, user_id: str
    ) -> tuple[Room | None, Participant | None, Knock | None, Removal | None, int]:
        rows = self._live(tenant, room_id)
        if rows is None:
            return None, None, None, None, 0
        return (
            rows.room,
            rows.participants.get(user_id),
            rows.knocks.get(user_id),
            rows.removals.get(user_id),
            rows.epochs.get(user_id, 0),
        )

    async def record_janus_admission(
        self, *, tenant: str, room_id: str, user_id: str, version: int, now: datetime
    ) -> bool:
        # What PostgreSQL also records (the admission's time) only the Janus control
        # plane reads, which is not a RoomStore method: here the answer is all there is.
        rows = self._live(tenant, room_id)
        return (
            rows is not None
            and rows.room.version == version
            and rows.announced is not RoomState.ENDED
        )

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
        rows = self._any(tenant, room_id)
        if rows is None:  # as the knocks' foreign key refuses it
            raise stored_rule_broken("knocks_room_fkey")
        at = stored(now)
        before = rows.knocks.get(user_id)
        if before is None:
            rows.knocks[user_id] = Knock(
                user_id, KnockState.WAITING, role, False, display_name, at, at, None, at
            )
            event = events.participant_knocked(user_id, role, display_name)
            self._append(tenant, rows, [event], actor, now)
            return
        # Later knocks move the last knock time (and the name, when given); a decision
        # taken meanwhile, and a role a host chose, are kept.
        rows.knocks[user_id] = Knock(
            user_id,
            before.state,
            before.role if before.role_chosen else role,
            before.role_chosen,
            display_name if display_name is not None else before.display_name,
            before.first_knock_time or at,
            at,
            before.decide_time,
            before.sort_time,
        )

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
        rows = self._locked(tenant, room_id, expected_version)
        rostered = rows.participants.get(user_id)
        before = rows.knocks.get(user_id)
        plan = plan_decision(
            user_id,
            before,
            state,
            chosen_role,
            would_be_role(rows.room, rostered.role if rostered else None),
        )
        if plan is None:
            assert before is not None  # only a decision already made is unchanged
            return before, rows.room.version
        at = stored(now)
        after = rows.knocks[user_id] = Knock(
            user_id,
            state,
            plan.role,
            plan.role_chosen,
            before.display_name if before else None,
            before.first_knock_time if before else None,
            before.last_knock_time if before else None,
            at,
            before.sort_time if before else at,
        )
        version = self._bump(rows, now)
        if plan.new_epoch:
            self._bump_epochs(rows, [user_id])
        self._append(tenant, rows, [plan.event], actor, now)
        return after, version

    async def list_knocks(
        self,
        *,
        tenant: str,
        room_id: str,
        state: KnockState | None,
        after: Position | None,
        limit: int,
    ) -> tuple[list[Knock], int] | None:
        rows = self._live(tenant, room_id)
        if rows is None:
            return None
        found = sorted(
            (
                k
                for k in rows.knocks.values()
                if (state is None or k.state is state)
                and (after is None or (k.sort_time, k.user_id) > after)
            ),
            key=lambda k: (k.sort_time, k.user_id),
        )
        return found[:limit], rows.room.version

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
        rows = self._live(tenant, room_id)
        if rows is None or rows.room.version != decided_at_version:
            return None
        history = self._expire_seats(tenant, rows, now)
        expire_time = stored(seat_expiry(now, rows.room.window(now)[1], limits))
        result: Seat | CapacityRefusal
        existing = rows.seats.get(user_id)
        if existing is not None:
            result = rows.seats[user_id] = Seat(
                existing.seat_id,
                room_id,
                user_id,
                existing.role,
                existing.create_time,
                expire_time,
            )
        else:
            taken: dict[Role, int] = {}
            for seat in rows.seats.values():
                taken[seat.role] = taken.get(seat.role, 0) + 1
            refusal = check_capacity(
                role, taken, rows.room.max_participants, rows.room.role_capacity, limits
            )
            if refusal is not None:
                result = refusal
            else:
                result = Seat(self._seat_ids(), room_id, user_id, role, stored(now), expire_time)
                rows.seats[user_id] = result
                self._seat_rooms[tenant, result.seat_id] = room_id
                history.append(events.seat_taken(result))
        if history:
            self._append(tenant, rows, history, actor, now)
        return result

    def _expire_seats(self, tenant: str, rows: RoomRows, now: datetime) -> list[NewEvent]:
        """Free the room's seats expired by `now`; their SEAT_EXPIRED events."""
        expired = sorted(
            (seat for seat in rows.seats.values() if seat.expire_time <= now),
            key=lambda s: (s.expire_time, s.seat_id),
        )
        for seat in expired:
            self._free_seat(tenant, rows, seat)
        return [events.seat_expired(seat) for seat in expired]

    async def renew_seat(
        self, *, tenant: str, seat_id: str, now: datetime, expire_time: datetime
    ) -> Seat | None:
        found = self._seat(tenant, seat_id)
        if found is None:
            return None
        rows, seat = found
        if seat.expire_time <= now or not rows.live:
            return None
        renewed = rows.seats[seat.user_id] = Seat(
            seat.seat_id,
            seat.room_id,
            seat.user_id,
            seat.role,
            seat.create_time,
            stored(min(expire_time, rows.room.occurrences()[-1].end)),
        )
        return renewed

    async def release_seat(self, *, tenant: str, seat_id: str, now: datetime, actor: str) -> None:
        found = self._seat(tenant, seat_id)
        if found is None:
            return
        rows, seat = found
        if not rows.live:  # a deleted room's seats went with it; nothing to announce
            return
        self._free_seat(tenant, rows, seat)
        event = events.seat_released(seat) if seat.expire_time > now else events.seat_expired(seat)
        self._append(tenant, rows, [event], actor, now)

    def _seat(self, tenant: str, seat_id: str) -> tuple[RoomRows, Seat] | None:
        room_id = self._seat_rooms.get((tenant, seat_id))
        rows = self._any(tenant, room_id) if room_id is not None else None
        if rows is None:
            return None
        return rows, next(s for s in rows.seats.values() if s.seat_id == seat_id)

    async def list_seats(
        self,
        *,
        tenant: str,
        room_id: str,
        now: datetime,
        after: Position | None,
        limit: int,
    ) -> list[Seat] | None:
        rows = self._live(tenant, room_id)
        if rows is None:
            return None
        found = sorted(
            (
                s
                for s in rows.seats.values()
                if s.expire_time > now and (after is None or (s.create_time, s.seat_id) > after)
            ),
            key=lambda s: (s.create_time, s.seat_id),
        )
        return found[:limit]
