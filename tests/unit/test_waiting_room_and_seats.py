"""Pure unit tests of the waiting-room decision and the capacity rules
(service.domain.waiting_room and service.domain.seats)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.admission import Capability, JoinReason, decide_join
from service.domain.errors import DomainError, Violations
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, Role, RoleCapacity, Room
from service.domain.seats import (
    CapacityLimit,
    check_capacity,
    check_capacity_settings,
    seat_expiry,
)
from service.domain.waiting_room import Knock, KnockState, decide_with_waiting_room, may_admit

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits()


def room(**changes: object) -> Room:
    values: dict[str, object] = {
        "room_id": "r",
        "create_time": NOW,
        "update_time": NOW,
        "valid_from": NOW - timedelta(hours=1),
        "valid_until": NOW + timedelta(hours=1),
        "pstn_dial_out_enabled": False,
        "join_policy": JoinPolicy.OPEN,
        "metadata": {},
        "open_join_role": Role.ATTENDEE,
        "early_entry": timedelta(0),
        "version": 1,
        "participant_count": 0,
        "waiting_room_enabled": True,
    }
    values.update(changes)
    return Room(**values)  # type: ignore[arg-type]


def knock(state: KnockState, role: Role | None = None) -> Knock:
    return Knock("u", state, role, role is not None, None, NOW, NOW, NOW, NOW)


def test_only_presenters_may_admit() -> None:
    assert [r for r in Role if may_admit(r)] == [Role.PRESENTER]


@pytest.mark.parametrize("rostered", [None, *Role])
@pytest.mark.parametrize("state", [None, *KnockState])
def test_waiting_room_table(rostered: Role | None, state: KnockState | None) -> None:
    decision = decide_with_waiting_room(
        room(), rostered, knock(state) if state is not None else None, NOW
    )
    role = rostered or Role.ATTENDEE
    assert decision.role is role
    if role is Role.PRESENTER or state is KnockState.ADMITTED:
        assert (decision.allowed, decision.reason) == (True, JoinReason.ALLOWED)
    elif state is KnockState.DENIED:
        assert (decision.allowed, decision.reason) == (False, JoinReason.DENIED)
    else:
        assert (decision.allowed, decision.reason) == (False, JoinReason.WAITING_FOR_ADMISSION)
        assert decision.capabilities == frozenset()


def test_without_waiting_room_the_decision_is_decide_join() -> None:
    plain = room(waiting_room_enabled=False)
    for rostered, state in itertools.product([None, Role.CONSUMER], [None, *KnockState]):
        given = knock(state) if state is not None else None
        assert decide_with_waiting_room(plain, rostered, given, NOW) == decide_join(
            plain, rostered, NOW
        )


def test_policy_and_window_come_first() -> None:
    invite_only = room(join_policy=JoinPolicy.INVITE_ONLY)
    assert decide_with_waiting_room(invite_only, None, None, NOW).reason is JoinReason.NOT_INVITED
    # Admitted off the roster of an invite-only room: still not invited.
    admitted = knock(KnockState.ADMITTED, Role.ATTENDEE)
    assert (
        decide_with_waiting_room(invite_only, None, admitted, NOW).reason is JoinReason.NOT_INVITED
    )
    later = room(valid_from=NOW + timedelta(hours=1), valid_until=NOW + timedelta(hours=2))
    assert decide_with_waiting_room(later, None, None, NOW).reason is JoinReason.NOT_YET_OPEN
    ended = room(valid_from=NOW - timedelta(hours=2), valid_until=NOW)
    assert decide_with_waiting_room(ended, None, None, NOW).reason is JoinReason.ENDED


def test_a_chosen_role_decides_the_capabilities_and_early_entry() -> None:
    soon = room(valid_from=NOW + timedelta(minutes=10), early_entry=timedelta(minutes=30))
    chosen = knock(KnockState.ADMITTED, Role.COLLABORATOR)
    decision = decide_with_waiting_room(soon, None, chosen, NOW)
    assert (decision.allowed, decision.role) == (True, Role.COLLABORATOR)
    assert Capability.SHARE_SCREEN in decision.capabilities
    # The would-be attendee has no early entry: it neither joins nor knocks yet.
    assert decide_with_waiting_room(soon, None, None, NOW).reason is JoinReason.NOT_YET_OPEN


# ---- capacity ---------------------------------------------------------------------


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
