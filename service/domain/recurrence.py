"""Recurring rooms: a room's `recurrence` (RFC 5545 lines as Google Calendar's API takes
them) expanded in its `time_zone` into occurrences, and the occurrence that counts at
an instant. Pure rules: python-dateutil's `rruleset` expands, zoneinfo knows the zones.

A recurring room's `valid_from`..`valid_until` is its first occurrence (the rule's
DTSTART, which must be an occurrence of the RRULE); every occurrence lasts as long.
Expansion is bounded (`MAX_OCCURRENCES`, `MAX_SERIES`) and memoised by value
(`occurrences` is an LRU cache on the series), so the join path (`window_at`) is a
cache hit and a binary search, not an expansion per call.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrule, rruleset, rrulestr

from service.domain.errors import Violations

MAX_OCCURRENCES = 1000
MAX_SERIES = timedelta(days=731)  # two years, a leap day included
MAX_LINES = 100
MAX_LINE_LENGTH = 2000
DEFAULT_TIME_ZONE = "UTC"

SUPPORTED_FREQ = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
SUPPORTED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
)
_LINE = re.compile(r"(?P<name>[A-Za-z-]+)(?P<params>(?:;[A-Za-z-]+=[^;:]*)*):(?P<value>.+)")
_DATE_TIME = re.compile(r"(\d{8}T\d{6})(Z?)")
_DATE = re.compile(r"\d{8}")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence: [start, end), in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Series:
    """What the occurrences of a room follow from; hashable (the expansion's cache key)."""

    recurrence: tuple[str, ...]
    time_zone: str
    first_start: datetime
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Parsed:
    """A recurrence as a calendar writes it: the RRULE's value (UNTIL in UTC), and the
    RDATE and EXDATE instants, zoned."""

    rrule: str | None
    rdates: tuple[datetime, ...]
    exdates: tuple[datetime, ...]


class RecurrenceError(ValueError):
    """A recurrence that cannot be expanded: the field (relative) and why."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone of that name, or None if there is none (file paths refused)."""
    if not name or name.startswith("/") or ".." in name or name not in _zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def _instant(text: str, tz: ZoneInfo, field: str) -> datetime:
    """An RFC 5545 DATE-TIME value: UTC with Z, else wall time in `tz`."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        if _DATE.fullmatch(text):
            raise RecurrenceError(field, f"{text!r}: dates (VALUE=DATE) are not supported")
        raise RecurrenceError(field, f"{text!r} is not a DATE-TIME (YYYYMMDDTHHMMSS[Z])")
    try:
        wall = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S")
    except ValueError:
        raise RecurrenceError(field, f"{text!r} is not a valid date and time") from None
    if match.group(2):
        return wall.replace(tzinfo=UTC)
    return wall.replace(tzinfo=tz)


def _rrule(value: str, tz: ZoneInfo, field: str) -> str:
    """An RRULE value checked part by part, UNTIL turned into UTC (as dateutil needs it
    with a zoned DTSTART, and as the feed writes it)."""
    parts: list[str] = []
    names: set[str] = set()
    for part in value.split(";"):
        name, sep, part_value = part.partition("=")
        name = name.upper()
        if not sep or not part_value:
            raise RecurrenceError(field, f"{part!r} is not NAME=VALUE")
        if name not in SUPPORTED_PARTS:
            raise RecurrenceError(field, f"{name} is not supported")
        if name in names:
            raise RecurrenceError(field, f"{name} appears twice")
        names.add(name)
        if name == "FREQ" and part_value.upper() not in SUPPORTED_FREQ:
            raise RecurrenceError(field, f"FREQ={part_value} is not supported")
        if name == "UNTIL":
            if _DATE.fullmatch(part_value):  # a date: through the end of that day
                day = datetime.strptime(part_value, "%Y%m%d").replace(tzinfo=tz)
                until = day + timedelta(days=1, seconds=-1)
            else:
                until = _instant(part_value, tz, field)
            part_value = until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        parts.append(f"{name}={part_value.upper()}")
    if "FREQ" not in names:
        raise RecurrenceError(field, "FREQ is required")
    if {"COUNT", "UNTIL"} <= names:
        raise RecurrenceError(field, "COUNT and UNTIL must not both be given")
    return ";".join(parts)


def _parse(recurrence: Sequence[str], tz: ZoneInfo) -> Parsed:
    rule: str | None = None
    rdates: list[datetime] = []
    exdates: list[datetime] = []
    for index, line in enumerate(recurrence):
        field = f"[{index}]"
        match = _LINE.fullmatch(line.strip())
        if match is None:
            raise RecurrenceError(field, "is not an RFC 5545 line (NAME[;PARAM=VALUE]:VALUE)")
        name = match.group("name").upper()
        params = dict(
            (key.upper(), val)
            for key, _, val in (p.partition("=") for p in match.group("params").split(";")[1:])
        )
        if name == "RRULE":
            if rule is not None:
                raise RecurrenceError(field, "only one RRULE is supported")
            if params:
                raise RecurrenceError(field, "RRULE takes no parameters")
            rule = _rrule(match.group("value"), tz, field)
            continue
        if name not in ("EXDATE", "RDATE"):
            raise RecurrenceError(field, f"{name} is not supported (RRULE, EXDATE, RDATE are)")
        line_tz = tz
        for key, val in params.items():
            if key == "TZID":
                found = zone(val)
                if found is None:
                    raise RecurrenceError(field, f"TZID={val} is not a known IANA time zone")
                line_tz = found
            elif key == "VALUE" and val.upper() == "DATE-TIME":
                pass
            else:
                raise RecurrenceError(field, f"{key}={val} is not supported")
        values = [_instant(v.strip(), line_tz, field) for v in match.group("value").split(",")]
        (rdates if name == "RDATE" else exdates).extend(values)
    return Parsed(rule, tuple(rdates), tuple(exdates))


def parse(series: Series) -> Parsed:
    """The lines of a series already checked, parsed."""
    tz = zone(series.time_zone)
    if tz is None:
        raise RecurrenceError("time_zone", f"{series.time_zone!r} is not a known IANA time zone")
    return _parse(series.recurrence, tz)


def expand(series: Series) -> tuple[Occurrence, ...]:
    """Every occurrence of a series, in order; RecurrenceError past a limit or for a
    malformed line (the error's field is relative to `recurrence`)."""
    tz = zone(series.time_zone)
    if tz is None:
        raise RecurrenceError("time_zone", f"{series.time_zone!r} is not a known IANA time zone")
    if len(series.recurrence) > MAX_LINES:
        raise RecurrenceError("", f"must have at most {MAX_LINES} lines")
    for index, line in enumerate(series.recurrence):
        if len(line) > MAX_LINE_LENGTH:
            raise RecurrenceError(f"[{index}]", f"must be at most {MAX_LINE_LENGTH} characters")
    if series.first_start.microsecond or series.duration.microseconds:
        raise RecurrenceError(
            "valid_from", "must be a whole second, as valid_until, for a recurring room"
        )
    parsed = _parse(series.recurrence, tz)
    dtstart = series.first_start.astimezone(tz)
    rules = rruleset()
    if parsed.rrule is not None:
        try:
            rule = rrulestr(parsed.rrule, dtstart=dtstart)
        except (ValueError, TypeError) as error:
            raise RecurrenceError("", f"the RRULE is not valid: {error}") from None
        if not isinstance(rule, rrule):
            raise RecurrenceError("", "only one RRULE is supported")
        first = next(iter(rule), None)
        if first is None or first != dtstart:
            raise RecurrenceError(
                "", "valid_from must be the RRULE's first occurrence (it is the rule's DTSTART)"
            )
        rules.rrule(rule)
    else:
        rules.rdate(dtstart)
    for instant in parsed.rdates:
        rules.rdate(instant.astimezone(tz))
    for instant in parsed.exdates:
        rules.exdate(instant.astimezone(tz))
    latest = series.first_start + MAX_SERIES - series.duration
    found: list[Occurrence] = []
    for start in rules:
        start_utc = start.astimezone(UTC)
        if len(found) == MAX_OCCURRENCES:
            raise RecurrenceError("", f"must have at most {MAX_OCCURRENCES} occurrences")
        if start_utc > latest:
            raise RecurrenceError(
                "", f"the series must end within {MAX_SERIES.days} days of valid_from"
            )
        if start_utc < series.first_start:
            raise RecurrenceError("", f"{start_utc.isoformat()} is before valid_from")
        if found and start_utc < found[-1].end:
            raise RecurrenceError(
                "",
                f"occurrences overlap: {found[-1].start.isoformat()} and {start_utc.isoformat()}",
            )
        found.append(Occurrence(start_utc, start_utc + series.duration))
    if not found:
        raise RecurrenceError("", "leaves no occurrence")
    return tuple(found)


@lru_cache(maxsize=4096)
def occurrences(series: Series) -> tuple[Occurrence, ...]:
    """The occurrences of a series already checked (memoised: the hot path's)."""
    return expand(series)


def check(violations: Violations, prefix: str, series: Series) -> tuple[Occurrence, ...] | None:
    """The occurrences of a series, or None and a violation naming the field
    (`{prefix}recurrence[i]`, `{prefix}recurrence`, `{prefix}time_zone`)."""
    try:
        return occurrences(series)
    except RecurrenceError as error:
        field = (
            error.field
            if error.field in ("time_zone", "valid_from")
            else "recurrence" + error.field
        )
        violations.add(prefix + field, error.description)
        return None


@lru_cache(maxsize=4096)
def _ends(series: Series) -> tuple[datetime, ...]:
    return tuple(o.end for o in occurrences(series))


def window_at(series: Series, now: datetime) -> Occurrence:
    """The occurrence that counts at `now`: the one under way, else the next, else the
    last (a series that has ended). Two cache hits and a binary search."""
    found = occurrences(series)
    index = bisect_right(_ends(series), now)
    return found[min(index, len(found) - 1)]


def between(found: Sequence[Occurrence], start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences that overlap [start, end)."""
    return [o for o in found if o.end > start and o.start < end]
