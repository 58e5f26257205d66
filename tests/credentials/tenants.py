"""Two tenants with their media configuration as the credentials tests see them: the
secrets (distinct enough to find in any text), LiveKit's grant table written out, and
calls as one tenant (a room, AuthorizeJoin with a format, introspection, a credential
of every format)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rooms.v1 import (
    credentials_pb2,
    credentials_service_pb2,
    room_pb2,
)
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import rooms_service_pb2 as rs

from service.server import RunningServer
from tests.shared.calls import Metadata, bearer

if TYPE_CHECKING:
    from rooms.v1.credentials_service_pb2_grpc import CredentialsServiceAsyncStub
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub


LIVEKIT = credentials_pb2.CREDENTIAL_FORMAT_LIVEKIT
JITSI = credentials_pb2.CREDENTIAL_FORMAT_JITSI
ROOMS = credentials_pb2.CREDENTIAL_FORMAT_ROOMS
Reason = credentials_service_pb2.CredentialStatusReason

# Secrets distinct enough to find in any text.
ACME_LIVEKIT_SECRET = "acme-livekit-secret-" + "a" * 24
ACME_JITSI_SECRET = "acme-jitsi-secret-" + "j" * 24
BETA_LIVEKIT_SECRET = "beta-livekit-secret-" + "b" * 24
SECRETS = (ACME_LIVEKIT_SECRET, ACME_JITSI_SECRET, BETA_LIVEKIT_SECRET)

ALL_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"]
# role -> (canPublishSources, canSubscribe, canPublishData, roomAdmin): written out
# here from the grant table, not imported from the code under test.
EXPECTED_LIVEKIT: dict[int, tuple[list[str], bool, bool, bool]] = {
    pp.ROLE_PRESENTER: (ALL_SOURCES, True, True, True),
    pp.ROLE_ATTENDEE: (["camera", "microphone"], True, True, False),
    pp.ROLE_CONSUMER: ([], True, True, False),
    pp.ROLE_COLLABORATOR: (ALL_SOURCES, True, True, False),
}


@dataclass
class Tenant:
    key: str
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub
    credentials: CredentialsServiceAsyncStub


@dataclass
class Setup:
    server: RunningServer
    acme: Tenant
    beta: Tenant
    jwks_url: str


def auth(tenant: Tenant) -> Metadata:
    return bearer(tenant.key)


async def make_room(
    tenant: Tenant, participants: dict[str, int], **room: Any
) -> tuple[str, room_pb2.Room]:
    room_id = f"r-{uuid.uuid4().hex[:10]}"
    made = await tenant.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(**room),
            participants=[
                pp.Participant(user_id=u, role=pp.Role.ValueType(r))
                for u, r in participants.items()
            ],
        ),
        metadata=auth(tenant),
    )
    return room_id, made


async def authorize(
    tenant: Tenant, room_id: str, user_id: str, fmt: int, name: str | None = None
) -> rs.AuthorizeJoinResponse:
    request = rs.AuthorizeJoinRequest(
        room_id=room_id,
        user_id=user_id,
        credential_format=credentials_pb2.CredentialFormat.ValueType(fmt),
    )
    if name is not None:
        request.display_name = name
    return await tenant.rooms.AuthorizeJoin(request, metadata=auth(tenant))


async def introspect(tenant: Tenant, token: str) -> cs.IntrospectCredentialResponse:
    return await tenant.credentials.IntrospectCredential(
        cs.IntrospectCredentialRequest(token=token), metadata=auth(tenant)
    )


async def tokens(tenant: Tenant, room_id: str, user_id: str) -> list[str]:
    """A credential of every format for one identity."""
    found = []
    for fmt in (LIVEKIT, JITSI, ROOMS):
        answer = await authorize(tenant, room_id, user_id, fmt)
        assert answer.allowed, answer
        found.append(answer.credential.token)
    return found


async def reasons(tenant: Tenant, issued: list[str]) -> set[int]:
    """The reasons introspection gives for the tokens (`active` agreeing with each)."""
    found: set[int] = set()
    for token in issued:
        answer = await introspect(tenant, token)
        assert answer.active == (answer.reason == Reason.CREDENTIAL_STATUS_REASON_ACTIVE)
        found.add(answer.reason)
    return found
