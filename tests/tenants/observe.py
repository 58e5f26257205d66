"""What a tenant can observe: a tenant calling with its key, everything a caller can
see of a failed call (for exact comparison), and everything tenant A can read about
its rooms (proof that nothing changed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from rooms.v1 import (
    participant_pb2,
    room_pb2,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import Metadata
from tests.shared.errors import status_of

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub


NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT


Call = Callable[[], Awaitable[Any]]

PRESENTER = participant_pb2.ROLE_PRESENTER
ATTENDEE = participant_pb2.ROLE_ATTENDEE
CONSUMER = participant_pb2.ROLE_CONSUMER


@dataclass(frozen=True)
class Tenant:
    """One tenant with its key, calling through the shared channel."""

    name: str
    metadata: Metadata
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub


@dataclass(frozen=True)
class Failure:
    """Everything a caller can observe about a failed call, for exact comparison."""

    code: grpc.StatusCode
    details: str
    status_code: int
    status_message: str
    detail_types: tuple[str, ...]
    reason: str
    domain: str
    metadata: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, str, str], ...]
    preconditions: tuple[tuple[str, str, str], ...]
    trailing_keys: tuple[str, ...]

    def replacing(self, old: str, new: str) -> Failure:
        """The same failure as if it had named `new` wherever it names `old`."""
        return Failure(
            code=self.code,
            details=self.details.replace(old, new),
            status_code=self.status_code,
            status_message=self.status_message.replace(old, new),
            detail_types=self.detail_types,
            reason=self.reason,
            domain=self.domain,
            metadata=tuple((k, v.replace(old, new)) for k, v in self.metadata),
            fields=tuple((f.replace(old, new), d.replace(old, new), r) for f, d, r in self.fields),
            preconditions=tuple(
                (t, s.replace(old, new), d.replace(old, new)) for t, s, d in self.preconditions
            ),
            trailing_keys=self.trailing_keys,
        )


def failure_of(error: grpc.aio.AioRpcError) -> Failure:
    status, details = status_of(error)
    info, bad_request, precondition = details.info, details.bad_request, details.precondition
    assert info.reason, "every error must carry an ErrorInfo"
    return Failure(
        code=error.code(),
        details=error.details() or "",
        status_code=status.code,
        status_message=status.message,
        detail_types=tuple(detail.type_url for detail in status.details),
        reason=info.reason,
        domain=info.domain,
        metadata=tuple(sorted(info.metadata.items())),
        fields=tuple((v.field, v.description, v.reason) for v in bad_request.field_violations),
        preconditions=tuple((v.type, v.subject, v.description) for v in precondition.violations),
        trailing_keys=tuple(sorted({key for key, _ in error.trailing_metadata() or ()})),
    )


async def outcome(call: Call) -> Any:
    """The response of a call, or its Failure."""
    try:
        return await call()
    except grpc.aio.AioRpcError as error:
        return failure_of(error)


async def must_fail(call: Call) -> Failure:
    result = await outcome(call)
    assert isinstance(result, Failure), f"expected a failure, got {result!r}"
    return result


@dataclass(frozen=True)
class Tenants:
    a: Tenant
    b: Tenant
    c: Tenant
    d: Tenant
    channel: grpc.aio.Channel
    keys: dict[str, str]


@dataclass(frozen=True)
class Snapshot:
    """Everything tenant A can read about its rooms."""

    rooms: dict[str, room_pb2.Room]
    rosters: dict[str, list[participant_pb2.Participant]]
    listed: list[str]
    memberships: dict[str, list[ps.RoomMembership]]
    decisions: dict[tuple[str, str], rs.AuthorizeJoinResponse]


async def snapshot(t: Tenant, room_ids: list[str], user_ids: list[str]) -> Snapshot:
    rooms = {}
    rosters = {}
    for room_id in room_ids:
        rooms[room_id] = await t.rooms.GetRoom(
            rs.GetRoomRequest(room_id=room_id), metadata=t.metadata
        )
        listed = await t.participants.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id, page_size=500), metadata=t.metadata
        )
        assert not listed.next_page_token
        rosters[room_id] = list(listed.participants)
    all_rooms = await t.rooms.ListRooms(rs.ListRoomsRequest(page_size=500), metadata=t.metadata)
    memberships = {}
    decisions = {}
    for user_id in user_ids:
        found = await t.participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id, page_size=500),
            metadata=t.metadata,
        )
        memberships[user_id] = list(found.memberships)
        for room_id in room_ids:
            decisions[room_id, user_id] = await t.rooms.AuthorizeJoin(
                rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id), metadata=t.metadata
            )
    return Snapshot(
        rooms=rooms,
        rosters=rosters,
        listed=[room.room_id for room in all_rooms.rooms],
        memberships=memberships,
        decisions=decisions,
    )
