"""Pure unit tests of the waiting-room decision (service.domain.waiting_room): who may
admit, the table of knock states, and the join rules that come first. The capacity
rules are in tests/seats/test_rules_capacity.py."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.admission import Capability, JoinReason, decide_join
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, Role, Room
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
