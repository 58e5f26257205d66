"""A room's window: the defaults (`resolve_window`, the one place that says, for example,
that `valid_until` defaults to now + 180 days, `Limits.default_window`) and the rules
a window and the early entry before it follow."""

from __future__ import annotations

from datetime import datetime, timedelta

from service.domain.errors import ErrorReason, Violations
from service.domain.limits import Limits


class WindowRule:
    """The names of the window rules, as sent in `ErrorInfo.metadata["rule"]`."""

    WINDOW_TOO_LONG = "WINDOW_TOO_LONG"
    ENDS_IN_PAST = "ENDS_IN_PAST"
    STARTS_TOO_LATE = "STARTS_TOO_LATE"
    ENDS_BEFORE_START = "ENDS_BEFORE_START"


def check_early_entry(
    violations: Violations, field: str, early_entry: timedelta, limits: Limits
) -> None:
    if early_entry < timedelta(0):
        violations.add(field, "must not be negative")
    elif early_entry > limits.max_early_entry:
        violations.add(
            field, f"must be at most {int(limits.max_early_entry.total_seconds())} seconds"
        )


def check_window(
    violations: Violations,
    prefix: str,
    valid_from: datetime,
    valid_until: datetime,
    now: datetime,
    limits: Limits,
    ends: datetime | None = None,
) -> None:
    """The window rules: every broken rule is reported against its field. `ends`: when
    the room ends, if not at `valid_until` (a recurring room's last occurrence)."""

    def broken(field: str, rule: str, description: str, limit: timedelta | None) -> None:
        extra = {"rule": rule}
        if limit is not None:
            extra["limit"] = str(int(limit.total_seconds()))
        violations.add(prefix + field, description, ErrorReason.INVALID_WINDOW, **extra)

    if valid_from > now + limits.max_start_ahead:
        broken(
            "valid_from",
            WindowRule.STARTS_TOO_LATE,
            f"must be at most {limits.max_start_ahead.days} days in the future",
            limits.max_start_ahead,
        )
    if (ends or valid_until) <= now:
        broken("valid_until", WindowRule.ENDS_IN_PAST, "must be in the future", None)
    if valid_until <= valid_from:
        broken("valid_until", WindowRule.ENDS_BEFORE_START, "must be after valid_from", None)
    elif valid_until - max(valid_from, now) > limits.max_window:
        # Counted from valid_from, or from now once valid_from has passed: a client
        # sending its own "now" as valid_from, or extending an open room, is not
        # penalised for the time already gone.
        broken(
            "valid_until",
            WindowRule.WINDOW_TOO_LONG,
            f"the window must be at most {limits.max_window.days} days long",
            limits.max_window,
        )


WINDOW = ("valid_from", "valid_until")
# The settings the occurrences of a room follow from.
RECURRING = frozenset({*WINDOW, "recurrence", "time_zone"})


def resolve_window(
    valid_from: datetime | None, valid_until: datetime | None, now: datetime, limits: Limits
) -> tuple[datetime, datetime]:
    """The window defaults, the one place they are applied: an unset `valid_from` is
    now, an unset `valid_until` now + `Limits.default_window`."""
    return (
        valid_from if valid_from is not None else now,
        valid_until if valid_until is not None else now + limits.default_window,
    )
