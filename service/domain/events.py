"""Room events: what changed, as recorded in a room's history and sent to watchers."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, get_origin

from service.domain import instants
from service.domain.models import (
    SETTING_TYPES,
    ResolvedSettings,
    Role,
    RoleCapacity,
    api_name,
)
from service.domain.recurrence import Occurrence
from service.domain.seats import Seat

SYSTEM_ACTOR = "system"


class EventType(StrEnum):
    """The kinds of room events (stored names; mirror `rooms.v1.RoomEventType`)."""

    CREATED = "created"
    SETTINGS_CHANGED = "settings_changed"
    PARTICIPANT_ADDED = "participant_added"
    ROLE_CHANGED = "role_changed"
    PARTICIPANT_REMOVED = "participant_removed"
    DELETED = "deleted"
    OPENED = "opened"
    ENDED = "ended"
    PARTICIPANT_BANNED = "participant_banned"
    PARTICIPANT_UNBANNED = "participant_unbanned"
    PARTICIPANT_KNOCKED = "participant_knocked"
    PARTICIPANT_ADMITTED = "participant_admitted"
    PARTICIPANT_DENIED = "participant_denied"
    SEAT_TAKEN = "seat_taken"
    SEAT_RELEASED = "seat_released"
    SEAT_EXPIRED = "seat_expired"
    ADMISSION_REVOKED = "admission_revoked"
    PARTICIPANT_WINDOW_CHANGED = "participant_window_changed"
    PARTICIPANT_WINDOW_ENDED = "participant_window_ended"
    PARTICIPANT_MODERATED = "participant_moderated"


@dataclass(frozen=True, slots=True)
class Moderation:
    """A moderation rooms decided: who asked, mute or unmute, the video too or not."""

    actor_user_id: str
    muted: bool
    video: bool


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """One stored event."""

    room_id: str
    revision: int
    event_time: datetime
    type: EventType
    actor: str
    settings: ResolvedSettings | None = None
    changed_fields: tuple[str, ...] = ()
    user_id: str | None = None
    role: Role | None = None
    previous_role: Role | None = None
    display_name: str | None = None
    seat: Seat | None = None
    # A participant's own window (PARTICIPANT_ADDED, _WINDOW_CHANGED, _WINDOW_ENDED).
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    moderation: Moderation | None = None
    removed_occurrences: tuple[Occurrence, ...] = ()
    added_occurrences: tuple[Occurrence, ...] = ()


@dataclass(frozen=True, slots=True)
class History:
    """What a room's retained history spans."""

    deleted: bool
    oldest: int  # the oldest retained revision; latest + 1 when none is retained
    latest: int


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: its type and its data (JSON-ready)."""

    type: EventType
    data: dict[str, Any] = field(default_factory=dict)


def role_capacity_data(entries: Sequence[RoleCapacity]) -> list[dict[str, Any]]:
    """Role capacity as stored (in `rooms.role_capacity` and in events)."""
    return [
        {"role": e.role.value, "max": e.max_participants, "reserved": e.reserved} for e in entries
    ]


def role_capacity_from(data: Sequence[Mapping[str, Any]]) -> tuple[RoleCapacity, ...]:
    return tuple(RoleCapacity(Role(e["role"]), int(e["max"]), int(e["reserved"])) for e in data)


# ---- the settings codec for event payloads ----------------------------------------
# Each setting is stored under its name (but for the few below), encoded by its type;
# a setting an older event does not record reads as its default (decoded by
# event_records.settings_from_data, with the same table).

PAYLOAD_KEYS = {"early_entry": "early_entry_seconds"}
Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _codec(kind: Any) -> Codec:
    if kind is datetime:
        return datetime.isoformat, lambda raw: instants.readable(datetime.fromisoformat(raw))
    if kind is timedelta:
        return timedelta.total_seconds, lambda raw: timedelta(seconds=raw)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return (lambda value: value.value), kind
    if kind == tuple[RoleCapacity, ...]:
        return role_capacity_data, role_capacity_from
    if get_origin(kind) is Mapping:
        return dict, lambda raw: raw
    if kind == tuple[str, ...]:
        return list, tuple
    if kind in (bool, int, str):
        return (lambda value: value), (lambda raw: raw)
    raise TypeError(f"no event payload codec for a setting of type {kind}")


CODECS: dict[str, Codec] = {name: _codec(kind) for name, kind in SETTING_TYPES.items()}


def settings_data(settings: ResolvedSettings) -> dict[str, Any]:
    """A room's settings as an event payload records them (JSON-ready)."""
    return {
        PAYLOAD_KEYS.get(name, name): encode(getattr(settings, name))
        for name, (encode, _) in CODECS.items()
    }


def created(room: ResolvedSettings) -> NewEvent:
    return NewEvent(EventType.CREATED, {"settings": settings_data(room)})


