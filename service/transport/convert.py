"""Protobuf messages <-> domain values. Bad wire values become INVALID_ARGUMENT."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2
from rooms.v1 import (
    admission_pb2,
    credentials_pb2,
    credentials_service_pb2,
    events_pb2,
    participant_pb2,
    room_pb2,
    rooms_service_pb2,
    waiting_room_pb2,
)

from service.domain.admission import ROLE_CAPABILITIES, Capability, JoinDecision, JoinReason
from service.domain.clock import epoch_micros
from service.domain.credentials import (
    CredentialFormat,
    CredentialGrant,
    CredentialStatus,
    IssuedCredential,
    Verdict,
)
from service.domain.errors import Violations
from service.domain.events import EventType, RoomEvent
from service.domain.models import (
    DEFAULT_JOIN_POLICY,
    DEFAULT_ROLE,
    JoinPolicy,
    Participant,
    Role,
    RoleCapacity,
    Room,
    RoomSettings,
    RoomState,
    RosterEntry,
)
from service.domain.seats import CapacityLimit, Seat
from service.domain.waiting_room import Knock, KnockState

ROLE_TO_PROTO: dict[Role, participant_pb2.Role.ValueType] = {
    Role.PRESENTER: participant_pb2.ROLE_PRESENTER,
    Role.ATTENDEE: participant_pb2.ROLE_ATTENDEE,
    Role.CONSUMER: participant_pb2.ROLE_CONSUMER,
    Role.COLLABORATOR: participant_pb2.ROLE_COLLABORATOR,
}
_ROLE_FROM_PROTO: dict[int, Role] = {number: role for role, number in ROLE_TO_PROTO.items()}

_POLICY_TO_PROTO: dict[JoinPolicy, room_pb2.JoinPolicy.ValueType] = {
    JoinPolicy.INVITE_ONLY: room_pb2.JOIN_POLICY_INVITE_ONLY,
    JoinPolicy.OPEN: room_pb2.JOIN_POLICY_OPEN,
}
_POLICY_FROM_PROTO: dict[int, JoinPolicy] = {
    number: policy for policy, number in _POLICY_TO_PROTO.items()
}

_STATE_TO_PROTO: dict[RoomState, room_pb2.RoomState.ValueType] = {
    RoomState.SCHEDULED: room_pb2.ROOM_STATE_SCHEDULED,
    RoomState.OPEN: room_pb2.ROOM_STATE_OPEN,
    RoomState.ENDED: room_pb2.ROOM_STATE_ENDED,
}
_STATE_FROM_PROTO: dict[int, RoomState] = {
    number: state for state, number in _STATE_TO_PROTO.items()
}

CAPABILITY_TO_PROTO: dict[Capability, admission_pb2.Capability.ValueType] = {
    capability: admission_pb2.Capability.Value(f"CAPABILITY_{capability.name}")
    for capability in Capability
}

_REASON_TO_PROTO: dict[JoinReason, admission_pb2.JoinDecisionReason.ValueType] = {
    reason: admission_pb2.JoinDecisionReason.Value(f"JOIN_DECISION_REASON_{reason.name}")
    for reason in JoinReason
}

# The largest and smallest instants a google.protobuf.Timestamp may hold.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799


# ---- wire -> domain -----------------------------------------------------


def role_in(violations: Violations, field: str, number: int) -> Role:
    """An input role: unspecified means the default (Attendee)."""
    if number == participant_pb2.ROLE_UNSPECIFIED:
        return DEFAULT_ROLE
    role = _ROLE_FROM_PROTO.get(number)
    if role is None:
        violations.add(field, f"unknown role number {number}")
        return DEFAULT_ROLE
    return role


def role_filter(violations: Violations, field: str, number: int) -> Role | None:
    """A role filter: unspecified means any role."""
    if number == participant_pb2.ROLE_UNSPECIFIED:
        return None
    return role_in(violations, field, number)


def state_filter(violations: Violations, field: str, number: int) -> RoomState | None:
    if number == room_pb2.ROOM_STATE_UNSPECIFIED:
        return None
    state = _STATE_FROM_PROTO.get(number)
    if state is None:
        violations.add(field, f"unknown room state number {number}")
    return state


def _policy_in(violations: Violations, field: str, number: int) -> JoinPolicy:
    if number == room_pb2.JOIN_POLICY_UNSPECIFIED:
        return DEFAULT_JOIN_POLICY
    policy = _POLICY_FROM_PROTO.get(number)
    if policy is None:
        violations.add(field, f"unknown join policy number {number}")
        return DEFAULT_JOIN_POLICY
    return policy


def _timestamp_in(
    violations: Violations, field: str, message: room_pb2.Room, name: str
) -> datetime | None:
    if not message.HasField(name):  # type: ignore[arg-type]
        return None
    value: timestamp_pb2.Timestamp = getattr(message, name)
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


def room_settings_in(violations: Violations, prefix: str, room: room_pb2.Room) -> RoomSettings:
    """The settable fields of a Room message, each checked for wire validity."""
    return RoomSettings(
        valid_from=_timestamp_in(violations, prefix + "valid_from", room, "valid_from"),
        valid_until=_timestamp_in(violations, prefix + "valid_until", room, "valid_until"),
        pstn_dial_out_enabled=room.pstn_dial_out_enabled,
        join_policy=_policy_in(violations, prefix + "join_policy", room.join_policy),
        metadata=dict(room.metadata),
        open_join_role=role_in(violations, prefix + "open_join_role", room.open_join_role),
        early_entry=_duration_in(
            violations, prefix + "early_entry_duration", room.early_entry_duration
        ),
        waiting_room_enabled=room.waiting_room_enabled,
        max_participants=room.max_participants,
        role_capacity=tuple(
            RoleCapacity(
                role_in(violations, f"{prefix}role_capacity[{index}].role", entry.role),
                entry.max_participants,
                entry.reserved,
            )
            for index, entry in enumerate(room.role_capacity)
        ),
    )


def populated_fields(room: room_pb2.Room) -> list[str]:
    """The settable fields holding a non-default value (the AIP-134 implied mask)."""
    return [descriptor.name for descriptor, _ in room.ListFields()]


def roster_in(
    violations: Violations, field: str, participants: Iterable[participant_pb2.Participant]
) -> list[RosterEntry]:
    return [
        RosterEntry(p.user_id, role_in(violations, f"{field}[{index}].role", p.role))
        for index, p in enumerate(participants)
    ]


# ---- domain -> wire -----------------------------------------------------


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp. (Plain arithmetic: a tenth of the cost of
    Timestamp.FromDatetime, which matters with five per room and 500 rooms a page.)"""
    seconds, micros = divmod(epoch_micros(value), 1_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=micros * 1000)


