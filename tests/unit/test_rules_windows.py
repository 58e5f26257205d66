"""Pure unit tests of the validity window in service.domain.rules: its defaults, its
rules, and the limits they take from `Limits`."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.domain import rules, windows
from service.domain.errors import ErrorKind, ErrorReason, FieldViolation
from service.domain.models import RoomSettings
from service.domain.windows import WindowRule
from tests.unit.rule_checks import (
    CUSTOM,
    DAY,
    DAYS_180_IN_SECONDS,
    HOUR,
    LIMITS,
    MICROSECOND,
    NOW,
    SECOND,
    error_of,
    fields_of,
    window_error,
)

# --- Window defaults -------------------------------------------------------------------


def test_window_defaults_are_now_and_now_plus_180_days() -> None:
    room = rules.resolve_new_room("", RoomSettings(), NOW, LIMITS)
    assert room.valid_from == NOW
    assert room.valid_until == NOW + timedelta(days=180)


def test_default_valid_until_counts_from_now_not_from_valid_from() -> None:
    valid_from = NOW + 10 * DAY
    room = rules.resolve_new_room("", RoomSettings(valid_from=valid_from), NOW, LIMITS)
    assert room.valid_from == valid_from
    assert room.valid_until == NOW + timedelta(days=180)
    assert room.valid_until != valid_from + timedelta(days=180)


def test_default_valid_from_is_now_when_only_valid_until_is_given() -> None:
    room = rules.resolve_new_room("", RoomSettings(valid_until=NOW + 3 * DAY), NOW, LIMITS)
    assert room.valid_from == NOW
    assert room.valid_until == NOW + 3 * DAY


# --- Window rules ----------------------------------------------------------------------

WINDOW_REJECTIONS = [
    # (case, valid_from, valid_until, rule, field, limit)
    (
        "181-day window",
        NOW,
        NOW + timedelta(days=181),
        WindowRule.WINDOW_TOO_LONG,
        "room.valid_until",
        DAYS_180_IN_SECONDS,
    ),
    (
        "180 days and one microsecond",
        NOW + DAY,
        NOW + DAY + timedelta(days=180) + MICROSECOND,
        WindowRule.WINDOW_TOO_LONG,
        "room.valid_until",
        DAYS_180_IN_SECONDS,
    ),
    (
        "ends in the past",
        NOW - 2 * HOUR,
        NOW - HOUR,
        WindowRule.ENDS_IN_PAST,
        "room.valid_until",
        None,
    ),
    (
        "ends exactly now",
        NOW - HOUR,
        NOW,
        WindowRule.ENDS_IN_PAST,
        "room.valid_until",
        None,
    ),
    (
        "starts 180 days and one second ahead",
        NOW + timedelta(days=180) + SECOND,
        NOW + timedelta(days=180) + SECOND + HOUR,
        WindowRule.STARTS_TOO_LATE,
        "room.valid_from",
        DAYS_180_IN_SECONDS,
    ),
    (
        "ends before it starts",
        NOW + 2 * HOUR,
        NOW + HOUR,
        WindowRule.ENDS_BEFORE_START,
        "room.valid_until",
        None,
    ),
    (
        "ends when it starts",
        NOW + HOUR,
        NOW + HOUR,
        WindowRule.ENDS_BEFORE_START,
        "room.valid_until",
        None,
    ),
]


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "rule", "field", "limit"),
    [case[1:] for case in WINDOW_REJECTIONS],
    ids=[case[0] for case in WINDOW_REJECTIONS],
)
def test_window_rule_rejects(
    valid_from: datetime, valid_until: datetime, rule: str, field: str, limit: str | None
) -> None:
    error = window_error(valid_from, valid_until)
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.kind is ErrorKind.INVALID
    assert error.metadata["rule"] == rule
    assert error.metadata["field"] == field
    assert error.metadata.get("limit") == limit
    assert error.field_violations == [
        FieldViolation(field, error.field_violations[0].description, ErrorReason.INVALID_WINDOW)
    ]
    assert field in error.message


WINDOW_ACCEPTANCES = [
    ("exactly 180 days", NOW, NOW + timedelta(days=180)),
    ("exactly 180 days, starting later", NOW + DAY, NOW + DAY + timedelta(days=180)),
    (
        "starts exactly 180 days ahead",
        NOW + timedelta(days=180),
        NOW + timedelta(days=180) + HOUR,
    ),
    ("ends one microsecond from now", NOW - HOUR, NOW + MICROSECOND),
    ("one-microsecond window", NOW + HOUR, NOW + HOUR + MICROSECOND),
    ("starts five seconds ago", NOW - 5 * SECOND, NOW + DAY),
    ("starts one second ago", NOW - SECOND, NOW + timedelta(days=179)),
]


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [case[1:] for case in WINDOW_ACCEPTANCES],
    ids=[case[0] for case in WINDOW_ACCEPTANCES],
)
def test_window_rule_accepts(valid_from: datetime, valid_until: datetime) -> None:
    room = rules.resolve_new_room("", RoomSettings(valid_from, valid_until), NOW, LIMITS)
    assert (room.valid_from, room.valid_until) == (valid_from, valid_until)


def test_valid_from_slightly_in_the_past_is_accepted_with_the_default_valid_until() -> None:
    """The facts: "a valid_from slightly in the past is accepted (clients send 'now')",
    and valid_until defaults to now + 180 days. A client that sends its own "now" as
    valid_from and leaves valid_until unset must therefore get a room."""
    valid_from = NOW - 5 * SECOND
    room = rules.resolve_new_room("", RoomSettings(valid_from=valid_from), NOW, LIMITS)
    assert room.valid_from == valid_from
    assert room.valid_until == NOW + timedelta(days=180)


def test_window_ending_in_the_past_before_its_default_start_breaks_two_rules() -> None:
    # valid_from defaults to now, so a valid_until in the past also ends before the start.
    error = window_error(NOW, NOW - HOUR)
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.metadata["rule"] == WindowRule.ENDS_IN_PAST
    assert fields_of(error) == ["room.valid_until", "room.valid_until"]


def test_every_broken_window_rule_is_reported() -> None:
    error = window_error(NOW + timedelta(days=200), NOW - HOUR)
    assert error.reason is ErrorReason.INVALID_WINDOW
    # The first violation gives the metadata.
    assert error.metadata == {
        "field": "room.valid_from",
        "rule": WindowRule.STARTS_TOO_LATE,
        "limit": DAYS_180_IN_SECONDS,
    }
    assert fields_of(error) == ["room.valid_from", "room.valid_until", "room.valid_until"]
    assert all(v.reason is ErrorReason.INVALID_WINDOW for v in error.field_violations)


def test_check_window_uses_the_given_prefix() -> None:
    error = error_of(
        lambda v: windows.check_window(v, "x.", NOW + 2 * HOUR, NOW + HOUR, NOW, LIMITS)
    )
    assert fields_of(error) == ["x.valid_until"]


def test_window_descriptions_state_the_limit() -> None:
    too_long = window_error(NOW, NOW + timedelta(days=181))
    assert "180 days" in too_long.field_violations[0].description
    too_late = window_error(NOW + timedelta(days=181), NOW + timedelta(days=182))
    assert "180 days" in too_late.field_violations[0].description


# --- Custom limits ---------------------------------------------------------------------


def test_custom_default_window() -> None:
    room = rules.resolve_new_room("", RoomSettings(), NOW, CUSTOM)
    assert (room.valid_from, room.valid_until) == (NOW, NOW + timedelta(days=7))


def test_custom_max_window() -> None:
    rules.resolve_new_room("", RoomSettings(NOW, NOW + timedelta(days=30)), NOW, CUSTOM)
    error = window_error(NOW, NOW + timedelta(days=30) + SECOND, CUSTOM)
    assert error.metadata["rule"] == WindowRule.WINDOW_TOO_LONG
    assert error.metadata["limit"] == str(30 * 86_400)
    assert "30 days" in error.field_violations[0].description


def test_custom_max_start_ahead() -> None:
    start = NOW + timedelta(days=10)
    rules.resolve_new_room("", RoomSettings(start, start + HOUR), NOW, CUSTOM)
    error = window_error(start + SECOND, start + HOUR, CUSTOM)
    assert error.metadata["rule"] == WindowRule.STARTS_TOO_LATE
    assert error.metadata["limit"] == str(10 * 86_400)
    assert fields_of(error) == ["room.valid_from"]
