"""Every call one tenant can aim at another's rooms, each in the variants an intruder
would try; each typed RPC once; and every declared RPC through the raw channel API."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import field_mask_pb2, message_factory
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import (
    participant_pb2,
    room_pb2,
)
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import Metadata
from tests.tenants.observe import ATTENDEE, PRESENTER, Call, Tenant


def room_calls(t: Tenant, room_id: str, user_id: str, etag: str) -> dict[str, Call]:
    """Every RPC that names a room, each in the variants an intruder would try."""
    md = t.metadata
    r, p = t.rooms, t.participants
    mask = field_mask_pb2.FieldMask
    calls: dict[str, Call] = {
        "GetRoom": lambda: r.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=md),
        "UpdateRoom": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room_id, metadata={"owner": "intruder"}),
                update_mask=mask(paths=["metadata"]),
            ),
            metadata=md,
        ),
        "UpdateRoom/etag": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(
                    room_id=room_id, etag=etag, join_policy=room_pb2.JOIN_POLICY_OPEN
                ),
                update_mask=mask(paths=["join_policy"]),
            ),
            metadata=md,
        ),
        "UpdateRoom/no-mask": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(room=room_pb2.Room(room_id=room_id, pstn_dial_out_enabled=True)),
            metadata=md,
        ),
        "UpdateRoom/star": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room_id), update_mask=mask(paths=["*"])
            ),
            metadata=md,
        ),
        "DeleteRoom": lambda: r.DeleteRoom(rs.DeleteRoomRequest(room_id=room_id), metadata=md),
        "DeleteRoom/etag": lambda: r.DeleteRoom(
            rs.DeleteRoomRequest(room_id=room_id, etag=etag), metadata=md
        ),
        "AddOrUpdateParticipants/new": lambda: p.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id,
                participants=[participant_pb2.Participant(user_id="intruder", role=PRESENTER)],
            ),
            metadata=md,
        ),
        "AddOrUpdateParticipants/promote": lambda: p.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id,
                participants=[participant_pb2.Participant(user_id=user_id, role=PRESENTER)],
                etag=etag,
            ),
            metadata=md,
        ),
        "RemoveParticipants": lambda: p.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=[user_id, "host"]),
            metadata=md,
        ),
        "RemoveParticipants/etag": lambda: p.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=[user_id], etag=etag),
            metadata=md,
        ),
        "ListParticipants": lambda: p.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id), metadata=md
        ),
        "ListParticipants/role": lambda: p.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id, role=ATTENDEE, page_size=1),
            metadata=md,
        ),
        "GetParticipant/rostered": lambda: p.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id=user_id), metadata=md
        ),
        "GetParticipant/stranger": lambda: p.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id="stranger"), metadata=md
        ),
    }
    return calls


def join_calls(t: Tenant, room_id: str, user_id: str) -> dict[str, Call]:
    md = t.metadata
    return {
        "AuthorizeJoin/rostered": lambda: t.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id), metadata=md
        ),
        "AuthorizeJoin/stranger": lambda: t.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="stranger"), metadata=md
        ),
    }


def every_rpc(t: Tenant, metadata: Metadata, room_id: str) -> dict[str, Call]:
    """Each of the twelve RPCs once, with a request that would succeed for tenant A."""
    r, p = t.rooms, t.participants
    return {
        "CreateRoom": lambda: r.CreateRoom(rs.CreateRoomRequest(), metadata=metadata),
        "GetRoom": lambda: r.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=metadata),
        "ListRooms": lambda: r.ListRooms(rs.ListRoomsRequest(), metadata=metadata),
        "UpdateRoom": lambda: r.UpdateRoom(
            rs.UpdateRoomRequest(
                room=room_pb2.Room(room_id=room_id, pstn_dial_out_enabled=True),
                update_mask=field_mask_pb2.FieldMask(paths=["pstn_dial_out_enabled"]),
            ),
            metadata=metadata,
        ),
        "DeleteRoom": lambda: r.DeleteRoom(
            rs.DeleteRoomRequest(room_id=room_id), metadata=metadata
        ),
        "AuthorizeJoin": lambda: r.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="host"), metadata=metadata
        ),
        "ListRoles": lambda: r.ListRoles(rs.ListRolesRequest(), metadata=metadata),
        "AddOrUpdateParticipants": lambda: p.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id, participants=[participant_pb2.Participant(user_id="x")]
            ),
            metadata=metadata,
        ),
        "RemoveParticipants": lambda: p.RemoveParticipants(
            ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["host"]), metadata=metadata
        ),
        "ListParticipants": lambda: p.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id), metadata=metadata
        ),
        "GetParticipant": lambda: p.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id="host"), metadata=metadata
        ),
        "ListRoomsForParticipant": lambda: p.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id="host"), metadata=metadata
        ),
    }


SERVICES = (
    rs.DESCRIPTOR.services_by_name["RoomsService"],
    ps.DESCRIPTOR.services_by_name["ParticipantsService"],
    cs.DESCRIPTOR.services_by_name["CredentialsService"],
)


def raw_calls(channel: grpc.aio.Channel, metadata: Metadata) -> dict[str, Call]:
    """Every RPC the services declare, called with an empty request through the raw
    channel API, so an RPC added later is covered without changing this test."""
    calls: dict[str, Call] = {}
    for service in SERVICES:
        for method in service.methods:
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            path = f"/{service.full_name}/{method.name}"
            assert not method.client_streaming, path
            if method.server_streaming:
                stream = channel.unary_stream(
                    path,
                    request_serializer=request_class.SerializeToString,
                    response_deserializer=response_class.FromString,
                )

                async def read_all(
                    stream: Any = stream, request_class: Any = request_class
                ) -> list[Any]:
                    return [item async for item in stream(request_class(), metadata=metadata)]

                calls[method.full_name] = read_all
            else:
                unary = channel.unary_unary(
                    path,
                    request_serializer=request_class.SerializeToString,
                    response_deserializer=response_class.FromString,
                )

                async def call_once(unary: Any = unary, request_class: Any = request_class) -> Any:
                    return await unary(request_class(), metadata=metadata)

                calls[method.full_name] = call_once
    return calls