def _duration(value: timedelta) -> duration_pb2.Duration:
    micros = value // timedelta(microseconds=1)
    seconds, rest = divmod(abs(micros), 1_000_000)
    sign = -1 if micros < 0 else 1
    return duration_pb2.Duration(seconds=sign * seconds, nanos=sign * rest * 1000)


def room_out(room: Room, now: datetime) -> room_pb2.Room:
    return room_pb2.Room(
        room_id=room.room_id,
        create_time=timestamp(room.create_time),
        update_time=timestamp(room.update_time),
        valid_from=timestamp(room.valid_from),
        valid_until=timestamp(room.valid_until),
        pstn_dial_out_enabled=room.pstn_dial_out_enabled,
        join_policy=_POLICY_TO_PROTO[room.join_policy],
        state=_STATE_TO_PROTO[room.state(now)],
        etag=room.etag,
        metadata=dict(room.metadata),
        open_join_role=ROLE_TO_PROTO[room.open_join_role],
        early_entry_duration=_duration(room.early_entry),
        participant_count=room.participant_count,
        last_event_revision=room.last_event_revision,
        waiting_room_enabled=room.waiting_room_enabled,
        max_participants=room.max_participants,
        role_capacity=role_capacity_out(room.role_capacity),
    )


def role_capacity_out(entries: Iterable[RoleCapacity]) -> list[room_pb2.RoleCapacity]:
    return [
        room_pb2.RoleCapacity(
            role=ROLE_TO_PROTO[e.role], max_participants=e.max_participants, reserved=e.reserved
        )
        for e in entries
    ]


_KNOCK_STATE_TO_PROTO: dict[KnockState, waiting_room_pb2.KnockState.ValueType] = {
    state: waiting_room_pb2.KnockState.Value(f"KNOCK_STATE_{state.name}") for state in KnockState
}
_KNOCK_STATE_FROM_PROTO: dict[int, KnockState] = {
    number: state for state, number in _KNOCK_STATE_TO_PROTO.items()
}
_CAPACITY_LIMIT_TO_PROTO: dict[CapacityLimit, waiting_room_pb2.CapacityLimit.ValueType] = {
    limit: waiting_room_pb2.CapacityLimit.Value(f"CAPACITY_LIMIT_{limit.name}")
    for limit in CapacityLimit
}


