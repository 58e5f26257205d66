"""The waiting room: knocks, and the decisions on them."""

from __future__ import annotations

from dataclasses import dataclass

from service.domain import rules
from service.domain.errors import Violations, room_not_found
from service.domain.models import Caller, Page, Role, etag_of, expected_version
from service.domain.paging import by_time_and_key
from service.domain.ports import Position
from service.domain.waiting_room import Knock, KnockState
from service.usecases.deps import Deps


@dataclass(frozen=True, slots=True)
class WaitingRoomUseCases:
    """ListKnocks, AdmitParticipant and DenyParticipant."""

    deps: Deps

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
            found = await self.deps.store.list_knocks(
                tenant=caller.tenant, room_id=room_id, state=state, after=after, limit=n
            )
            if found is None:
                return None
            rows, version = found
            return rows

        page = await self.deps.pages.page(
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
        knock, version = await self.deps.store.decide_knock(
            tenant=caller.tenant,
            room_id=room_id,
            user_id=user_id,
            state=state,
            chosen_role=role,
            expected_version=expected_version(etag),
            now=self.deps.clock.now(),
            actor=caller.key_name,
        )
        return knock, etag_of(version)
