"""Protobuf messages <-> domain values: times, rooms and their settings, rosters,
seats and events. Bad wire values become INVALID_ARGUMENT. The answers of admission
(join decisions, credentials, knocks, capabilities) are in convert_admission.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, get_origin

from google.protobuf import duration_pb2, timestamp_pb2
from rooms.v1 import (
    events_pb2,
    participant_pb2,
    room_pb2,
    waiting_room_pb2,
)

from service.domain.clock import epoch_micros
from service.domain.errors import Violations
from service.domain.events import EventType, RoomEvent
from service.domain.limits import Limits
from service.domain.models import (
    DEFAULT_JOIN_POLICY,
    DEFAULT_ROLE,
    SETTING_TYPES,
    JoinPolicy,
    Participant,
    ResolvedSettings,
    Role,
    RoleCapacity,
    Room,
    RoomSettings,
    RoomState,
    RosterEntry,
    api_name,
)
from service.domain.rules import batch_fits
from service.domain.seats import Seat, role_capacity_fits
from service.transport.vocabulary import (
    EVENT_TYPES,
    JOIN_POLICIES,
    ROLES,
    ROOM_STATES,
)

# The largest and smallest instants a google.protobuf.Timestamp may hold.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799


# ---- wire -> domain -----------------------------------------------------


def role_in(violations: Violations, field: str, number: int) -> Role:
    """An input role: unspecified means the default (Attendee)."""
    return ROLES.value_in(violations, field, number, DEFAULT_ROLE)


def role_filter(violations: Violations, field: str, number: int) -> Role | None:
    """A role filter: unspecified means any role."""
    return ROLES.optional_in(violations, field, number)


def state_filter(violations: Violations, field: str, number: int) -> RoomState | None:
    return ROOM_STATES.optional_in(violations, field, number)


def _timestamp_in(
    violations: Violations, field: str, value: timestamp_pb2.Timestamp
) -> datetime | None:
    if not (_MIN_SECONDS <= value.seconds <= _MAX_SECONDS and 0 <= value.nanos < 1_000_000_000):
        violations.add(field, "is not a valid timestamp (years 1 to 9999)")
        return None
    return value.ToDatetime(tzinfo=UTC)


def _duration_in(violations: Violations, field: str, value: duration_pb2.Duration) -> timedelta:
    seconds, nanos = value.seconds, value.nanos
    if (
        abs(seconds) > 315_576_000_000
        or abs(nanos) >= 1_000_000_000
        or (seconds > 0 > nanos)
        or (seconds < 0 < nanos)
    ):
        violations.add(field, "is not a valid duration")
        return timedelta(0)
    try:
        return value.ToTimedelta()
    except OverflowError:
        violations.add(field, "is out of range")
        return timedelta(0)


def populated_fields(room: room_pb2.Room) -> list[str]:
    """The settable fields holding a non-default value (the AIP-134 implied mask)."""
    return [descriptor.name for descriptor, _ in room.ListFields()]


def roster_in(
    violations: Violations,
    field: str,
    participants: Sequence[participant_pb2.Participant],
    limits: Limits,
) -> list[RosterEntry]:
    if not batch_fits(violations, field, len(participants), limits):
        return []  # refused whole (BATCH_TOO_LARGE), before any entry is converted
    return [
        RosterEntry(
            p.user_id,
            role_in(violations, f"{field}[{index}].role", p.role),
            _optional_timestamp_in(violations, f"{field}[{index}].valid_from", p, "valid_from"),
            _optional_timestamp_in(violations, f"{field}[{index}].valid_until", p, "valid_until"),
        )
        for index, p in enumerate(participants)
    ]


def _optional_timestamp_in(
    violations: Violations, field: str, message: participant_pb2.Participant, name: str
) -> datetime | None:
    """A Timestamp field that may be unset (None)."""
    if not message.HasField(name):  # type: ignore[arg-type]
        return None
    return _timestamp_in(violations, field, getattr(message, name))


# ---- domain -> wire -----------------------------------------------------


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp. (Plain arithmetic: a tenth of the cost of
    Timestamp.FromDatetime, which matters with five per room and 500 rooms a page.)"""
    seconds, micros = divmod(epoch_micros(value), 1_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=micros * 1000)


def times_out(message: Any, **times: datetime | None) -> None:
    """Set the Timestamp fields of `message` named by `times`, leaving a None unset."""
    for name, value in times.items():
        if value is not None:
            getattr(message, name).CopyFrom(timestamp(value))


def duration(value: timedelta) -> duration_pb2.Duration:
    micros = value // timedelta(microseconds=1)
    seconds, rest = divmod(abs(micros), 1_000_000)
    sign = -1 if micros < 0 else 1
    return duration_pb2.Duration(seconds=sign * seconds, nanos=sign * rest * 1000)


def role_capacity_out(entries: Iterable[RoleCapacity]) -> list[room_pb2.RoleCapacity]:
    return [
        room_pb2.RoleCapacity(
            role=ROLES.to_proto[e.role], max_participants=e.max_participants, reserved=e.reserved
        )
        for e in entries
    ]


# ---- the settings codec: a Room message's settable fields <-> RoomSettings ----------
# Each setting is the Room field of its API name (`models.api_name`), converted by the
# setting's type; a new setting of a type listed here needs no edit.

_SettingIn = Callable[[Violations, str, Any], Any]
_SettingOut = Callable[[Any], Any]


def _role_capacity_in(
    violations: Violations, field: str, entries: Sequence[room_pb2.RoleCapacity]
) -> tuple[RoleCapacity, ...]:
    if not role_capacity_fits(violations, field, len(entries)):
        return ()  # refused whole, before any entry is converted
    return tuple(
        RoleCapacity(
            role_in(violations, f"{field}[{index}].role", entry.role),
            entry.max_participants,
            entry.reserved,
        )
        for index, entry in enumerate(entries)
    )


