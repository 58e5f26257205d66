"""Seats: renewed, released and listed (AuthorizeJoin claims them, see admission.py)."""

from __future__ import annotations

from dataclasses import dataclass

from service.domain import rules
from service.domain.errors import Violations, room_not_found, seat_not_found
from service.domain.models import Caller, Page
from service.domain.paging import by_time_and_key
from service.domain.seats import Seat, check_seat_id
from service.usecases.deps import Deps


@dataclass(frozen=True, slots=True)
class SeatUseCases:
    """RenewSeat, ReleaseSeat and ListSeats."""

    deps: Deps

    async def renew_seat(self, caller: Caller, seat_id: str) -> Seat:
        violations = Violations()
        check_seat_id(violations, "seat_id", seat_id)
        violations.raise_if_any()
        now = self.deps.clock.now()
        seat = await self.deps.store.renew_seat(
            tenant=caller.tenant,
            seat_id=seat_id,
            now=now,
            expire_time=now + self.deps.limits.seat_ttl,
        )
        if seat is None:
            raise seat_not_found(seat_id)
        return seat

    async def release_seat(self, caller: Caller, seat_id: str) -> None:
        violations = Violations()
        check_seat_id(violations, "seat_id", seat_id)
        violations.raise_if_any()
        await self.deps.store.release_seat(
            tenant=caller.tenant, seat_id=seat_id, now=self.deps.clock.now(), actor=caller.key_name
        )

    async def list_seats(
        self, caller: Caller, room_id: str, page_size: int, page_token: str
    ) -> Page[Seat]:
        rules.require_room_id(room_id)
        now = self.deps.clock.now()
        page = await self.deps.pages.page(
            ["seats", caller.tenant, room_id],
            page_size,
            page_token,
            by_time_and_key(lambda seat: (seat.create_time, seat.seat_id)),
            lambda after, n: self.deps.store.list_seats(
                tenant=caller.tenant, room_id=room_id, now=now, after=after, limit=n
            ),
        )
        if page is None:
            raise room_not_found(room_id)
        return page
