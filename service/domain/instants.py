"""The instants the service accepts, in one place.

Every instant a caller may send (a room's `valid_from` and `valid_until`) must lie in
[EARLIEST, LATEST], both inclusive, at microsecond precision (finer digits are dropped).
Inside this range an instant survives a round trip through PostgreSQL and back, and the
arithmetic of the rules (a window, an early entry, a retention period) cannot overflow
Python's datetime. Outside it, asyncpg would store 0001-01-01T00:00:00Z as `-infinity`
and 9999-12-31T23:59:59.999999Z as `infinity`, and read them back as naive datetimes.

Reads never fail on a stored row: `readable` maps whatever a row holds (an infinity, an
instant from before this rule) to the nearest instant of the range.
"""

from __future__ import annotations

from datetime import UTC, datetime

from service.domain.errors import Violations

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
RANGE_TEXT = "1970-01-01T00:00:00Z to 9999-01-01T00:00:00Z"


def check(violations: Violations, field: str, value: datetime) -> bool:
    """Whether `value` is an accepted instant; if not, a violation naming `field`."""
    if EARLIEST <= value <= LATEST:
        return True
    violations.add(field, f"must be between {RANGE_TEXT}")
    return False


def readable(value: datetime) -> datetime:
    """A stored instant as the domain may use it: infinities (read by asyncpg as naive
    datetime.min / datetime.max) and anything outside the range become its nearest end."""
    if value.tzinfo is None:
        return LATEST if value.year >= 9999 else EARLIEST
    if value < EARLIEST:
        return EARLIEST
    if value > LATEST:
        return LATEST
    return value
