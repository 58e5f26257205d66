"""The contract of seats: claims within the capacity rules (room, role, reservations),
a seat given back, the version check, expiry, renewal, release and the list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from service.domain.events import EventType
from service.domain.models import Role, RoleCapacity, RosterEntry
from service.domain.seats import CapacityLimit, CapacityRefusal, Seat
from tests.conftest import T0
from tests.contract.conftest import ACTOR, LIMITS, Subject

SECOND = timedelta(seconds=1)
TTL = LIMITS.seat_ttl


async def claim(
    subject: Subject,
    user_id: str,
    role: Role = Role.ATTENDEE,
    at: timedelta = timedelta(0),
    version: int = 1,
    room_id: str = "r1",
) -> Seat | CapacityRefusal | None:
    return await subject.store.claim_seat(
        tenant=subject.tenant,
        room_id=room_id,
        user_id=user_id,
        role=role,
        decided_at_version=version,
        now=T0 + at,
        limits=LIMITS,
        actor=ACTOR,
    )


async def seat(subject: Subject, user_id: str, **kwargs: object) -> Seat:
    taken = await claim(subject, user_id, **kwargs)  # type: ignore[arg-type]
    assert isinstance(taken, Seat), taken
    return taken


async def seat_events(subject: Subject, after: int = 0) -> list[tuple[EventType, str]]:
    found = await subject.store.read_events(
        tenant=subject.tenant, room_id="r1", after=after, limit=100
    )
    return [(e.type, e.seat.seat_id) for e in found if e.seat is not None]


async def listed(subject: Subject, at: timedelta = timedelta(0), **kwargs: Any) -> list[str] | None:
    arguments: dict[str, Any] = {"after": None, "limit": 10}
    arguments.update(kwargs)
    found = await subject.store.list_seats(
        tenant=subject.tenant, room_id="r1", now=T0 + at, **arguments
    )
    return None if found is None else [s.user_id for s in found]


async def test_claims_fill_the_room_and_give_a_seat_back(subject: Subject) -> None:
    await subject.create("r1", max_participants=2)
    amy = await seat(subject, "amy")
    assert (amy.room_id, amy.user_id, amy.role) == ("r1", "amy", Role.ATTENDEE)
    assert (amy.create_time, amy.expire_time) == (T0, T0 + TTL)
    # The same identity gets its seat back, renewed, with the role it was taken with.
    again = await seat(subject, "amy", role=Role.PRESENTER, at=10 * SECOND)
    assert again == Seat(amy.seat_id, "r1", "amy", Role.ATTENDEE, T0, T0 + 10 * SECOND + TTL)
    bob = await seat(subject, "bob")
    full = await claim(subject, "cat")
    assert isinstance(full, CapacityRefusal)
    assert (full.limit, full.capacity) == (CapacityLimit.ROOM, 2)
    assert await seat_events(subject) == [
        (EventType.SEAT_TAKEN, amy.seat_id),
        (EventType.SEAT_TAKEN, bob.seat_id),
    ]
    room = await subject.store.get_room(tenant=subject.tenant, room_id="r1")
    # Seats number events but leave the version (the etag) alone.
    assert room is not None and (room.version, room.last_event_revision) == (1, 3)


async def test_role_maximums_and_reservations(subject: Subject) -> None:
    capacity = (RoleCapacity(Role.PRESENTER, max_participants=1, reserved=1),)
    await subject.create("r1", max_participants=3, role_capacity=capacity)
    await seat(subject, "a1")
    await seat(subject, "a2")
    reserved = await claim(subject, "a3")
    assert isinstance(reserved, CapacityRefusal)
    assert (reserved.limit, reserved.capacity) == (CapacityLimit.RESERVED, 2)
    await seat(subject, "p1", role=Role.PRESENTER)
    role = await claim(subject, "p2", role=Role.PRESENTER)
    assert isinstance(role, CapacityRefusal)
    assert (role.limit, role.capacity) == (CapacityLimit.ROLE, 1)


async def test_a_claim_needs_the_room_at_the_decisions_version(subject: Subject) -> None:
    await subject.create("r1", [RosterEntry("amy")])
    assert await claim(subject, "amy", version=2) is None
    assert await claim(subject, "amy", room_id="nope") is None
    await subject.store.delete_room(
        tenant=subject.tenant, room_id="r1", expected_version=1, now=T0, actor=ACTOR
    )
    assert await claim(subject, "amy", version=1) is None
    assert await claim(subject, "amy", version=2) is None
    assert await seat_events(subject) == []


async def test_expired_seats_are_freed_by_the_next_claim(subject: Subject) -> None:
    await subject.create("r1", max_participants=2)
    amy = await seat(subject, "amy")
    bob = await seat(subject, "bob", at=SECOND)
    assert await listed(subject, at=TTL) == ["bob"]  # amy's seat counts no more...
    cat = await seat(subject, "cat", at=TTL + 2 * SECOND)  # ...and both are freed here
    assert await seat_events(subject) == [
        (EventType.SEAT_TAKEN, amy.seat_id),
        (EventType.SEAT_TAKEN, bob.seat_id),
        (EventType.SEAT_EXPIRED, amy.seat_id),
        (EventType.SEAT_EXPIRED, bob.seat_id),
        (EventType.SEAT_TAKEN, cat.seat_id),
    ]


async def test_a_seat_never_outlives_the_window(subject: Subject) -> None:
    await subject.create("r1", valid_until=T0 + 30 * SECOND)
    amy = await seat(subject, "amy")
    assert amy.expire_time == T0 + 30 * SECOND
    renewed = await subject.store.renew_seat(
        tenant=subject.tenant, seat_id=amy.seat_id, now=T0 + SECOND, expire_time=T0 + TTL
    )
    assert renewed == amy


async def test_renew_extends_live_seats_only(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1")
    amy = await seat(subject, "amy")
    later = T0 + 30 * SECOND
    renewed = await store.renew_seat(
        tenant=tenant, seat_id=amy.seat_id, now=later, expire_time=later + TTL
    )
    assert renewed == Seat(amy.seat_id, "r1", "amy", Role.ATTENDEE, T0, later + TTL)
    assert (
        await store.renew_seat(
            tenant=tenant + "-other", seat_id=amy.seat_id, now=later, expire_time=later + TTL
        )
        is None
    )
    assert (
        await store.renew_seat(tenant=tenant, seat_id="nope", now=later, expire_time=later + TTL)
        is None
    )
    gone = later + TTL
    assert (
        await store.renew_seat(tenant=tenant, seat_id=amy.seat_id, now=gone, expire_time=gone + TTL)
        is None
    )
    assert await seat_events(subject) == [(EventType.SEAT_TAKEN, amy.seat_id)]


async def test_release_frees_a_seat_once(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1")
    amy = await seat(subject, "amy")
    bob = await seat(subject, "bob")
    await store.release_seat(tenant=tenant, seat_id=amy.seat_id, now=T0 + SECOND, actor="a")
    await store.release_seat(tenant=tenant, seat_id=amy.seat_id, now=T0 + SECOND, actor="a")
    await store.release_seat(tenant=tenant, seat_id="nope", now=T0, actor="a")
    # A seat released after it expired is announced as expired.
    await store.release_seat(tenant=tenant, seat_id=bob.seat_id, now=T0 + TTL, actor="a")
    assert await seat_events(subject) == [
        (EventType.SEAT_TAKEN, amy.seat_id),
        (EventType.SEAT_TAKEN, bob.seat_id),
        (EventType.SEAT_RELEASED, amy.seat_id),
        (EventType.SEAT_EXPIRED, bob.seat_id),
    ]
    assert await listed(subject) == []


async def test_list_seats_in_pages(subject: Subject) -> None:
    await subject.create("r1")
    first = [await seat(subject, user) for user in ("c", "a", "b")]
    last = await seat(subject, "d", at=SECOND)
    ordered = [*sorted(first, key=lambda s: s.seat_id), last]
    assert await listed(subject) == [s.user_id for s in ordered]
    assert await listed(subject, limit=2) == [s.user_id for s in ordered[:2]]
    after = (T0, ordered[1].seat_id)
    assert await listed(subject, after=after) == [s.user_id for s in ordered[2:]]
    assert await listed(subject, after=(T0 + SECOND, last.seat_id)) == []
    # Only live seats are listed.
    assert await listed(subject, at=TTL) == ["d"]


async def test_seats_go_with_their_room_and_their_identity(subject: Subject) -> None:
    store, tenant = subject.store, subject.tenant
    await subject.create("r1", [RosterEntry("amy")])
    amy = await seat(subject, "amy")
    bob = await seat(subject, "bob")
    # Removing an identity frees its seat (the roster change alone moves the version).
    removed = await store.remove_participants(
        tenant=tenant,
        room_id="r1",
        user_ids=["amy", "bob"],
        expected_version=None,
        now=T0,
        actor=ACTOR,
    )
    assert removed == (1, 2)
    assert await seat_events(subject, after=4) == [
        (EventType.SEAT_RELEASED, amy.seat_id),
        (EventType.SEAT_RELEASED, bob.seat_id),
    ]
    cat = await seat(subject, "cat", version=2)
    await store.delete_room(tenant=tenant, room_id="r1", expected_version=2, now=T0, actor=ACTOR)
    assert await listed(subject) is None
    await store.release_seat(tenant=tenant, seat_id=cat.seat_id, now=T0, actor=ACTOR)
    history = await store.read_events(tenant=tenant, room_id="r1", after=0, limit=100)
    assert history[-1].type is EventType.DELETED
    assert (
        await store.renew_seat(tenant=tenant, seat_id=cat.seat_id, now=T0, expire_time=T0 + TTL)
        is None
    )
