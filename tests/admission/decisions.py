"""The admission tests' vocabulary: roles, decision reasons and each role's
capabilities written out from the facts file, one AuthorizeJoin, the shared clock
moved, and what an allowed or refused decision must hold."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeAlias

import grpc
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.conftest import T0
from tests.shared.calls import Rooms

Role: TypeAlias = pp.Role.ValueType
Capability: TypeAlias = ad.Capability.ValueType
Reason: TypeAlias = ad.JoinDecisionReason.ValueType

INVALID = grpc.StatusCode.INVALID_ARGUMENT

PRESENTER = pp.ROLE_PRESENTER
ATTENDEE = pp.ROLE_ATTENDEE
CONSUMER = pp.ROLE_CONSUMER
COLLABORATOR = pp.ROLE_COLLABORATOR

ALLOWED = ad.JOIN_DECISION_REASON_ALLOWED
ROOM_NOT_FOUND = ad.JOIN_DECISION_REASON_ROOM_NOT_FOUND
NOT_YET_OPEN = ad.JOIN_DECISION_REASON_NOT_YET_OPEN
ENDED = ad.JOIN_DECISION_REASON_ENDED
NOT_INVITED = ad.JOIN_DECISION_REASON_NOT_INVITED

# The role -> capability table of the facts file, written out literally.
PRESENTER_CAPABILITIES = {
    ad.CAPABILITY_SPEAK,
    ad.CAPABILITY_VIDEO,
    ad.CAPABILITY_SHARE_SCREEN,
    ad.CAPABILITY_MUTE_OTHERS,
    ad.CAPABILITY_REMOVE_PARTICIPANTS,
    ad.CAPABILITY_INVITE_PARTICIPANTS,
    ad.CAPABILITY_DIAL_OUT,
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
    ad.CAPABILITY_SPOTLIGHT_OTHERS,
    ad.CAPABILITY_ADMIT_PARTICIPANTS,
}
ATTENDEE_CAPABILITIES = {
    ad.CAPABILITY_SPEAK,
    ad.CAPABILITY_VIDEO,
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
}
CONSUMER_CAPABILITIES = {
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
}
COLLABORATOR_CAPABILITIES = {
    ad.CAPABILITY_SPEAK,
    ad.CAPABILITY_VIDEO,
    ad.CAPABILITY_SHARE_SCREEN,
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
}
# A presenter in a room without PSTN dial-out.
PRESENTER_NO_DIAL_OUT = PRESENTER_CAPABILITIES - {ad.CAPABILITY_DIAL_OUT}


async def authorize(rooms: Rooms, room_id: str, user_id: str) -> rs.AuthorizeJoinResponse:
    decision: rs.AuthorizeJoinResponse = await rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id)
    )
    return decision


def at(clock: ManualClock, moment: timedelta) -> None:
    """Move the shared clock to T0 + moment."""
    clock.set(T0 + moment)


def capabilities(decision: rs.AuthorizeJoinResponse) -> set[Capability]:
    listed = list(decision.capabilities)
    assert len(listed) == len(set(listed)), f"duplicate capabilities: {listed}"
    return set(listed)


def assert_allowed(
    decision: rs.AuthorizeJoinResponse, role: Role, granted: set[Capability]
) -> None:
    assert decision.allowed, decision
    assert decision.reason == ALLOWED
    assert decision.role == role
    assert capabilities(decision) == granted
    assert not decision.HasField("opens_at")
    assert not decision.HasField("opens_in")
    assert decision.message


def assert_refused(decision: rs.AuthorizeJoinResponse, reason: Reason) -> None:
    assert not decision.allowed, decision
    assert decision.reason == reason
    assert list(decision.capabilities) == []
    assert decision.message


def assert_room_not_found(decision: rs.AuthorizeJoinResponse) -> None:
    assert_refused(decision, ROOM_NOT_FOUND)
    assert decision.role == pp.ROLE_UNSPECIFIED
    for field in ("valid_from", "valid_until", "opens_at", "opens_in"):
        assert not decision.HasField(field), field
