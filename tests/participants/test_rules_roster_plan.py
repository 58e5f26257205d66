"""The roster change plans (service/domain/roster.py): pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.events import EventType
from service.domain.models import Participant, Role, RosterEntry
from service.domain.roster import RosterPlan, plan_removal, plan_upsert
from service.domain.seats import Seat
from service.domain.waiting_room import KnockState

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BEFORE = NOW - timedelta(hours=1)


def entry(user_id: str, role: Role = Role.ATTENDEE) -> RosterEntry:
    return RosterEntry(user_id, role)


def existing(user_id: str, role: Role) -> Participant:
    return Participant(user_id, role, BEFORE, BEFORE)


def attendee_becomes(role: Role) -> RosterPlan:
    """The plan for the only participant, "a", an attendee for the past hour, sent again as
    `role`."""
    return plan_upsert(
        "r", [entry("a", role)], {"a": existing("a", Role.ATTENDEE)}, set(), 1, 1, NOW
    )


def test_new_identities_are_added_with_one_event_each_in_request_order() -> None:
    plan = plan_upsert("r", [entry("b"), entry("a", Role.PRESENTER)], {}, set(), 0, 10, NOW)
    assert [(p.user_id, p.role, p.create_time) for p in plan.result] == [
        ("b", Role.ATTENDEE, NOW),
        ("a", Role.PRESENTER, NOW),
    ]
    assert plan.changed == plan.result
    assert [e.type for e in plan.history] == [EventType.PARTICIPANT_ADDED] * 2
    assert [e.data["user_id"] for e in plan.history] == ["b", "a"]
    assert plan.count == 2
    assert plan.lifted == [] and plan.silenced == []


def test_the_same_role_again_is_a_no_op_that_writes_nothing() -> None:
    same = existing("a", Role.ATTENDEE)
    plan = plan_upsert("r", [entry("a")], {"a": same}, set(), 1, 1, NOW)
    assert plan.result == [same]
    assert plan.changed == [] and plan.history == []
    assert plan.count == 1


def test_a_role_change_keeps_the_entry_and_records_the_previous_role() -> None:
    plan = attendee_becomes(Role.PRESENTER)
    (after,) = plan.result
    assert (after.role, after.create_time, after.update_time) == (Role.PRESENTER, BEFORE, NOW)
    (event,) = plan.history
    assert event.type is EventType.ROLE_CHANGED
    assert plan.silenced == []  # an attendee becoming presenter may still publish


def test_a_role_that_takes_publishing_away_starts_a_new_epoch() -> None:
    plan = attendee_becomes(Role.CONSUMER)
    assert plan.silenced == ["a"]


def test_adding_a_banned_identity_lifts_its_ban_before_its_other_events() -> None:
    plan = plan_upsert("r", [entry("x"), entry("b")], {}, {"b"}, 0, 10, NOW)
    assert plan.lifted == ["b"]
    assert [(e.type, e.data["user_id"]) for e in plan.history] == [
        (EventType.PARTICIPANT_UNBANNED, "b"),
        (EventType.PARTICIPANT_ADDED, "x"),
        (EventType.PARTICIPANT_ADDED, "b"),
    ]


def test_the_roster_limit_counts_only_identities_not_yet_on_the_roster() -> None:
    on = {"a": existing("a", Role.ATTENDEE)}
    fits = plan_upsert("r", [entry("a", Role.PRESENTER), entry("b")], on, set(), 2, 3, NOW)
    assert fits.count == 3
    with pytest.raises(DomainError) as refused:
        plan_upsert("r", [entry("b"), entry("c")], {}, set(), 2, 3, NOW)
    assert refused.value.reason is ErrorReason.ROSTER_FULL


# ---- removals ------------------------------------------------------------------------


def seat(user_id: str) -> Seat:
    return Seat(f"seat-{user_id}", "r", user_id, Role.ATTENDEE, BEFORE, NOW)


def test_removing_rostered_identities_records_one_event_each_in_request_order() -> None:
    rostered = {"a": Role.PRESENTER, "b": Role.ATTENDEE}
    plan = plan_removal(["b", "x", "a"], rostered, set(), {}, [], 5, ban=False)
    assert plan.removed == ["b", "a"] and plan.banned == []
    assert [(e.type, e.data["user_id"]) for e in plan.history] == [
        (EventType.PARTICIPANT_REMOVED, "b"),
        (EventType.PARTICIPANT_REMOVED, "a"),
    ]
    assert plan.history[1].data["previous_role"] == Role.PRESENTER.value
    assert plan.count == 3
    assert plan.recorded == plan.new_epochs == ["b", "a"]
    assert plan.changes_version and plan.writes


def test_removing_nobody_on_the_roster_writes_nothing_and_keeps_the_etag() -> None:
    plan = plan_removal(["x", "y"], {}, {"y"}, {}, [], 2, ban=False)
    assert not plan.writes and not plan.changes_version
    assert plan.history == [] and plan.count == 2


def test_a_ban_follows_each_removal_and_bans_identities_off_the_roster_too() -> None:
    plan = plan_removal(["a", "x", "old"], {"a": Role.ATTENDEE}, {"old"}, {}, [], 1, ban=True)
    assert plan.removed == ["a"]
    assert plan.banned == ["a", "x"]  # "old" was banned already: no second ban
    assert [(e.type, e.data["user_id"]) for e in plan.history] == [
        (EventType.PARTICIPANT_REMOVED, "a"),
        (EventType.PARTICIPANT_BANNED, "a"),
        (EventType.PARTICIPANT_BANNED, "x"),
    ]
    assert plan.recorded == plan.new_epochs == ["a", "x"]
    assert plan.changes_version and plan.count == 0


def test_withdrawn_decisions_and_freed_seats_follow_the_removals() -> None:
    knocks = {"w": KnockState.WAITING, "d": KnockState.DENIED, "a": KnockState.ADMITTED}
    plan = plan_removal(
        ["a", "w", "d", "s"], {"s": Role.ATTENDEE}, set(), knocks, [seat("w"), seat("a")], 1, False
    )
    assert [(e.type, e.data["user_id"]) for e in plan.history] == [
        (EventType.PARTICIPANT_REMOVED, "s"),
        (EventType.ADMISSION_REVOKED, "a"),
        (EventType.ADMISSION_REVOKED, "d"),
        (EventType.SEAT_RELEASED, "a"),
        (EventType.SEAT_RELEASED, "w"),
    ]
    assert plan.knocks == ["a", "w", "d"]  # every knock record goes, waiting ones too
    assert [s.seat_id for s in plan.seats] == ["seat-a", "seat-w"]
    assert plan.recorded == ["s"]  # only removals and bans are remembered
    assert plan.new_epochs == ["a", "d", "s"]  # a withdrawn decision ends a membership


def test_a_waiting_knock_or_a_seat_alone_does_not_change_the_etag() -> None:
    plan = plan_removal(["w"], {}, set(), {"w": KnockState.WAITING}, [seat("w")], 0, False)
    assert plan.writes and not plan.changes_version
    assert [e.type for e in plan.history] == [EventType.SEAT_RELEASED]
    assert plan.new_epochs == [] and plan.recorded == []
    withdrawn = plan_removal(["d"], {}, set(), {"d": KnockState.DENIED}, [], 0, False)
    assert withdrawn.changes_version and withdrawn.new_epochs == ["d"]
