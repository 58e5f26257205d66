"""Seats: who is present in a room's call, and the capacity rules that bound them.

A seat is taken by an allowed `AuthorizeJoin` with `claim_seat`, renewed by the
application, and frees itself `Limits.seat_ttl` after its last renewal. The rules
for how many seats a room and each role may hold live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from service.domain.errors import ErrorReason, Violations
from service.domain.limits import Limits
from service.domain.models import Role, RoleCapacity, new_id


@dataclass(frozen=True, slots=True)
class Seat:
    """A live seat."""

    seat_id: str
    room_id: str
    user_id: str
    role: Role
    create_time: datetime
    expire_time: datetime


class CapacityLimit(StrEnum):
    """Which limit refused a seat (mirrors `rooms.v1.CapacityLimit`)."""

    ROOM = "room"
    ROLE = "role"
    RESERVED = "reserved"


@dataclass(frozen=True, slots=True)
class CapacityRefusal:
    """A seat refused: the limit reached, and its number of seats."""

    limit: CapacityLimit
    capacity: int
    message: str


class CapacityRule:
    """The names of the capacity rules, as sent in `ErrorInfo.metadata["rule"]`."""

    ABOVE_CEILING = "ABOVE_CEILING"
    DUPLICATE_ROLE = "DUPLICATE_ROLE"
    NEGATIVE = "NEGATIVE"
    RESERVED_ABOVE_MAX = "RESERVED_ABOVE_MAX"
    RESERVED_ABOVE_ROOM = "RESERVED_ABOVE_ROOM"


def new_seat_id() -> str:
    """A seat id (`new_id`)."""
    return new_id()


def room_capacity(max_participants: int, limits: Limits) -> int:
    """The seats a room holds: its own limit, or the server's ceiling when 0."""
    return max_participants or limits.max_participants_ceiling


def seat_expiry(now: datetime, valid_until: datetime, limits: Limits) -> datetime:
    """When a seat taken or renewed at `now` frees itself: one TTL later, and never
    after the room's window ends."""
    return min(now + limits.seat_ttl, valid_until)


# Each role at most once: a longer `role_capacity` lists a role twice (or one that does
# not exist), and is refused whole before any entry is looked at.
MAX_ROLE_CAPACITY_ENTRIES = len(Role)


def role_capacity_fits(violations: Violations, field: str, size: int) -> bool:
    """Whether a `role_capacity` of `size` entries can be valid; if not, one violation
    (DUPLICATE_ROLE on the whole list) says so."""
    if size <= MAX_ROLE_CAPACITY_ENTRIES:
        return True
    violations.add(
        field,
        f"lists {size} entries; there are {MAX_ROLE_CAPACITY_ENTRIES} roles, each at most once",
        ErrorReason.INVALID_CAPACITY,
        rule=CapacityRule.DUPLICATE_ROLE,
        limit=str(MAX_ROLE_CAPACITY_ENTRIES),
    )
    return False


def check_capacity_settings(
    violations: Violations,
    prefix: str,
    max_participants: int,
    role_capacity: Sequence[RoleCapacity],
    limits: Limits,
) -> None:
    """`max_participants` within the ceiling; each role once, numbers not negative,
    a role's reservation within its maximum, and all reservations within the room."""

    def broken(field: str, rule: str, description: str, limit: int | None = None) -> None:
        extra = {"rule": rule}
        if limit is not None:
            extra["limit"] = str(limit)
        violations.add(prefix + field, description, ErrorReason.INVALID_CAPACITY, **extra)

    ceiling = limits.max_participants_ceiling
    if max_participants < 0:
        broken("max_participants", CapacityRule.NEGATIVE, "must not be negative")
    elif max_participants > ceiling:
        broken(
            "max_participants",
            CapacityRule.ABOVE_CEILING,
            f"must be at most {ceiling} (the server's ceiling)",
            ceiling,
        )
    seats = room_capacity(max(0, min(max_participants, ceiling)), limits)
    if not role_capacity_fits(violations, prefix + "role_capacity", len(role_capacity)):
        return
    seen: set[Role] = set()
    reserved_total = 0
    for index, entry in enumerate(role_capacity):
        field = f"role_capacity[{index}]"
        if entry.role in seen:
            broken(f"{field}.role", CapacityRule.DUPLICATE_ROLE, "lists a role a second time")
        seen.add(entry.role)
        if entry.max_participants < 0:
            broken(f"{field}.max_participants", CapacityRule.NEGATIVE, "must not be negative")
        elif entry.max_participants > seats:
            broken(
                f"{field}.max_participants",
                CapacityRule.ABOVE_CEILING,
                f"must be at most the room's {seats} seats",
                seats,
            )
        if entry.reserved < 0:
            broken(f"{field}.reserved", CapacityRule.NEGATIVE, "must not be negative")
            continue
        if entry.max_participants and entry.reserved > entry.max_participants:
            broken(
                f"{field}.reserved",
                CapacityRule.RESERVED_ABOVE_MAX,
                "must not exceed the role's max_participants",
                entry.max_participants,
            )
        reserved_total += entry.reserved
    if reserved_total > seats:
        broken(
            "role_capacity",
            CapacityRule.RESERVED_ABOVE_ROOM,
            f"reserves {reserved_total} seats in all; the room holds {seats}",
            seats,
        )


def check_capacity(
    role: Role,
    taken: Mapping[Role, int],
    max_participants: int,
    role_capacity: Sequence[RoleCapacity],
    limits: Limits,
) -> CapacityRefusal | None:
    """Whether one more seat for `role` fits, given the live seats per role `taken`.

    Three rules, checked in this order: the role's own maximum; the room's seats
    (its `max_participants`, or the server's ceiling); and the reservations of the
    other roles: a seat is refused when the free seats left are all needed to fill
    the other roles' reservations."""
    seats = room_capacity(max_participants, limits)
    total = sum(taken.values())
    own = next((entry for entry in role_capacity if entry.role is role), None)
    if own is not None and own.max_participants and taken.get(role, 0) >= own.max_participants:
        return CapacityRefusal(
            CapacityLimit.ROLE,
            own.max_participants,
            f"The room holds at most {own.max_participants} {role.value}s.",
        )
    if total >= seats:
        return CapacityRefusal(CapacityLimit.ROOM, seats, f"The room is full ({seats} seats).")
    others = [entry for entry in role_capacity if entry.role is not role]
    held_back = sum(max(0, entry.reserved - taken.get(entry.role, 0)) for entry in others)
    if total + held_back >= seats:
        # The limit reported: the seats not reserved for other roles.
        open_seats = seats - sum(entry.reserved for entry in others)
        return CapacityRefusal(
            CapacityLimit.RESERVED,
            open_seats,
            f"The seats left are reserved for other roles ({held_back} of {seats}).",
        )
    return None


SEAT_ID_MAX_LENGTH = 64


def check_seat_id(violations: Violations, field: str, seat_id: str) -> None:
    if not seat_id:
        violations.add(field, "must not be empty")
    elif len(seat_id) > SEAT_ID_MAX_LENGTH:
        violations.add(field, f"must be at most {SEAT_ID_MAX_LENGTH} characters")
    elif not (seat_id.isascii() and seat_id.isalnum()):
        violations.add(field, "must use only A-Z a-z 0-9")