def knock_state_filter(violations: Violations, field: str, number: int) -> KnockState | None:
    if number == waiting_room_pb2.KNOCK_STATE_UNSPECIFIED:
        return None
    state = _KNOCK_STATE_FROM_PROTO.get(number)
    if state is None:
        violations.add(field, f"unknown knock state number {number}")
    return state


def knock_out(knock: Knock) -> waiting_room_pb2.Knock:
    message = waiting_room_pb2.Knock(
        user_id=knock.user_id,
        display_name=knock.display_name or "",
        state=_KNOCK_STATE_TO_PROTO[knock.state],
    )
    if knock.role is not None:
        message.role = ROLE_TO_PROTO[knock.role]
    if knock.first_knock_time is not None:
        message.first_knock_time.CopyFrom(timestamp(knock.first_knock_time))
    if knock.last_knock_time is not None:
        message.last_knock_time.CopyFrom(timestamp(knock.last_knock_time))
    if knock.decide_time is not None:
        message.decide_time.CopyFrom(timestamp(knock.decide_time))
    return message


def seat_out(seat: Seat) -> waiting_room_pb2.Seat:
    return waiting_room_pb2.Seat(
        seat_id=seat.seat_id,
        room_id=seat.room_id,
        user_id=seat.user_id,
        role=ROLE_TO_PROTO[seat.role],
        create_time=timestamp(seat.create_time),
        expire_time=timestamp(seat.expire_time),
    )


def participant_out(participant: Participant) -> participant_pb2.Participant:
    return participant_pb2.Participant(
        user_id=participant.user_id,
        role=ROLE_TO_PROTO[participant.role],
        create_time=timestamp(participant.create_time),
        update_time=timestamp(participant.update_time),
    )


@functools.cache
def _sorted_capabilities(
    capabilities: frozenset[Capability],
) -> tuple[admission_pb2.Capability.ValueType, ...]:
    return tuple(sorted(CAPABILITY_TO_PROTO[c] for c in capabilities))


def capabilities_out(
    capabilities: Iterable[Capability],
) -> tuple[admission_pb2.Capability.ValueType, ...]:
    """Capabilities in the enum's order, so answers are stable. (Only a few distinct
    sets exist: one per role, with and without dial-out.)"""
    return _sorted_capabilities(frozenset(capabilities))


def role_definitions() -> list[admission_pb2.RoleDefinition]:
    return [
        admission_pb2.RoleDefinition(
            role=ROLE_TO_PROTO[role],
            name=role.value,
            capabilities=capabilities_out(capabilities),
        )
        for role, capabilities in ROLE_CAPABILITIES.items()
    ]


FORMAT_TO_PROTO: dict[CredentialFormat, credentials_pb2.CredentialFormat.ValueType] = {
    fmt: credentials_pb2.CredentialFormat.Value(f"CREDENTIAL_FORMAT_{fmt.name}")
    for fmt in CredentialFormat
}
_FORMAT_FROM_PROTO: dict[int, CredentialFormat] = {
    number: fmt for fmt, number in FORMAT_TO_PROTO.items()
}
_STATUS_TO_PROTO: dict[
    CredentialStatus, credentials_service_pb2.CredentialStatusReason.ValueType
] = {
    status: credentials_service_pb2.CredentialStatusReason.Value(
        f"CREDENTIAL_STATUS_REASON_{status.name}"
    )
    for status in CredentialStatus
}


def credential_format_in(
    violations: Violations, field: str, number: int
) -> CredentialFormat | None:
    """A requested format; None for unspecified (no credential, or: recognise it)."""
    if number == credentials_pb2.CREDENTIAL_FORMAT_UNSPECIFIED:
        return None
    found = _FORMAT_FROM_PROTO.get(number)
    if found is None:
        violations.add(field, f"unknown credential format number {number}")
    return found


def credential_out(credential: IssuedCredential) -> credentials_pb2.JoinCredential:
    janus = credential.janus
    return credentials_pb2.JoinCredential(
        format=FORMAT_TO_PROTO[credential.format],
        token=credential.token,
        expire_time=timestamp(credential.expire_time),
        server_url=credential.server_url,
        janus=(
            credentials_pb2.JanusJoin(
                room=janus.room,
                participant_id=janus.participant_id,
                join_token=janus.join_token,
                may_publish=janus.may_publish,
            )
            if janus is not None
            else None
        ),
    )


