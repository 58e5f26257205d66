"""The plan of a host's admit or deny (domain/waiting_room.plan_decision), which both
stores persist."""

from __future__ import annotations

from datetime import UTC, datetime

from service.domain.events import EventType
from service.domain.models import Role
from service.domain.waiting_room import Knock, KnockState, plan_decision

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def knock(state: KnockState, role: Role | None, chosen: bool) -> Knock:
    return Knock("amy", state, role, chosen, "Amy", T0, T0, T0, T0)


def test_admitting_a_knock_uses_the_role_it_would_have() -> None:
    plan = plan_decision(
        "amy", knock(KnockState.WAITING, None, False), KnockState.ADMITTED, None, Role.ATTENDEE
    )
    assert plan is not None
    assert (plan.role, plan.role_chosen, plan.new_epoch) == (Role.ATTENDEE, False, False)
    assert plan.event.type is EventType.PARTICIPANT_ADMITTED
    assert plan.event.data["user_id"] == "amy"


def test_a_chosen_role_wins_and_is_remembered_as_chosen() -> None:
    plan = plan_decision("amy", None, KnockState.ADMITTED, Role.PRESENTER, Role.ATTENDEE)
    assert plan is not None
    assert (plan.role, plan.role_chosen) == (Role.PRESENTER, True)


def test_denying_starts_a_new_membership_epoch() -> None:
    plan = plan_decision(
        "amy",
        knock(KnockState.ADMITTED, Role.ATTENDEE, False),
        KnockState.DENIED,
        None,
        Role.ATTENDEE,
    )
    assert plan is not None
    assert plan.new_epoch
    assert plan.event.type is EventType.PARTICIPANT_DENIED


def test_deciding_again_the_same_way_changes_nothing() -> None:
    same = knock(KnockState.ADMITTED, Role.PRESENTER, True)
    assert plan_decision("amy", same, KnockState.ADMITTED, Role.PRESENTER, None) is None
    # Another chosen role, or no longer a chosen one, is a change.
    assert plan_decision("amy", same, KnockState.ADMITTED, Role.ATTENDEE, None) is not None
    assert plan_decision("amy", same, KnockState.ADMITTED, None, Role.ATTENDEE) is not None
    assert plan_decision("amy", same, KnockState.DENIED, None, Role.ATTENDEE) is not None
