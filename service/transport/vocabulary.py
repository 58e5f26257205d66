"""Each domain vocabulary mapped to its protobuf enum by name, in one table.

A domain member `Role.PRESENTER` is the proto value `ROLE_PRESENTER`: the proto's
prefix plus the member's name. The mapping is built from the two enums when this
module is imported, so a member the proto lacks fails the server's start (and the
parity tests in tests/integration/test_vocabularies.py name it), never a request.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from rooms.v1 import (
    admission_pb2,
    credentials_pb2,
    credentials_service_pb2,
    events_pb2,
    participant_pb2,
    room_pb2,
    waiting_room_pb2,
)

from service.domain.admission import Capability, JoinReason
from service.domain.credentials import CredentialFormat, CredentialStatus
from service.domain.errors import Violations
from service.domain.events import EventType
from service.domain.models import JoinPolicy, Role, RoomState
from service.domain.seats import CapacityLimit
from service.domain.waiting_room import KnockState

if TYPE_CHECKING:  # the stubs' name for a generated enum's wrapper
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

E = TypeVar("E", bound=Enum)
P = TypeVar("P", bound=int)


class Vocabulary(Generic[E, P]):
    """A domain enum and its proto enum: `PREFIX_<NAME>` for each domain member; the
    proto's zero value (`PREFIX_UNSPECIFIED`) has no domain member."""

    def __init__(self, domain: type[E], proto: _EnumTypeWrapper[P], prefix: str, noun: str):
        self.domain = domain
        self.proto = proto
        self.prefix = prefix
        self.noun = noun
        self.to_proto: dict[E, P] = {member: proto.Value(prefix + member.name) for member in domain}
        self._from_proto: dict[int, E] = {
            number: member for member, number in self.to_proto.items()
        }

    def out(self, member: E) -> P:
        return self.to_proto[member]

    def optional_in(self, violations: Violations, field: str, number: int) -> E | None:
        """A wire value: None for the zero value (unspecified) and for an unknown number,
        which is reported against `field`."""
        if number == 0:
            return None
        member = self._from_proto.get(number)
        if member is None:
            violations.add(field, f"unknown {self.noun} number {number}")
        return member

    def value_in(self, violations: Violations, field: str, number: int, default: E) -> E:
        """A wire value where unspecified (or unknown, reported) means `default`."""
        member = self.optional_in(violations, field, number)
        return default if member is None else member


ROLES = Vocabulary(Role, participant_pb2.Role, "ROLE_", "role")
JOIN_POLICIES = Vocabulary(JoinPolicy, room_pb2.JoinPolicy, "JOIN_POLICY_", "join policy")
ROOM_STATES = Vocabulary(RoomState, room_pb2.RoomState, "ROOM_STATE_", "room state")
EVENT_TYPES = Vocabulary(EventType, events_pb2.RoomEventType, "ROOM_EVENT_TYPE_", "event type")
CAPABILITIES = Vocabulary(Capability, admission_pb2.Capability, "CAPABILITY_", "capability")
JOIN_REASONS = Vocabulary(
    JoinReason, admission_pb2.JoinDecisionReason, "JOIN_DECISION_REASON_", "join decision reason"
)
KNOCK_STATES = Vocabulary(KnockState, waiting_room_pb2.KnockState, "KNOCK_STATE_", "knock state")
CAPACITY_LIMITS = Vocabulary(
    CapacityLimit, waiting_room_pb2.CapacityLimit, "CAPACITY_LIMIT_", "capacity limit"
)
CREDENTIAL_FORMATS = Vocabulary(
    CredentialFormat, credentials_pb2.CredentialFormat, "CREDENTIAL_FORMAT_", "credential format"
)
CREDENTIAL_STATUSES = Vocabulary(
    CredentialStatus,
    credentials_service_pb2.CredentialStatusReason,
    "CREDENTIAL_STATUS_REASON_",
    "credential status reason",
)

# Every vocabulary the API shares with the domain (the parity tests walk this list).
ALL: tuple[Vocabulary[Any, Any], ...] = (
    ROLES,
    JOIN_POLICIES,
    ROOM_STATES,
    EVENT_TYPES,
    CAPABILITIES,
    JOIN_REASONS,
    KNOCK_STATES,
    CAPACITY_LIMITS,
    CREDENTIAL_FORMATS,
    CREDENTIAL_STATUSES,
)
