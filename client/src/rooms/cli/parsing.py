"""What the CLI accepts: enum choices read from the protos, times, durations, KEY=VALUE
pairs and etags."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import click

from rooms.v1 import participant_pb2, room_pb2

V = TypeVar("V")


def enum_prefix(enum: Any) -> str:
    """The prefix of an enum's value names (`ROLE_` of `ROLE_UNSPECIFIED`)."""
    return str(enum.DESCRIPTOR.values[0].name).removesuffix("UNSPECIFIED")


def choices(enum: Any) -> tuple[str, ...]:
    """The names a flag accepts, read from the protos' enum (so new values need no edit):
    `ROLE_PRESENTER` is `presenter`, `JOIN_POLICY_INVITE_ONLY` is `invite-only`."""
    prefix = enum_prefix(enum)
    return tuple(
        value.name.removeprefix(prefix).lower().replace("_", "-")
        for value in enum.DESCRIPTOR.values
        if value.number != 0
    )


ROLES = choices(participant_pb2.Role)
STATES = choices(room_pb2.RoomState)
POLICIES = choices(room_pb2.JoinPolicy)
role_choice = click.Choice(ROLES, case_sensitive=False)
state_choice = click.Choice(STATES, case_sensitive=False)

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `1h30m`, `2d`; a bare number is seconds."""
    text = text.strip().lower()
    if text.isdigit():
        return timedelta(seconds=int(text))
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"not a duration: {text!r} (use forms like 90s, 15m, 1h30m, 2d)")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """ISO 8601 (`2026-11-24T09:00Z`, naive means UTC), `now`, or `+DURATION`."""
    now = now or datetime.now(UTC)
    text = text.strip()
    if text == "now":
        return now
    if text.startswith("+"):
        return now + parse_duration(text[1:])
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use ISO 8601 like 2026-11-24T09:00Z, now, or +2h)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parse_etag(text: str) -> str:
    """The etag as `rooms show` prints it (`"3"`), or without its quotes (`3`)."""
    text = text.strip()
    if not text or (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
        return text
    return f'"{text}"'


class _Parsed(click.ParamType[V, Any]):
    def __init__(self, name: str, parse: Callable[[str], V]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> V:
        if not isinstance(value, str):
            return cast(V, value)
        try:
            return self._parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


TIME = _Parsed("time", parse_time)
DURATION = _Parsed("duration", parse_duration)
KEY_VALUE = _Parsed("key=value", parse_key_value)
ETAG = _Parsed("etag", parse_etag)
