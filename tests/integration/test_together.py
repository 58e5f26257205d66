"""Writes of one room that go together (service/storage/together.py): a process's
claims queued behind the statement in flight go as one `claim_seats_together`, its
knock decisions as one transaction, and each caller still gets its own answer, as if
each had had the room's lock to itself in arrival order."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.limits import Limits
from service.domain.models import Role, RoleCapacity
from service.domain.seats import CapacityLimit, CapacityRefusal, Seat
from service.domain.waiting_room import KnockState
from service.storage import claims
from service.storage import seats as seats_sql
from service.storage.repository import PgRoomStore
from service.storage.together import RoomKey, Together
from tests.conftest import T0
from tests.contract.conftest import new_room
from tests.integration.test_seat_counts import counted
from tests.shared.calls import unique

LIMITS = Limits()


async def test_queued_requests_go_together_each_identity_once() -> None:
    """The first request runs alone; those queued meanwhile go as one batch, a second
    request of one identity waits for the next, and each caller gets its own answer
    (or its own exception)."""
    batches: list[list[str]] = []

    async def run(key: RoomKey, batch: list[str]) -> list[str | Exception]:
        batches.append(batch)
        await asyncio.sleep(0.01)
        return [ValueError(user) if user == "bad" else f"{key[1]}:{user}" for user in batch]

    together: Together[str, str] = Together(run, lambda user: user, limit=3)
    first = asyncio.ensure_future(together.ask(("t", "r"), "a"))
    await asyncio.sleep(0)  # "a" is in flight
    rest = [together.ask(("t", "r"), user) for user in ("b", "c", "b", "bad", "d")]
    answers = await asyncio.gather(first, *rest, return_exceptions=True)
    assert answers[:4] == ["r:a", "r:b", "r:c", "r:b"]
    assert isinstance(answers[4], ValueError) and answers[5] == "r:d"
    assert batches == [["a"], ["b", "c", "bad"], ["b", "d"]]


@pytest.mark.skipif(
    os.environ.get("ROOMS_TEST_CITUS") == "1",
    reason="on Citus every claim takes the transaction (docs/decisions/citus.md)",
)
async def test_claims_that_go_together_get_the_seats_and_refusals_of_arrival_order(
    pool: asyncpg.Pool,
) -> None:
    """30 attendees then 3 presenters at once, in a room of 10 seats with 2 reserved
    for presenters: 8 attendees seated, 22 refused for the reservation, 2 presenters
    seated and the third refused for the room's seats; an identity asking twice gets
    its one seat twice; counters, seats and SEAT_TAKEN events agree."""
    store, tenant = PgRoomStore(pool), unique("together")
    room = new_room(
        "r1",
        valid_until=T0 + LIMITS.seat_ttl * 10,
        max_participants=10,
        role_capacity=(RoleCapacity(Role.PRESENTER, 0, 2),),
    )
    await store.create_room(
        tenant=tenant, room=room, roster=(), now=T0, idempotency_key="", request_hash="h",
        actor="test",
    )  # fmt: skip
    version: int = await pool.fetchval("SELECT version FROM rooms WHERE tenant = $1", tenant)

    async def claim(user: str, role: Role) -> Seat | CapacityRefusal | None:
        request = seats_sql.SeatClaim(tenant, "r1", user, role, version, T0, LIMITS, "test")
        return await claims.claim(pool, request)

    people = [(f"a{i:02}", Role.ATTENDEE) for i in range(30)]
    people += [(f"p{i}", Role.PRESENTER) for i in range(3)] + [("a00", Role.ATTENDEE)]
    answers = await asyncio.gather(*(claim(user, role) for user, role in people))
    seated = [a for a in answers if isinstance(a, Seat)]
    assert [a.user_id for a in seated[:8]] == [f"a{i:02}" for i in range(8)]
    assert [a.user_id for a in seated[8:]] == ["p0", "p1", "a00"]
    assert seated[0] == seated[-1]  # the same seat, given back
    limits = [a.limit for a in answers if isinstance(a, CapacityRefusal)]
    assert limits == [CapacityLimit.RESERVED] * 22 + [CapacityLimit.ROOM]
    assert await counted(pool, tenant) == ({"attendee": 8, "presenter": 2},) * 2
    taken = await pool.fetch(
        """SELECT revision, data->>'user_id' AS user_id FROM room_events
           WHERE tenant = $1 AND type = 'seat_taken' ORDER BY revision""",
        tenant,
    )
    assert [row["user_id"] for row in taken] == [f"a{i:02}" for i in range(8)] + ["p0", "p1"]
    revisions = [row["revision"] for row in taken]
    assert revisions == list(range(revisions[0], revisions[0] + 10))


async def test_decisions_that_go_together_each_move_the_version_once(
    pool: asyncpg.Pool,
) -> None:
    """20 admits at once: each answers its own version, the room moves by 20, its
    knock run names them in order (a claim decided before them still holds), an
    etag read before them no longer matches, and deciding again changes nothing."""
    store, tenant = PgRoomStore(pool), unique("decisions")
    await store.create_room(
        tenant=tenant, room=new_room("r1", waiting_room_enabled=True), roster=(), now=T0,
        idempotency_key="", request_hash="h", actor="test",
    )  # fmt: skip
    base: int = await pool.fetchval("SELECT version FROM rooms WHERE tenant = $1", tenant)

    async def decide(user: str, expected: int | None = None) -> object:
        try:
            return await store.decide_knock(
                tenant=tenant, room_id="r1", user_id=user, state=KnockState.ADMITTED,
                chosen_role=None, expected_version=expected, now=T0, actor="host",
            )  # fmt: skip
        except DomainError as error:
            return error.reason

    users = [f"g{i:02}" for i in range(20)]
    answers = await asyncio.gather(
        decide(users[0], base), *(decide(u) for u in users[1:]), decide("late", base)
    )
    assert [a[1] for a in answers[:20]] == list(range(base + 1, base + 21))  # type: ignore[index]
    assert all(a[0].state is KnockState.ADMITTED for a in answers[:20])  # type: ignore[index]
    assert answers[20] == ErrorReason.ETAG_MISMATCH
    room = await pool.fetchrow(
        "SELECT version, knock_run_version, knock_run_users FROM rooms WHERE tenant = $1",
        tenant,
    )
    assert room is not None
    assert (room["version"], room["knock_run_version"]) == (base + 20, base + 20)
    assert room["knock_run_users"][-20:] == users
    admitted = await pool.fetch(
        """SELECT data->>'user_id' AS user_id FROM room_events
           WHERE tenant = $1 AND type = 'participant_admitted' ORDER BY revision""",
        tenant,
    )
    assert [row["user_id"] for row in admitted] == users
    request = seats_sql.SeatClaim(tenant, "r1", "other", Role.ATTENDEE, base, T0, LIMITS, "t")
    assert isinstance(await claims.claim(pool, request), Seat)
    again = await decide(users[3])
    assert again[1] == base + 20  # type: ignore[index]
