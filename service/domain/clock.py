"""The one source of the current time: every time-based decision reads it here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(value: datetime) -> int:
    """An aware datetime as whole microseconds since 1970 (PostgreSQL's precision)."""
    return (value - _EPOCH) // _MICROSECOND


def from_epoch_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class Clock(Protocol):
    """Tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = value

    def advance(self, delta: timedelta) -> None:
        self._now += delta