def introspection_out(
    verdict: Verdict, found: CredentialFormat | None, grant: CredentialGrant | None
) -> credentials_service_pb2.IntrospectCredentialResponse:
    response = credentials_service_pb2.IntrospectCredentialResponse(
        active=verdict.active, reason=_STATUS_TO_PROTO[verdict.status], message=verdict.message
    )
    if found is not None:
        response.format = FORMAT_TO_PROTO[found]
    if grant is not None:
        response.room_id = grant.room_id
        response.user_id = grant.user_id
        response.role = ROLE_TO_PROTO[grant.role]
        response.capabilities.extend(capabilities_out(grant.capabilities))
        response.issue_time.CopyFrom(timestamp(grant.issue_time))
        response.expire_time.CopyFrom(timestamp(grant.expire_time))
        response.credential_id = grant.credential_id
    return response


def decision_out(
    decision: JoinDecision, credential: IssuedCredential | None = None
) -> rooms_service_pb2.AuthorizeJoinResponse:
    response = rooms_service_pb2.AuthorizeJoinResponse(
        allowed=decision.allowed,
        reason=_REASON_TO_PROTO[decision.reason],
        capabilities=capabilities_out(decision.capabilities),
        message=decision.message,
    )
    if decision.role is not None:
        response.role = ROLE_TO_PROTO[decision.role]
    if decision.valid_from is not None:
        response.valid_from.CopyFrom(timestamp(decision.valid_from))
    if decision.valid_until is not None:
        response.valid_until.CopyFrom(timestamp(decision.valid_until))
    if decision.opens_at is not None:
        response.opens_at.CopyFrom(timestamp(decision.opens_at))
    if decision.opens_in is not None:
        response.opens_in.CopyFrom(_duration(decision.opens_in))
    if credential is not None:
        response.credential.CopyFrom(credential_out(credential))
    if decision.seat is not None:
        response.seat.CopyFrom(seat_out(decision.seat))
    if decision.full is not None:
        response.capacity_limit = _CAPACITY_LIMIT_TO_PROTO[decision.full.limit]
        response.capacity = decision.full.capacity
    return response


_EVENT_TYPE_TO_PROTO: dict[EventType, events_pb2.RoomEventType.ValueType] = {
    event_type: events_pb2.RoomEventType.Value(f"ROOM_EVENT_TYPE_{event_type.name}")
    for event_type in EventType
}
EVENT_TYPE_TO_PROTO = _EVENT_TYPE_TO_PROTO
_EVENT_TYPE_FROM_PROTO: dict[int, EventType] = {
    number: event_type for event_type, number in _EVENT_TYPE_TO_PROTO.items()
}


def event_types_in(violations: Violations, field: str, numbers: Iterable[int]) -> list[EventType]:
    found = []
    for index, number in enumerate(numbers):
        event_type = _EVENT_TYPE_FROM_PROTO.get(number)
        if event_type is None:
            violations.add(f"{field}[{index}]", f"unknown event type number {number}")
        else:
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
        type=_EVENT_TYPE_TO_PROTO[event.type],
        actor=event.actor,
        changed_fields=event.changed_fields,
    )
    if event.settings is not None:
        settings = event.settings
        message.room.CopyFrom(
            room_pb2.Room(
                room_id=event.room_id,
                valid_from=timestamp(settings.valid_from),
                valid_until=timestamp(settings.valid_until),
                pstn_dial_out_enabled=settings.pstn_dial_out_enabled,
                join_policy=_POLICY_TO_PROTO[settings.join_policy],
                metadata=dict(settings.metadata),
                open_join_role=ROLE_TO_PROTO[settings.open_join_role],
                early_entry_duration=_duration(settings.early_entry),
                waiting_room_enabled=settings.waiting_room_enabled,
                max_participants=settings.max_participants,
                role_capacity=role_capacity_out(settings.role_capacity),
            )
        )
    if event.user_id is not None:
        message.participant.user_id = event.user_id
        if event.role is not None:
            message.participant.role = ROLE_TO_PROTO[event.role]
    if event.previous_role is not None:
        message.previous_role = ROLE_TO_PROTO[event.previous_role]
    if event.display_name is not None:
        message.display_name = event.display_name
    if event.seat is not None:
        message.seat.CopyFrom(seat_out(event.seat))
    return message
