"""The same `room_id` (and the same request_id) lives independently in two tenants;
ListRoles is the same for every tenant."""

from __future__ import annotations

import uuid

from google.protobuf import field_mask_pb2
from rooms.v1 import (
    participant_pb2,
    room_pb2,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import unique
from tests.shared.errors import expect_error
from tests.tenants.observe import CONSUMER, NOT_FOUND, PRESENTER, Tenants, snapshot


async def test_the_same_room_id_lives_independently_in_two_tenants(tenants: Tenants) -> None:
    c, d = tenants.c, tenants.d
    room_id = unique("shared")
    request_id = str(uuid.uuid4())

    c_create = rs.CreateRoomRequest(
        request_id=request_id,
        room_id=room_id,
        room=room_pb2.Room(metadata={"tenant": "c"}),
        participants=[
            participant_pb2.Participant(user_id="doctor", role=PRESENTER),
            participant_pb2.Participant(user_id="patient"),
        ],
    )
    c_room = await c.rooms.CreateRoom(c_create, metadata=c.metadata)
    c_auto = await c.rooms.CreateRoom(
        rs.CreateRoomRequest(request_id=request_id + "-auto"), metadata=c.metadata
    )
    c_ids = [room_id, c_auto.room_id]
    before = await snapshot(c, c_ids, ["doctor", "patient", "nurse"])

    # D may take the same id (no ALREADY_EXISTS that would reveal C's room), and even
    # the same request_id: idempotency keys belong to the tenant too.
    d_room = await d.rooms.CreateRoom(
        rs.CreateRoomRequest(
            request_id=request_id,
            room_id=room_id,
            room=room_pb2.Room(
                metadata={"tenant": "d"}, join_policy=room_pb2.JOIN_POLICY_INVITE_ONLY
            ),
            participants=[participant_pb2.Participant(user_id="nurse", role=CONSUMER)],
        ),
        metadata=d.metadata,
    )
    assert d_room.room_id == room_id
    assert dict(d_room.metadata) == {"tenant": "d"}
    assert d_room.participant_count == 1
    # A server-chosen id with a request_id C used: a new room for D, not C's.
    d_auto = await d.rooms.CreateRoom(
        rs.CreateRoomRequest(request_id=request_id + "-auto"), metadata=d.metadata
    )
    assert d_auto.room_id != c_auto.room_id
    await expect_error(
        d.rooms.GetRoom(rs.GetRoomRequest(room_id=c_auto.room_id), metadata=d.metadata),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )

    # D works on its room: every change stays in D.
    await d.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id,
            participants=[
                participant_pb2.Participant(user_id="doctor", role=CONSUMER),
                participant_pb2.Participant(user_id="intruder", role=PRESENTER),
            ],
        ),
        metadata=d.metadata,
    )
    await d.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["patient", "nurse"]),
        metadata=d.metadata,
    )
    d_updated = await d.rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room_id, join_policy=room_pb2.JOIN_POLICY_OPEN, metadata={"x": "y"}
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["join_policy", "metadata"]),
        ),
        metadata=d.metadata,
    )
    assert d_updated.join_policy == room_pb2.JOIN_POLICY_OPEN
    d_roster = await d.participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id), metadata=d.metadata
    )
    assert [(p.user_id, p.role) for p in d_roster.participants] == [
        ("doctor", CONSUMER),
        ("intruder", PRESENTER),
    ]
    # D's patient is not on D's roster; D's doctor is a consumer there.
    d_doctor = await d.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="doctor"), metadata=d.metadata
    )
    assert d_doctor.role == CONSUMER
    memberships = await d.participants.ListRoomsForParticipant(
        ps.ListRoomsForParticipantRequest(user_id="doctor"), metadata=d.metadata
    )
    assert [(m.room.room_id, m.role) for m in memberships.memberships] == [(room_id, CONSUMER)]

    # C's room is exactly as it was.
    assert await snapshot(c, c_ids, ["doctor", "patient", "nurse"]) == before
    assert before.rooms[room_id] == c_room

    # D deletes its room; C's room lives on, and C's retry of its create still
    # returns C's room.
    await d.rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id), metadata=d.metadata)
    await expect_error(
        d.rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=d.metadata),
        NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    assert await snapshot(c, c_ids, ["doctor", "patient", "nurse"]) == before
    retry = await c.rooms.CreateRoom(c_create, metadata=c.metadata)
    assert retry == c_room


async def test_list_roles_is_the_same_for_every_tenant(tenants: Tenants) -> None:
    a, b = tenants.a, tenants.b
    roles_a = await a.rooms.ListRoles(rs.ListRolesRequest(), metadata=a.metadata)
    roles_b = await b.rooms.ListRoles(rs.ListRolesRequest(), metadata=b.metadata)
    assert roles_a == roles_b
    assert len(roles_a.roles) == 4
