"""Room events: what changed, as recorded in a room's history and sent to watchers."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from service.domain import instants
from service.domain.models import JoinPolicy, Role, RoleCapacity, Room
from service.domain.seats import Seat
from service.domain.updates import UPDATABLE_FIELDS

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


@dataclass(frozen=True, slots=True)
class Settings:
    """A room's settings as an event records them."""

    valid_from: datetime
    valid_until: datetime
    pstn_dial_out_enabled: bool
    join_policy: JoinPolicy
    metadata: Mapping[str, str]
    open_join_role: Role
    early_entry: timedelta
    waiting_room_enabled: bool = False
    max_participants: int = 0
    role_capacity: tuple[RoleCapacity, ...] = ()


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """One stored event."""

    room_id: str
    revision: int
    event_time: datetime
    type: EventType
    actor: str
    settings: Settings | None = None
    changed_fields: tuple[str, ...] = ()
    user_id: str | None = None
    role: Role | None = None
    previous_role: Role | None = None
    display_name: str | None = None
    seat: Seat | None = None


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


def _settings_data(room: Room) -> dict[str, Any]:
    return {
        "valid_from": room.valid_from.isoformat(),
        "valid_until": room.valid_until.isoformat(),
        "pstn_dial_out_enabled": room.pstn_dial_out_enabled,
        "join_policy": room.join_policy.value,
        "metadata": dict(room.metadata),
        "open_join_role": room.open_join_role.value,
        "early_entry_seconds": room.early_entry.total_seconds(),
        "waiting_room_enabled": room.waiting_room_enabled,
        "max_participants": room.max_participants,
        "role_capacity": role_capacity_data(room.role_capacity),
    }


def role_capacity_data(entries: Sequence[RoleCapacity]) -> list[dict[str, Any]]:
    """Role capacity as stored (in `rooms.role_capacity` and in events)."""
    return [
        {"role": e.role.value, "max": e.max_participants, "reserved": e.reserved} for e in entries
    ]


def role_capacity_from(data: Sequence[Mapping[str, Any]]) -> tuple[RoleCapacity, ...]:
    return tuple(RoleCapacity(Role(e["role"]), int(e["max"]), int(e["reserved"])) for e in data)


def created(room: Room) -> NewEvent:
    return NewEvent(EventType.CREATED, {"settings": _settings_data(room)})


def settings_changed(room: Room, columns: Collection[str]) -> NewEvent:
    """`columns` are the storage columns that changed; the event names API fields."""
    fields = sorted(path for path, column in UPDATABLE_FIELDS.items() if column in columns)
    return NewEvent(
        EventType.SETTINGS_CHANGED, {"settings": _settings_data(room), "changed_fields": fields}
    )


def participant_added(user_id: str, role: Role) -> NewEvent:
    return NewEvent(EventType.PARTICIPANT_ADDED, {"user_id": user_id, "role": role.value})


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


def from_record(
    room_id: str,
    revision: int,
    event_time: datetime,
    type_: str,
    actor: str,
    data: Mapping[str, Any],
) -> RoomEvent:
    """Rebuild a stored event."""
    settings = None
    if "settings" in data:
        raw = data["settings"]
        settings = Settings(
            valid_from=instants.readable(datetime.fromisoformat(raw["valid_from"])),
            valid_until=instants.readable(datetime.fromisoformat(raw["valid_until"])),
            pstn_dial_out_enabled=raw["pstn_dial_out_enabled"],
            join_policy=JoinPolicy(raw["join_policy"]),
            metadata=raw["metadata"],
            open_join_role=Role(raw["open_join_role"]),
            early_entry=timedelta(seconds=raw["early_entry_seconds"]),
            waiting_room_enabled=raw.get("waiting_room_enabled", False),
            max_participants=raw.get("max_participants", 0),
            role_capacity=role_capacity_from(raw.get("role_capacity", ())),
        )
    seat = None
    if "seat" in data:
        raw_seat = data["seat"]
        seat = Seat(
            seat_id=raw_seat["seat_id"],
            room_id=room_id,
            user_id=data["user_id"],
            role=Role(data["role"]),
            create_time=datetime.fromisoformat(raw_seat["create_time"]),
            expire_time=datetime.fromisoformat(raw_seat["expire_time"]),
        )
    return RoomEvent(
        room_id=room_id,
        revision=revision,
        event_time=event_time,
        type=EventType(type_),
        actor=actor,
        settings=settings,
        changed_fields=tuple(data.get("changed_fields", ())),
        user_id=data.get("user_id"),
        role=Role(data["role"]) if "role" in data else None,
        previous_role=Role(data["previous_role"]) if "previous_role" in data else None,
        display_name=data.get("display_name"),
        seat=seat,
    )
