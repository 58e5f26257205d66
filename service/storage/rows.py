"""A room's settings <-> its columns in `rooms`: the storage codec.

Each setting is the column of its domain name, converted by the setting's type; a
new setting of a type listed here needs only its column (a migration) and its place
in `create_room`'s INSERT (in `SETTING_TYPES` order, as its parameters come).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, get_origin

import asyncpg

from service.domain import instants
from service.domain.events import role_capacity_data, role_capacity_from
from service.domain.models import SETTING_TYPES, RoleCapacity

_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _same(value: Any) -> Any:
    return value


def _enum_codec(kind: type[StrEnum]) -> _Codec:
    # Enum lookups by value through a dict: Enum(value) is slow on the hot path.
    by_value = {member.value: member for member in kind}
    return (lambda member: member.value), by_value.__getitem__


def _codec(kind: Any) -> _Codec:
    if kind is datetime:
        # Whatever a row holds (an infinity, an instant from before the accepted
        # range), it reads.
        return _same, instants.readable
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return _enum_codec(kind)
    if kind == tuple[RoleCapacity, ...]:
        return role_capacity_data, role_capacity_from
    if kind == tuple[str, ...]:
        return list, tuple
    if get_origin(kind) is Mapping:
        # Stored as a plain dict (the JSON codec's input), whatever mapping it was.
        return dict, _same
    if kind in (bool, int, str, timedelta):
        return _same, _same
    raise TypeError(f"no storage codec for a setting of type {kind}")


_CODECS: dict[str, _Codec] = {name: _codec(kind) for name, kind in SETTING_TYPES.items()}


def settings_from_row(record: asyncpg.Record) -> dict[str, Any]:
    """The settings a `rooms` row holds, by name (keyword arguments of a Room)."""
    return {name: decode(record[name]) for name, (_, decode) in _CODECS.items()}


def column_value(name: str, value: Any) -> Any:
    """A setting's value as its column stores it."""
    return _CODECS[name][0](value)
