"""What the unit tests of service.domain.rules and service.domain.updates share: a
fixed instant (no wall clock, no sleeping, no database), the default and a custom set
of limits, running one check to the error it raises, and the fields an error names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from service.domain import rules
from service.domain.errors import DomainError, Violations
from service.domain.limits import Limits
from service.domain.models import RoomSettings

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
LIMITS = Limits()
DAYS_180_IN_SECONDS = str(180 * 86_400)

# Limits unlike the defaults, to show that each rule takes its bound from `Limits`.
CUSTOM = Limits(
    default_window=timedelta(days=7),
    max_window=timedelta(days=30),
    max_start_ahead=timedelta(days=10),
    max_early_entry=timedelta(hours=1),
    max_batch_size=2,
    max_metadata_entries=2,
    max_metadata_key_length=4,
    max_metadata_value_length=3,
    default_page_size=5,
    max_page_size=10,
)


def error_of(check: Callable[[Violations], None]) -> DomainError:
    """Run one check against a fresh Violations and return the error it raises."""
    violations = Violations()
    check(violations)
    with pytest.raises(DomainError) as info:
        violations.raise_if_any()
    return info.value


def passes(check: Callable[[Violations], None]) -> bool:
    violations = Violations()
    check(violations)
    return not violations


def fields_of(error: DomainError) -> list[str]:
    return [violation.field for violation in error.field_violations]


def window_error(
    valid_from: datetime, valid_until: datetime, limits: Limits = LIMITS
) -> DomainError:
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("", RoomSettings(valid_from, valid_until), NOW, limits)
    return info.value
