"""The waiting room (knocks and decisions) and seats."""

from __future__ import annotations

from service.domain import rules
from service.domain.errors import (
    Violations,
    room_not_found,
    seat_not_found,
)
from service.domain.models import (
    Caller,
    Page,
    Role,
    etag_of,
    expected_version,
)
from service.domain.paging import by_time_and_key
from service.domain.ports import (
    Position,
)
from service.domain.seats import Seat, check_seat_id
from service.domain.waiting_room import (
    Knock,
    KnockState,
)
from service.usecases_base import UseCasesBase


class WaitingRoomUseCases(UseCasesBase):
    """The waiting room (knocks and decisions) and seats."""

    async def list_knocks(
        self,
        caller: Caller,
        room_id: str,
        page_size: int,
        page_token: str,
        state: KnockState | None,
    ) -> tuple[Page[Knock], str]:
        rules.require_room_id(room_id)
        version = 0

        async def fetch(after: Position | None, n: int) -> list[Knock] | None:
            nonlocal version
            found = await self._store.list_knocks(
                tenant=caller.tenant, room_id=room_id, state=state, after=after, limit=n
            )
            if found is None:
                return None
            rows, version = found
            return rows

        page = await self._pages.page(
            ["knocks", caller.tenant, room_id, state or ""],
            page_size,
            page_token,
            by_time_and_key(lambda knock: (knock.sort_time, knock.user_id)),
            fetch,
        )
        if page is None:
            raise room_not_found(room_id)
        return page, etag_of(version)

    async def decide_knock(
        self,
        caller: Caller,
        room_id: str,
        user_id: str,
        state: KnockState,
        role: Role | None,
        etag: str,
    ) -> tuple[Knock, str]:
        """Admit (`state` ADMITTED, with a chosen role or None) or deny an identity."""
        violations = Violations()
        rules.check_room_id(violations, "room_id", room_id)
        rules.check_user_id(violations, "user_id", user_id)
        rules.check_etag(violations, "etag", etag)
        violations.raise_if_any()
        knock, version = await self._store.decide_knock(
            tenant=caller.tenant,
            room_id=room_id,
            user_id=user_id,
            state=state,
            chosen_role=role,
            expected_version=expected_version(etag),
            now=self._clock.now(),
            actor=caller.key_name,
        )
        return knock, etag_of(version)

    async def renew_seat(self, caller: Caller, seat_id: str) -> Seat:
        violations = Violations()
        check_seat_id(violations, "seat_id", seat_id)
        violations.raise_if_any()
        now = self._clock.now()
        seat = await self._store.renew_seat(
            tenant=caller.tenant, seat_id=seat_id, now=now, expire_time=now + self._limits.seat_ttl
        )
        if seat is None:
            raise seat_not_found(seat_id)
        return seat

    async def release_seat(self, caller: Caller, seat_id: str) -> None:
        violations = Violations()
        check_seat_id(violations, "seat_id", seat_id)
        violations.raise_if_any()
        await self._store.release_seat(
            tenant=caller.tenant, seat_id=seat_id, now=self._clock.now(), actor=caller.key_name
        )

    async def list_seats(
        self, caller: Caller, room_id: str, page_size: int, page_token: str
    ) -> Page[Seat]:
        rules.require_room_id(room_id)
        now = self._clock.now()
        page = await self._pages.page(
            ["seats", caller.tenant, room_id],
            page_size,
            page_token,
            by_time_and_key(lambda seat: (seat.create_time, seat.seat_id)),
            lambda after, n: self._store.list_seats(
                tenant=caller.tenant, room_id=room_id, now=now, after=after, limit=n
            ),
        )
        if page is None:
            raise room_not_found(room_id)
        return page