def _plain_in(violations: Violations, field: str, value: Any) -> Any:
    return value


def _setting_codec(kind: Any) -> tuple[_SettingIn, _SettingOut]:
    if kind is datetime:
        return _timestamp_in, timestamp
    if kind is timedelta:
        return _duration_in, duration
    if kind is Role:
        return role_in, ROLES.out
    if kind is JoinPolicy:
        return (
            lambda v, f, n: JOIN_POLICIES.value_in(v, f, n, DEFAULT_JOIN_POLICY),
            JOIN_POLICIES.out,
        )
    if kind == tuple[RoleCapacity, ...]:
        return _role_capacity_in, role_capacity_out
    if get_origin(kind) is Mapping:
        return (lambda v, f, value: dict(value)), dict
    if kind == tuple[str, ...]:
        return (lambda v, f, value: tuple(value)), list
    if kind in (bool, int, str):
        return _plain_in, lambda value: value
    raise TypeError(f"no protobuf codec for a setting of type {kind}")


_SETTINGS: dict[str, tuple[str, _SettingIn, _SettingOut]] = {
    name: (api_name(name), *_setting_codec(kind)) for name, kind in SETTING_TYPES.items()
}


def room_settings_in(violations: Violations, prefix: str, room: room_pb2.Room) -> RoomSettings:
    """The settable fields of a Room message, each checked for wire validity. An unset
    window field is None (the domain gives it its default)."""
    values: dict[str, Any] = {}
    for name, (wire, decode, _) in _SETTINGS.items():
        if SETTING_TYPES[name] is datetime and not room.HasField(wire):  # type: ignore[arg-type]
            values[name] = None
        else:
            values[name] = decode(violations, prefix + wire, getattr(room, wire))
    return RoomSettings(**values)


def settings_out(settings: ResolvedSettings) -> dict[str, Any]:
    """A room's settings as the keyword arguments of a Room message."""
    return {wire: encode(getattr(settings, name)) for name, (wire, _, encode) in _SETTINGS.items()}


def room_out(room: Room, now: datetime) -> room_pb2.Room:
    return room_pb2.Room(
        room_id=room.room_id,
        create_time=timestamp(room.create_time),
        update_time=timestamp(room.update_time),
        state=ROOM_STATES.out(room.state(now)),
        etag=room.etag,
        participant_count=room.participant_count,
        last_event_revision=room.last_event_revision,
        **settings_out(room),
    )


def seat_out(seat: Seat) -> waiting_room_pb2.Seat:
    return waiting_room_pb2.Seat(
        seat_id=seat.seat_id,
        room_id=seat.room_id,
        user_id=seat.user_id,
        role=ROLES.to_proto[seat.role],
        create_time=timestamp(seat.create_time),
        expire_time=timestamp(seat.expire_time),
    )


def participant_out(participant: Participant) -> participant_pb2.Participant:
    message = participant_pb2.Participant(
        user_id=participant.user_id,
        role=ROLES.to_proto[participant.role],
        create_time=timestamp(participant.create_time),
        update_time=timestamp(participant.update_time),
    )
    if participant.valid_from is not None:
        message.valid_from.CopyFrom(timestamp(participant.valid_from))
    if participant.valid_until is not None:
        message.valid_until.CopyFrom(timestamp(participant.valid_until))
    return message


def event_types_in(violations: Violations, field: str, numbers: Iterable[int]) -> list[EventType]:
    found = []
    for index, number in enumerate(numbers):
        event_type = EVENT_TYPES.optional_in(violations, f"{field}[{index}]", number)
        if event_type is not None:
            found.append(event_type)
    return found


def newest_first_in(violations: Violations, field: str, number: int) -> bool:
    if number not in events_pb2.EventOrder.values():
        violations.add(field, f"unknown order number {number}")
    return number == events_pb2.EVENT_ORDER_NEWEST_FIRST


def event_out(event: RoomEvent) -> events_pb2.RoomEvent:
    message = events_pb2.RoomEvent(
        room_id=event.room_id,
        revision=event.revision,
        event_time=timestamp(event.event_time),
        type=EVENT_TYPES.out(event.type),
        actor=event.actor,
        changed_fields=event.changed_fields,
    )
    if event.settings is not None:
        message.room.CopyFrom(room_pb2.Room(room_id=event.room_id, **settings_out(event.settings)))
    if event.user_id is not None:
        message.participant.user_id = event.user_id
        if event.role is not None:
            message.participant.role = ROLES.to_proto[event.role]
    if event.previous_role is not None:
        message.previous_role = ROLES.to_proto[event.previous_role]
    if event.display_name is not None:
        message.display_name = event.display_name
    if event.seat is not None:
        message.seat.CopyFrom(seat_out(event.seat))
    if event.valid_from is not None:
        message.participant.valid_from.CopyFrom(timestamp(event.valid_from))
    if event.valid_until is not None:
        message.participant.valid_until.CopyFrom(timestamp(event.valid_until))
    if event.moderation is not None:
        message.moderation.CopyFrom(
            events_pb2.Moderation(
                actor_user_id=event.moderation.actor_user_id,
                muted=event.moderation.muted,
                video=event.moderation.video,
            )
        )
    for name in ("removed_occurrences", "added_occurrences"):
        getattr(message, name).extend(
            room_pb2.Occurrence(start_time=timestamp(o.start), end_time=timestamp(o.end))
            for o in getattr(event, name)
        )
    return message