def settings_changed(
    room: ResolvedSettings, changed: Collection[str], previous: ResolvedSettings | None = None
) -> NewEvent:
    """`changed` are the settings that changed (domain names); the event names API fields.
    With the settings before the change, the occurrences removed and added."""
    fields = sorted(api_name(name) for name in changed)
    data: dict[str, Any] = {"settings": settings_data(room), "changed_fields": fields}
    if previous is not None:
        removed, added = occurrence_changes(previous, room)
        if removed or added:
            data["removed_occurrences"] = [_occurrence_data(o) for o in removed]
            data["added_occurrences"] = [_occurrence_data(o) for o in added]
    return NewEvent(EventType.SETTINGS_CHANGED, data)


# At most this many occurrences of each kind in one event.
MAX_CHANGED_OCCURRENCES = 1000


def occurrence_changes(
    before: ResolvedSettings, after: ResolvedSettings
) -> tuple[list[Occurrence], list[Occurrence]]:
    """The occurrences `before` has and `after` has not, and the other way round."""
    old, new = set(before.occurrences()), set(after.occurrences())
    if old == new:
        return [], []
    removed = sorted(old - new, key=lambda o: o.start)[:MAX_CHANGED_OCCURRENCES]
    added = sorted(new - old, key=lambda o: o.start)[:MAX_CHANGED_OCCURRENCES]
    return removed, added


def _occurrence_data(occurrence: Occurrence) -> list[str]:
    return [occurrence.start.isoformat(), occurrence.end.isoformat()]


def _window_data(valid_from: datetime | None, valid_until: datetime | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if valid_from is not None:
        data["valid_from"] = valid_from.isoformat()
    if valid_until is not None:
        data["valid_until"] = valid_until.isoformat()
    return data


def participant_added(
    user_id: str,
    role: Role,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> NewEvent:
    return NewEvent(
        EventType.PARTICIPANT_ADDED,
        {"user_id": user_id, "role": role.value, **_window_data(valid_from, valid_until)},
    )


def participant_window_changed(
    user_id: str, role: Role, valid_from: datetime | None, valid_until: datetime | None
) -> NewEvent:
    """The identity's own window after the change (a bound absent: the room's)."""
    return NewEvent(
        EventType.PARTICIPANT_WINDOW_CHANGED,
        {"user_id": user_id, "role": role.value, **_window_data(valid_from, valid_until)},
    )


def participant_window_ended(user_id: str, role: Role, valid_until: datetime) -> NewEvent:
    return NewEvent(
        EventType.PARTICIPANT_WINDOW_ENDED,
        {"user_id": user_id, "role": role.value, **_window_data(None, valid_until)},
    )


def participant_moderated(user_id: str, moderation: Moderation) -> NewEvent:
    return NewEvent(
        EventType.PARTICIPANT_MODERATED,
        {
            "user_id": user_id,
            "moderation": {
                "actor_user_id": moderation.actor_user_id,
                "muted": moderation.muted,
                "video": moderation.video,
            },
        },
    )


def role_changed(user_id: str, role: Role, previous: Role) -> NewEvent:
    return NewEvent(
        EventType.ROLE_CHANGED,
        {"user_id": user_id, "role": role.value, "previous_role": previous.value},
    )


def participant_removed(user_id: str, previous: Role) -> NewEvent:
    return NewEvent(
        EventType.PARTICIPANT_REMOVED, {"user_id": user_id, "previous_role": previous.value}
    )


def participant_banned(user_id: str) -> NewEvent:
    return NewEvent(EventType.PARTICIPANT_BANNED, {"user_id": user_id})


def participant_unbanned(user_id: str) -> NewEvent:
    return NewEvent(EventType.PARTICIPANT_UNBANNED, {"user_id": user_id})


def participant_knocked(user_id: str, role: Role, display_name: str | None) -> NewEvent:
    data: dict[str, Any] = {"user_id": user_id, "role": role.value}
    if display_name:
        data["display_name"] = display_name
    return NewEvent(EventType.PARTICIPANT_KNOCKED, data)


def participant_admitted(user_id: str, role: Role | None) -> NewEvent:
    data: dict[str, Any] = {"user_id": user_id}
    if role is not None:
        data["role"] = role.value
    return NewEvent(EventType.PARTICIPANT_ADMITTED, data)


def participant_denied(user_id: str) -> NewEvent:
    return NewEvent(EventType.PARTICIPANT_DENIED, {"user_id": user_id})


def admission_revoked(user_id: str) -> NewEvent:
    return NewEvent(EventType.ADMISSION_REVOKED, {"user_id": user_id})


def _seat_data(seat: Seat) -> dict[str, Any]:
    return {
        "user_id": seat.user_id,
        "role": seat.role.value,
        "seat": {
            "seat_id": seat.seat_id,
            "create_time": seat.create_time.isoformat(),
            "expire_time": seat.expire_time.isoformat(),
        },
    }


def seat_taken(seat: Seat) -> NewEvent:
    return NewEvent(EventType.SEAT_TAKEN, _seat_data(seat))


def seat_released(seat: Seat) -> NewEvent:
    return NewEvent(EventType.SEAT_RELEASED, _seat_data(seat))


def seat_expired(seat: Seat) -> NewEvent:
    return NewEvent(EventType.SEAT_EXPIRED, _seat_data(seat))


def deleted() -> NewEvent:
    return NewEvent(EventType.DELETED)
