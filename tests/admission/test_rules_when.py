"""Pure unit tests of service.domain.admission: why a join is refused and until when
(too early, ended, early entry, a missing room), the wait in words, a room's state over
its half-open window, and its etag."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from service.domain.admission import JoinReason, decide_join, humanize
from service.domain.models import JoinPolicy, Role, RoomState, etag_of, state_at
from tests.admission.fixed_room import MICROSECOND, VALID_FROM, VALID_UNTIL, make_room


def test_three_hours_early() -> None:
    now = VALID_FROM - timedelta(hours=3)
    decision = decide_join(make_room(), Role.ATTENDEE, now)
    assert not decision.allowed
    assert decision.reason is JoinReason.NOT_YET_OPEN
    assert decision.opens_in == timedelta(hours=3)
    assert decision.opens_at == VALID_FROM
    assert "3 hours" in decision.message
    assert decision.role is Role.ATTENDEE
    assert decision.capabilities == frozenset()


def test_three_hours_early_for_a_stranger_to_an_open_room() -> None:
    room = make_room(join_policy=JoinPolicy.OPEN)
    decision = decide_join(room, None, VALID_FROM - timedelta(hours=3))
    assert decision.reason is JoinReason.NOT_YET_OPEN
    assert decision.opens_in == timedelta(hours=3)
    assert "3 hours" in decision.message


def test_too_early_and_ended_are_told_apart() -> None:
    room = make_room()
    early = decide_join(room, Role.ATTENDEE, VALID_FROM - timedelta(minutes=1))
    ended = decide_join(room, Role.ATTENDEE, VALID_UNTIL)
    assert early.reason is JoinReason.NOT_YET_OPEN
    assert ended.reason is JoinReason.ENDED
    assert early.message != ended.message
    assert ended.opens_in is None


def test_presenter_early_entry_opens_before_valid_from() -> None:
    room = make_room(early_entry=timedelta(minutes=30))
    decision = decide_join(room, Role.PRESENTER, VALID_FROM - timedelta(hours=3))
    assert decision.reason is JoinReason.NOT_YET_OPEN
    assert decision.opens_at == VALID_FROM - timedelta(minutes=30)
    assert decision.opens_in == timedelta(hours=2, minutes=30)


def test_without_early_entry_presenters_wait_for_valid_from() -> None:
    room = make_room(early_entry=timedelta(0))
    before = decide_join(room, Role.PRESENTER, VALID_FROM - MICROSECOND)
    assert before.reason is JoinReason.NOT_YET_OPEN
    assert before.opens_in == MICROSECOND
    assert "1 second" in before.message
    assert decide_join(room, Role.PRESENTER, VALID_FROM).allowed


def test_early_entry_does_not_extend_the_end() -> None:
    room = make_room(early_entry=timedelta(hours=24))
    assert decide_join(room, Role.PRESENTER, VALID_FROM - timedelta(hours=24)).allowed
    assert decide_join(room, Role.PRESENTER, VALID_UNTIL).reason is JoinReason.ENDED


def test_missing_room() -> None:
    decision = decide_join(None, Role.PRESENTER, VALID_FROM)
    assert not decision.allowed
    assert decision.reason is JoinReason.ROOM_NOT_FOUND
    assert decision.role is None
    assert decision.capabilities == frozenset()
    assert decision.valid_from is None
    assert decision.valid_until is None
    assert decision.opens_in is None
    assert decide_join(None, None, VALID_FROM).reason is JoinReason.ROOM_NOT_FOUND


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0 seconds"),
        (-timedelta(hours=1), "0 seconds"),
        (MICROSECOND, "1 second"),
        (timedelta(milliseconds=500), "1 second"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=45), "45 seconds"),
        (timedelta(seconds=59), "59 seconds"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=5), "5 minutes"),
        (timedelta(minutes=59), "59 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=3), "3 hours"),
        (timedelta(hours=2, minutes=59, seconds=59), "3 hours"),
        (timedelta(hours=2, minutes=59, seconds=59, microseconds=1), "3 hours"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=6, hours=23), "7 days"),
        (timedelta(days=180), "180 days"),
    ],
)
def test_humanize(delta: timedelta, text: str) -> None:
    assert humanize(delta) == text


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (VALID_FROM - MICROSECOND, RoomState.SCHEDULED),
        (VALID_FROM, RoomState.OPEN),
        (VALID_UNTIL - MICROSECOND, RoomState.OPEN),
        (VALID_UNTIL, RoomState.ENDED),
    ],
)
def test_room_state_is_a_half_open_window(now: datetime, state: RoomState) -> None:
    room = make_room()
    assert state_at(VALID_FROM, VALID_UNTIL, now) is state
    assert room.state(now) is state


def test_etag_follows_the_version() -> None:
    room = make_room()
    assert room.etag == etag_of(1)
    assert replace(room, version=2).etag != room.etag
