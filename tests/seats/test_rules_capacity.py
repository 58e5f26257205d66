"""Pure unit tests of the capacity rules (service.domain.seats): a claim against the
room's maximum and each role's reservation and limit, the capacity settings, and a
seat's expiry."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.errors import DomainError, Violations
from service.domain.limits import Limits
from service.domain.models import Role, RoleCapacity
from service.domain.seats import CapacityLimit, check_capacity, check_capacity_settings, seat_expiry

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits()
P, A, C = Role.PRESENTER, Role.ATTENDEE, Role.CONSUMER


@pytest.mark.parametrize(
    ("role", "taken", "maximum", "capacity", "expected"),
    [
        (A, {}, 1, (), None),
        (A, {A: 1}, 1, (), (CapacityLimit.ROOM, 1)),
        (A, {A: 1}, 0, (), None),  # 0: the ceiling
        (A, {A: 350}, 0, (), (CapacityLimit.ROOM, 350)),
        (A, {A: 1}, 10, (RoleCapacity(A, 1),), (CapacityLimit.ROLE, 1)),
        (A, {A: 44}, 50, (RoleCapacity(P, 0, 5),), None),
        (A, {A: 45}, 50, (RoleCapacity(P, 0, 5),), (CapacityLimit.RESERVED, 45)),
        (A, {A: 45, P: 2}, 50, (RoleCapacity(P, 0, 5),), (CapacityLimit.RESERVED, 45)),
        (A, {A: 44, P: 5}, 50, (RoleCapacity(P, 0, 5),), None),
        (P, {A: 45}, 50, (RoleCapacity(P, 0, 5),), None),
        (P, {A: 45, P: 5}, 50, (RoleCapacity(P, 0, 5),), (CapacityLimit.ROOM, 50)),
        # Reservations of two roles hold back seats from a third.
        (
            C,
            {C: 5},
            10,
            (RoleCapacity(P, 0, 2), RoleCapacity(A, 0, 3)),
            (CapacityLimit.RESERVED, 5),
        ),
        # A role's own reservation does not hold seats back from itself.
        (A, {A: 7}, 10, (RoleCapacity(A, 0, 8),), None),
    ],
)
def test_check_capacity(
    role: Role,
    taken: dict[Role, int],
    maximum: int,
    capacity: tuple[RoleCapacity, ...],
    expected: tuple[CapacityLimit, int] | None,
) -> None:
    refusal = check_capacity(role, taken, maximum, capacity, LIMITS)
    assert (None if refusal is None else (refusal.limit, refusal.capacity)) == expected


def test_capacity_never_exceeded_by_any_claim_sequence() -> None:
    """Whatever order claims arrive in, seats never exceed the room and every
    reservation can still be filled by its role."""
    capacity = (RoleCapacity(P, 0, 2), RoleCapacity(C, 3, 1))
    for order in itertools.product([P, A, C], repeat=8):
        taken: dict[Role, int] = {}
        for role in order:
            if check_capacity(role, taken, 6, capacity, LIMITS) is None:
                taken[role] = taken.get(role, 0) + 1
        assert sum(taken.values()) <= 6
        assert taken.get(C, 0) <= 3
        free = 6 - sum(taken.values())
        unfilled = max(0, 2 - taken.get(P, 0)) + max(0, 1 - taken.get(C, 0))
        assert unfilled <= free


def settings_error(maximum: int, capacity: tuple[RoleCapacity, ...]) -> DomainError | None:
    violations = Violations()
    check_capacity_settings(violations, "room.", maximum, capacity, LIMITS)
    try:
        violations.raise_if_any()
    except DomainError as error:
        return error
    return None


def test_capacity_settings_rules() -> None:
    assert settings_error(0, ()) is None
    assert settings_error(350, (RoleCapacity(P, 10, 10),)) is None
    cases = [
        (351, (), "room.max_participants", "ABOVE_CEILING"),
        (-1, (), "room.max_participants", "NEGATIVE"),
        (10, (RoleCapacity(P), RoleCapacity(P)), "room.role_capacity[1].role", "DUPLICATE_ROLE"),
        (10, (RoleCapacity(P, -1),), "room.role_capacity[0].max_participants", "NEGATIVE"),
        (10, (RoleCapacity(P, 11),), "room.role_capacity[0].max_participants", "ABOVE_CEILING"),
        (10, (RoleCapacity(P, 0, -1),), "room.role_capacity[0].reserved", "NEGATIVE"),
        (10, (RoleCapacity(P, 2, 3),), "room.role_capacity[0].reserved", "RESERVED_ABOVE_MAX"),
        (
            10,
            (RoleCapacity(P, 0, 6), RoleCapacity(A, 0, 5)),
            "room.role_capacity",
            "RESERVED_ABOVE_ROOM",
        ),
    ]
    for maximum, capacity, field, rule in cases:
        error = settings_error(maximum, capacity)
        assert error is not None, (maximum, capacity)
        assert error.reason.value == "INVALID_CAPACITY"
        assert (error.metadata["field"], error.metadata["rule"]) == (field, rule)


def test_seat_expiry_is_one_ttl_and_never_after_the_window() -> None:
    assert seat_expiry(NOW, NOW + timedelta(hours=1), LIMITS) == NOW + timedelta(seconds=60)
    assert seat_expiry(NOW, NOW + timedelta(seconds=5), LIMITS) == NOW + timedelta(seconds=5)
