"""The capacity rules live twice: in the domain (`seats.check_capacity`, the definition)
and in `claim_seats_together`'s SQL, which applies them to a batch of claims in one
statement. Here a batch of claims in a room of each shape gets exactly the outcomes the
domain's rules give when applied to the same claims one at a time in arrival order."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from service.domain.limits import Limits
from service.domain.models import Role, RoleCapacity
from service.domain.seats import CapacityLimit, CapacityRefusal, Seat, check_capacity
from service.storage import claims
from service.storage import seats as seats_sql
from service.storage.repository import PgRoomStore
from tests.conftest import T0
from tests.contract.conftest import new_room
from tests.shared.calls import unique

LIMITS = Limits()
A, P, C, N = Role.ATTENDEE, Role.PRESENTER, Role.COLLABORATOR, Role.CONSUMER

# (max_participants, role_capacity, the claims' roles in arrival order)
SHAPES = {
    "a role's own maximum": (6, (RoleCapacity(A, 3, 0), RoleCapacity(P, 0, 1)), [A] * 5 + [P] * 3),
    "the room's seats only": (4, (), [A, P, N, A, C, A, P]),
    "two reservations": (
        6,
        (RoleCapacity(P, 0, 2), RoleCapacity(C, 1, 1)),
        [A] * 4 + [C, C] + [P] * 3,
    ),
    "a reservation filled first": (5, (RoleCapacity(P, 2, 2),), [P, P, P] + [A] * 4),
}


def expected(
    max_participants: int, role_capacity: tuple[RoleCapacity, ...], roles: list[Role]
) -> list[CapacityLimit | None]:
    """The domain's answer to each claim, applied one at a time in order."""
    taken: dict[Role, int] = {}
    outcomes: list[CapacityLimit | None] = []
    for role in roles:
        refusal = check_capacity(role, taken, max_participants, role_capacity, LIMITS)
        if refusal is None:
            taken[role] = taken.get(role, 0) + 1
        outcomes.append(None if refusal is None else refusal.limit)
    return outcomes


@pytest.mark.skipif(
    os.environ.get("ROOMS_TEST_CITUS") == "1",
    reason="on Citus every claim takes the transaction (docs/decisions/citus.md)",
)
@pytest.mark.parametrize("shape", list(SHAPES))
async def test_a_batch_of_claims_gets_what_the_domains_rules_give_in_order(
    pool: asyncpg.Pool, shape: str
) -> None:
    max_participants, role_capacity, roles = SHAPES[shape]
    store, tenant = PgRoomStore(pool), unique("rules")
    room = new_room(
        "r1",
        valid_until=T0 + LIMITS.seat_ttl * 10,
        max_participants=max_participants,
        role_capacity=role_capacity,
    )
    await store.create_room(
        tenant=tenant, room=room, roster=(), now=T0, idempotency_key="", request_hash="h",
        actor="test",
    )  # fmt: skip
    version: int = await pool.fetchval("SELECT version FROM rooms WHERE tenant = $1", tenant)

    async def claim(index: int, role: Role) -> Seat | CapacityRefusal | None:
        request = seats_sql.SeatClaim(
            tenant, "r1", f"u{index:02}", role, version, T0, LIMITS, "test"
        )
        return await claims.claim(pool, request)

    answers = await asyncio.gather(*(claim(i, role) for i, role in enumerate(roles)))
    assert all(answer is not None for answer in answers)
    got = [answer.limit if isinstance(answer, CapacityRefusal) else None for answer in answers]
    assert got == expected(max_participants, role_capacity, roles)
    # Not vacuous: every shape both seats and refuses.
    assert None in got and any(limit is not None for limit in got)
