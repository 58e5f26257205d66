"""`seat_counts` (what a claim reads instead of counting seats) stays equal to the
seats themselves through every path that takes or frees one: claims, a seat given
back, release, expiry (by a claim and by the lifecycle), removal and room deletion."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from service.domain.limits import Limits
from service.domain.models import Role, RoleCapacity, RosterEntry
from service.domain.seats import CapacityRefusal, Seat
from service.domain.waiting_room import KnockState
from service.storage import claims
from service.storage import seats as seats_sql
from service.storage.repository import PgRoomStore
from tests.conftest import T0
from tests.contract.conftest import new_room
from tests.shared.calls import unique

LIMITS = Limits()
TTL = LIMITS.seat_ttl


async def counted(pool: asyncpg.Pool, tenant: str) -> tuple[dict[str, int], dict[str, int]]:
    """The counters, and the seats counted: (seat_counts, count(*) per role)."""
    counters = await pool.fetch(
        "SELECT role, taken FROM seat_counts WHERE tenant = $1 AND taken > 0", tenant
    )
    seats = await pool.fetch(
        "SELECT role, count(*) AS n FROM seats WHERE tenant = $1 GROUP BY role", tenant
    )
    return {r["role"]: r["taken"] for r in counters}, {r["role"]: r["n"] for r in seats}


async def test_counts_follow_every_seat_taken_and_freed(pool: asyncpg.Pool) -> None:
    store, tenant = PgRoomStore(pool), unique("counts")
    roster = [RosterEntry("host", Role.PRESENTER), RosterEntry("gone", Role.ATTENDEE)]
    await store.create_room(
        tenant=tenant,
        room=new_room(
            "r1", max_participants=4, role_capacity=(RoleCapacity(Role.PRESENTER, 0, 1),)
        ),
        roster=roster,
        now=T0,
        idempotency_key="",
        request_hash="h",
        actor="test",
    )

    async def claim(user: str, role: Role = Role.ATTENDEE, at: timedelta = timedelta(0)) -> object:
        version = await pool.fetchval(
            "SELECT version FROM rooms WHERE tenant = $1 AND room_id = 'r1'", tenant
        )
        return await store.claim_seat(
            tenant=tenant, room_id="r1", user_id=user, role=role,
            decided_at_version=version, now=T0 + at, limits=LIMITS, actor="test",
        )  # fmt: skip

    async def exact(expected: dict[str, int]) -> None:
        counters, seats = await counted(pool, tenant)
        assert counters == seats == expected

    first = await claim("gone")
    assert isinstance(first, Seat)
    assert isinstance(await claim("a"), Seat)
    assert isinstance(await claim("b"), Seat)
    # The fourth seat is the presenter's: an attendee is refused, the host is not.
    assert isinstance(await claim("c"), CapacityRefusal)
    again = await claim("a")  # given back, not counted twice
    assert isinstance(again, Seat)
    await exact({"attendee": 3})
    assert isinstance(await claim("host", Role.PRESENTER), Seat)
    await exact({"attendee": 3, "presenter": 1})
    # Given back even when the room is full.
    assert isinstance(await claim("b"), Seat)
    await exact({"attendee": 3, "presenter": 1})

    await store.release_seat(tenant=tenant, seat_id=first.seat_id, now=T0, actor="test")
    await store.release_seat(tenant=tenant, seat_id=first.seat_id, now=T0, actor="test")
    await exact({"attendee": 2, "presenter": 1})

    # Renewed at TTL/2, "a" outlives the others: a claim after they expire frees them.
    await store.renew_seat(tenant=tenant, seat_id=again.seat_id, now=T0, expire_time=T0 + 2 * TTL)
    assert isinstance(await claim("d", at=TTL), Seat)
    await exact({"attendee": 2})

    assert isinstance(await claim("gone", at=TTL), Seat)
    await store.remove_participants(
        tenant=tenant, room_id="r1", user_ids=["gone"], expected_version=None,
        now=T0 + TTL, actor="test",
    )  # fmt: skip
    await exact({"attendee": 2})

    # The lifecycle's expiry.
    assert await seats_sql.expire_room_seats(pool, tenant, "r1", T0 + 3 * TTL) == 2
    await exact({})
    assert isinstance(await claim("e", at=3 * TTL), Seat)
    await exact({"attendee": 1})
    await store.delete_room(
        tenant=tenant, room_id="r1", expected_version=None, now=T0 + 3 * TTL, actor="test"
    )
    await exact({})


async def test_a_claim_holds_through_knock_decisions_about_others(pool: asyncpg.Pool) -> None:
    """Admitting others moves the room's version; a claim decided before still holds
    (both ways of claiming), unless the decision was about the claimant, or anything
    else changed the room since."""
    store, tenant = PgRoomStore(pool), unique("knockrun")
    await store.create_room(
        tenant=tenant, room=new_room("r1", max_participants=10), roster=(), now=T0,
        idempotency_key="", request_hash="h", actor="test",
    )  # fmt: skip

    async def version() -> int:
        found: int = await pool.fetchval(
            "SELECT version FROM rooms WHERE tenant = $1 AND room_id = 'r1'", tenant
        )
        return found

    async def decide(user: str, state: KnockState) -> None:
        await store.decide_knock(
            tenant=tenant, room_id="r1", user_id=user, state=state, chosen_role=None,
            expected_version=None, now=T0, actor="host",
        )  # fmt: skip

    async def claim(user: str, decided: int, at_once: bool = True) -> object:
        take = claims.claim if at_once else seats_sql.claim_in_transaction
        request = seats_sql.SeatClaim(
            tenant, "r1", user, Role.ATTENDEE, decided, T0, LIMITS, "test"
        )
        return await take(pool, request)

    decided = await version()
    for other in ("g1", "g2", "g3"):
        await decide(other, KnockState.ADMITTED)
    assert await version() == decided + 3
    assert isinstance(await claim("a", decided), Seat)
    assert isinstance(await claim("b", decided, at_once=False), Seat)
    # A decision about the claimant itself since: decide again.
    await decide("c", KnockState.DENIED)
    assert await claim("c", decided) is None
    assert await claim("c", decided, at_once=False) is None
    # Any other change since (here the roster) ends the run: decide again.
    before_roster = await version()
    await store.upsert_participants(
        tenant=tenant, room_id="r1", roster=[RosterEntry("x", Role.ATTENDEE)],
        expected_version=None, max_roster_size=100, now=T0, actor="host",
    )  # fmt: skip
    assert await claim("d", before_roster) is None
    assert await claim("d", before_roster, at_once=False) is None
    assert isinstance(await claim("d", await version()), Seat)
