"""The recurrence rules, pure: expansion, the occurrence that counts at an instant, the
per-occurrence transitions and the Janus plan that follows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain import janus
from service.domain.events import EventType
from service.domain.models import JoinPolicy, Room, RoomState
from service.domain.recurrence import (
    MAX_OCCURRENCES,
    Occurrence,
    RecurrenceError,
    Series,
    expand,
    window_at,
)
from service.domain.transitions import owed_occurrence_transitions

FIRST = datetime(2027, 3, 23, 8, tzinfo=UTC)  # Tuesday 09:00 in Paris (winter time)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def series(*lines: str, zone: str = "UTC", length: timedelta = HOUR) -> Series:
    return Series(lines, zone, FIRST, length)


def test_wall_time_is_kept_across_a_change_of_time() -> None:
    found = expand(series("RRULE:FREQ=WEEKLY;COUNT=2", zone="Europe/Paris"))
    assert [o.start.hour for o in found] == [8, 7]  # 09:00 Paris both times


def test_until_as_a_date_includes_that_day_in_the_zone() -> None:
    found = expand(series("RRULE:FREQ=DAILY;UNTIL=20270325", zone="Europe/Paris"))
    assert len(found) == 3


def test_exdate_and_rdate_in_their_own_zone() -> None:
    found = expand(
        series(
            "RRULE:FREQ=DAILY;COUNT=3",
            "EXDATE;TZID=Europe/Paris:20270324T090000",
            "RDATE;TZID=America/New_York:20270330T040000",
        )
    )
    assert [o.start for o in found] == [
        FIRST,
        FIRST + 2 * DAY,
        datetime(2027, 3, 30, 8, tzinfo=UTC),
    ]


def test_the_occurrence_limit() -> None:
    ok = expand(series(f"RRULE:FREQ=HOURLY;INTERVAL=2;COUNT={MAX_OCCURRENCES}"))
    assert len(ok) == MAX_OCCURRENCES
    with pytest.raises(RecurrenceError, match="at most 1000"):
        expand(series(f"RRULE:FREQ=HOURLY;INTERVAL=2;COUNT={MAX_OCCURRENCES + 1}"))


def test_window_at_under_way_next_and_last() -> None:
    s = series("RRULE:FREQ=DAILY;COUNT=3")
    assert window_at(s, FIRST - DAY) == Occurrence(FIRST, FIRST + HOUR)
    assert window_at(s, FIRST + HOUR / 2) == Occurrence(FIRST, FIRST + HOUR)
    assert window_at(s, FIRST + HOUR) == Occurrence(FIRST + DAY, FIRST + DAY + HOUR)
    assert window_at(s, FIRST + 10 * DAY).start == FIRST + 2 * DAY


def test_transitions_move_on_to_the_next_occurrence() -> None:
    s = series("RRULE:FREQ=DAILY;COUNT=2")
    first, second = expand(s)
    plan = owed_occurrence_transitions(RoomState.OPEN, first, s, FIRST + 2 * HOUR)
    assert [t.type for t in plan.transitions] == [EventType.ENDED]
    assert (plan.tracked, plan.announced) == (second, RoomState.SCHEDULED)
    last = owed_occurrence_transitions(RoomState.SCHEDULED, second, s, FIRST + 3 * DAY)
    assert [t.type for t in last.transitions] == [EventType.OPENED, EventType.ENDED]
    assert (last.tracked, last.announced) == (second, RoomState.ENDED)
    done = owed_occurrence_transitions(RoomState.ENDED, second, s, FIRST + 4 * DAY)
    assert done.transitions == []


def test_the_janus_plan_admits_only_during_an_occurrence() -> None:
    room = Room(
        room_id="r",
        create_time=FIRST - DAY,
        update_time=FIRST - DAY,
        version=1,
        participant_count=0,
        valid_from=FIRST,
        valid_until=FIRST + HOUR,
        recurrence=("RRULE:FREQ=DAILY;COUNT=2",),
        join_policy=JoinPolicy.OPEN,
    )
    who = [janus.Candidate("ann", None, 0)]
    assert janus.admitted_now(room, who, FIRST + HOUR / 2)
    assert not janus.admitted_now(room, who, FIRST + 2 * HOUR)
    assert janus.admitted_now(room, who, FIRST + DAY + HOUR / 2)
    assert not janus.admitted_now(room, who, FIRST + 2 * DAY)
