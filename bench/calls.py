"""The calls the benchmark makes: their method paths and request bodies, serialized
in advance (bodies spread over the seeded rooms and users, from fixed random seeds)."""

from __future__ import annotations

import random
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from rooms.v1 import credentials_pb2, participant_pb2
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from bench.seed import room_id, user_id

PER_ROOM = 5  # participants seeded in every room

HEALTH = "/grpc.health.v1.Health/Check"
AUTHORIZE = "/rooms.v1.RoomsService/AuthorizeJoin"
GET_ROOM = "/rooms.v1.RoomsService/GetRoom"
CREATE = "/rooms.v1.RoomsService/CreateRoom"
UPSERT = "/rooms.v1.ParticipantsService/AddOrUpdateParticipants"
INTROSPECT = "/rooms.v1.CredentialsService/IntrospectCredential"


def _credential_token(target: str) -> str:
    with grpc.insecure_channel(target) as channel:
        call: Any = channel.unary_unary(
            AUTHORIZE, response_deserializer=rs.AuthorizeJoinResponse.FromString
        )
        response = call(
            rs.AuthorizeJoinRequest(
                room_id=room_id(1),
                user_id=user_id(1, 1),
                credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS,
            ).SerializeToString(),
            timeout=10,
        )
        token: str = response.credential.token
        return token


def fixed_cells(rooms: int, target: str) -> list[tuple[str, str, list[bytes]]]:
    """(name, method, bodies): one body per h2load process, each another room/user."""
    rng = random.Random(7)
    picks = [(rng.randrange(1, rooms + 1), rng.randrange(1, PER_ROOM + 1)) for _ in range(8)]

    def authorize(**more: Any) -> list[bytes]:
        return [
            rs.AuthorizeJoinRequest(
                room_id=room_id(i), user_id=user_id(i, k), **more
            ).SerializeToString()
            for i, k in picks
        ]

    token = _credential_token(target)
    return [
        (
            "Health/Check (our empty call)",
            HEALTH,
            [health_pb2.HealthCheckRequest().SerializeToString()],
        ),
        ("AuthorizeJoin", AUTHORIZE, authorize()),
        (
            "AuthorizeJoin + credential (ROOMS)",
            AUTHORIZE,
            authorize(credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS),
        ),
        ("AuthorizeJoin + claim_seat", AUTHORIZE, authorize(claim_seat=True)),
        (
            "IntrospectCredential",
            INTROSPECT,
            [cs.IntrospectCredentialRequest(token=token).SerializeToString()],
        ),
        (
            "GetRoom",
            GET_ROOM,
            [rs.GetRoomRequest(room_id=room_id(i)).SerializeToString() for i, _ in picks],
        ),
        (
            "CreateRoom (1 presenter)",
            CREATE,
            [
                rs.CreateRoomRequest(
                    participants=[
                        participant_pb2.Participant(
                            user_id="host", role=participant_pb2.ROLE_PRESENTER
                        )
                    ]
                ).SerializeToString()
            ],
        ),
    ]


def upsert_bodies(rooms: int) -> list[bytes]:
    rng = random.Random(11)
    roles = list(participant_pb2.Role.values())[1:]
    return [
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id(rng.randrange(1, rooms + 1)),
            participants=[
                participant_pb2.Participant(
                    user_id=f"bench-{rng.randrange(50)}", role=rng.choice(roles)
                )
            ],
        ).SerializeToString()
        for _ in range(4096)
    ]
