"""The client's inputs: enum values by name or number, rosters, role capacities, and
the one helper that writes a room's settings into a Room message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeAlias, TypedDict, TypeVar, cast

from rooms.v1 import credentials_pb2, events_pb2, participant_pb2, room_pb2, waiting_room_pb2

RoleLike: TypeAlias = "participant_pb2.Role.ValueType | int | str"
RoomStateLike: TypeAlias = "room_pb2.RoomState.ValueType | int | str"
JoinPolicyLike: TypeAlias = "room_pb2.JoinPolicy.ValueType | int | str"
Participants: TypeAlias = "Mapping[str, RoleLike] | Iterable[str | participant_pb2.Participant]"
# Per-role capacity: `{role: (max_participants, reserved)}`, or RoleCapacity messages.
RoleCapacities: TypeAlias = "Mapping[str, tuple[int, int]] | Iterable[room_pb2.RoleCapacity]"
KnockStateLike: TypeAlias = "waiting_room_pb2.KnockState.ValueType | int | str"
EventTypeLike: TypeAlias = "events_pb2.RoomEventType.ValueType | int | str"

_T = TypeVar("_T", bound=int)
_V = TypeVar("_V", covariant=True)


class _Vocabulary(Protocol[_V]):
    """A generated enum: its values by name."""

    def Value(self, name: str) -> _V: ...


def _enum_value(enum: _Vocabulary[_T], prefix: str, kind: str, value: _T | int | str) -> _T:
    """An enum value from its number or its name (`open`, `invite-only`, `ROLE_PRESENTER`)."""
    if not isinstance(value, str):
        return cast(_T, int(value))
    name = value.strip().upper().replace("-", "_").replace(" ", "_")
    try:
        return enum.Value(name if name.startswith(prefix) else prefix + name)
    except ValueError:
        raise ValueError(f"unknown {kind} {value!r}") from None


def role_value(value: RoleLike) -> participant_pb2.Role.ValueType:
    """A role from its number or its name (`presenter`, `ROLE_PRESENTER`)."""
    return _enum_value(participant_pb2.Role, "ROLE_", "role", value)


def room_state_value(value: RoomStateLike) -> room_pb2.RoomState.ValueType:
    """A room state from its number or its name (`open`, `ROOM_STATE_OPEN`)."""
    return _enum_value(room_pb2.RoomState, "ROOM_STATE_", "room state", value)


def join_policy_value(value: JoinPolicyLike) -> room_pb2.JoinPolicy.ValueType:
    """A join policy from its number or its name (`open`, `invite-only`)."""
    return _enum_value(room_pb2.JoinPolicy, "JOIN_POLICY_", "join policy", value)


def credential_format_value(value: str | int) -> credentials_pb2.CredentialFormat.ValueType:
    """A credential format from its number or its name (`livekit`, `jitsi`, `rooms`)."""
    return _enum_value(
        credentials_pb2.CredentialFormat, "CREDENTIAL_FORMAT_", "credential format", value
    )


def knock_state_value(value: KnockStateLike) -> waiting_room_pb2.KnockState.ValueType:
    """A knock state from its number or its name (`waiting`, `KNOCK_STATE_ADMITTED`)."""
    return _enum_value(waiting_room_pb2.KnockState, "KNOCK_STATE_", "knock state", value)


def event_type_value(value: EventTypeLike) -> events_pb2.RoomEventType.ValueType:
    """A room event type from its number or its name (`participant_removed`,
    `ROOM_EVENT_TYPE_DELETED`)."""
    return _enum_value(events_pb2.RoomEventType, "ROOM_EVENT_TYPE_", "event type", value)


def role_capacities(values: RoleCapacities) -> list[room_pb2.RoleCapacity]:
    if isinstance(values, Mapping):
        return [
            room_pb2.RoleCapacity(role=role_value(role), max_participants=most, reserved=reserved)
            for role, (most, reserved) in values.items()
        ]
    return list(values)


def participant(
    user_id: str,
    role: RoleLike = 0,
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> participant_pb2.Participant:
    """A roster entry with its own window (naive datetimes are UTC): it may join from
    `valid_from` until `valid_until`, inside the room's window."""
    entry = participant_pb2.Participant(user_id=user_id, role=role_value(role))
    if valid_from is not None:
        entry.valid_from.FromDatetime(_utc(valid_from))
    if valid_until is not None:
        entry.valid_until.FromDatetime(_utc(valid_until))
    return entry


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def roster(values: Participants) -> list[participant_pb2.Participant]:
    if isinstance(values, Mapping):
        return [
            participant_pb2.Participant(user_id=user_id, role=role_value(role))
            for user_id, role in values.items()
        ]
    return [
        participant_pb2.Participant(user_id=value) if isinstance(value, str) else value
        for value in values
    ]


class RoomSettings(TypedDict, total=False):
    """A room's settings, as `create_room` and `update_room` take them (`**settings`).
    A setting left out, or None, is not given: the server's default on create (now,
    now + 180 days, invite-only, ...), unchanged on update. Naive datetimes are UTC."""

    valid_from: datetime | None
    valid_until: datetime | None
    join_policy: JoinPolicyLike | None  # `open`, `invite-only`, or the enum
    open_join_role: RoleLike | None  # the role of those who join an open room unlisted
    pstn_dial_out_enabled: bool | None
    early_entry: timedelta | None  # how early presenters may join
    metadata: Mapping[str, str] | None  # on update: replaces the whole map
    waiting_room_enabled: bool | None
    max_participants: int | None
    role_capacity: RoleCapacities | None
    recurrence: Sequence[str] | None  # RFC 5545 lines: RRULE:..., EXDATE:..., RDATE:...
    time_zone: str | None  # IANA name the recurrence is expanded in ("": UTC)


# A setting -> how it is written into a Room message, and its update-mask path.
# Settings not listed are plain fields of the same name.
_WRITERS: dict[str, tuple[str, Any]] = {
    "recurrence": ("recurrence", lambda room, value: room.recurrence.extend(value)),
    "valid_from": ("valid_from", lambda room, value: room.valid_from.FromDatetime(value)),
    "valid_until": ("valid_until", lambda room, value: room.valid_until.FromDatetime(value)),
    "early_entry": (
        "early_entry_duration",
        lambda room, value: room.early_entry_duration.FromTimedelta(value),
    ),
    "join_policy": (
        "join_policy",
        lambda room, value: setattr(room, "join_policy", join_policy_value(value)),
    ),
    "open_join_role": (
        "open_join_role",
        lambda room, value: setattr(room, "open_join_role", role_value(value)),
    ),
    "metadata": ("metadata", lambda room, value: room.metadata.update(value)),
    "role_capacity": (
        "role_capacity",
        lambda room, value: room.role_capacity.extend(role_capacities(value)),
    ),
}


def write_settings(room: room_pb2.Room, settings: RoomSettings) -> list[str]:
    """Write each setting given (not None) into `room`; return their update-mask paths.
    The one place the client turns settings into a Room message, for CreateRoom and
    UpdateRoom alike. A name that is not a setting is a TypeError, as an unexpected
    keyword argument is."""
    unknown = sorted(set(settings) - RoomSettings.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    paths: list[str] = []
    for name, value in settings.items():
        if value is None:
            continue
        path, write = _WRITERS.get(name, (name, None))
        if write is None:
            setattr(room, name, value)
        else:
            write(room, value)
        paths.append(path)
    return paths
