"""A room's state over time (service/domain/models.py, service/domain/transitions.py):
the bounds a List filtered by state compares against, and the transitions the lifecycle
announces. Pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.events import EventType
from service.domain.models import RoomState, state_at, state_bounds
from service.domain.transitions import announced_after_change, owed_transitions

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
# Window bounds around NOW, to the microsecond a timestamptz keeps.
AROUND = [NOW - timedelta(days=1), NOW - TICK, NOW, NOW + TICK, NOW + timedelta(days=1)]
WINDOWS = [(start, end) for start in AROUND for end in AROUND if start < end]


@pytest.mark.parametrize("state", [*RoomState, None])
def test_the_bounds_of_a_state_admit_exactly_the_windows_in_it(state: RoomState | None) -> None:
    bounds = state_bounds(state, NOW)
    for valid_from, valid_until in WINDOWS:
        expected = state is None or state_at(valid_from, valid_until, NOW) is state
        assert bounds.admits(valid_from, valid_until) == expected, (valid_from, valid_until)


def test_every_window_is_in_exactly_one_state() -> None:
    for valid_from, valid_until in WINDOWS:
        admitted = [s for s in RoomState if state_bounds(s, NOW).admits(valid_from, valid_until)]
        assert len(admitted) == 1


START, END = NOW - timedelta(hours=2), NOW - timedelta(hours=1)


def test_a_window_that_opened_owes_opened_at_its_start() -> None:
    (opened,) = owed_transitions(RoomState.SCHEDULED, START, NOW + TICK, NOW)
    assert (opened.type, opened.event_time, opened.state) == (
        EventType.OPENED,
        START,
        RoomState.OPEN,
    )


def test_a_window_that_passed_unseen_owes_both_in_order_at_their_bounds() -> None:
    owed = owed_transitions(RoomState.SCHEDULED, START, END, NOW)
    assert [(t.type, t.event_time, t.state) for t in owed] == [
        (EventType.OPENED, START, RoomState.OPEN),
        (EventType.ENDED, END, RoomState.ENDED),
    ]
    assert [t.type for t in owed_transitions(RoomState.OPEN, START, END, NOW)] == [EventType.ENDED]


def test_the_end_is_exclusive_and_nothing_is_owed_twice_or_early() -> None:
    assert [t.type for t in owed_transitions(RoomState.OPEN, START, NOW, NOW)] == [EventType.ENDED]
    assert owed_transitions(RoomState.SCHEDULED, NOW + TICK, NOW + timedelta(days=1), NOW) == []
    assert owed_transitions(RoomState.OPEN, START, NOW + TICK, NOW) == []
    assert owed_transitions(RoomState.ENDED, START, END, NOW) == []


def test_a_window_moved_later_forgets_the_transitions_it_has_not_reached() -> None:
    assert announced_after_change(RoomState.ENDED, RoomState.OPEN) is RoomState.OPEN
    assert announced_after_change(RoomState.OPEN, RoomState.SCHEDULED) is RoomState.SCHEDULED
    # A change that does not move the window back keeps what was announced.
    assert announced_after_change(RoomState.OPEN, RoomState.ENDED) is RoomState.OPEN
    assert announced_after_change(RoomState.SCHEDULED, RoomState.OPEN) is RoomState.SCHEDULED
