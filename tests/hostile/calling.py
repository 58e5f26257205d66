"""Sending a hostile body through a generic channel call with identity serializers,
checking the answer (never UNKNOWN or INTERNAL, always an ErrorInfo of `rooms.v1`), and
reading everything of the tenant afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.hostile.bodies import Rpc
from tests.shared.calls import every_page
from tests.shared.errors import error_info

Code = grpc.StatusCode
NEVER = {Code.UNKNOWN, Code.INTERNAL, Code.DATA_LOSS}
# A stream that a valid request keeps open (WatchRoom, Health.Watch) is ended by this.
STREAM_DEADLINE = 0.5


@dataclass
class Outcome:
    code: Code
    info: error_details_pb2.ErrorInfo | None
    details: str


async def call(
    channel: grpc.aio.Channel, rpc: Rpc, body: bytes, metadata: tuple[tuple[str, str], ...]
) -> Outcome:
    """Send `body` as the request of `rpc`; read the whole answer."""
    streaming_out = rpc.method.server_streaming
    try:
        if rpc.method.client_streaming:
            multi: Any = channel.stream_stream(rpc.path)
            stream = multi(iter([body]), metadata=metadata, timeout=STREAM_DEADLINE)
            async for _ in stream:
                pass
        elif streaming_out:
            streaming: Any = channel.unary_stream(rpc.path)
            async for _ in streaming(body, metadata=metadata, timeout=STREAM_DEADLINE):
                pass
        else:
            unary: Any = channel.unary_unary(rpc.path)
            await unary(body, metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        return Outcome(error.code(), error_info(error), error.details() or "")
    return Outcome(Code.OK, None, "")


def check(rpc: Rpc, outcome: Outcome, what: str) -> None:
    where = f"{rpc.path} ({what}): {outcome.code.name} {outcome.details[:200]}"
    assert outcome.code not in NEVER, where
    if outcome.code in (Code.OK, Code.DEADLINE_EXCEEDED, Code.UNIMPLEMENTED):
        # DEADLINE_EXCEEDED: a stream that a valid request keeps open. UNIMPLEMENTED:
        # Health.List, which grpcio-health-checking's aio servicer does not implement.
        return
    assert outcome.info is not None, f"no ErrorInfo: {where}"
    assert outcome.info.domain == "rooms.v1", where


@dataclass
class Target:
    channel: grpc.aio.Channel
    auth: tuple[tuple[str, str], ...]
    room_id: str
    port: int


async def assert_tenant_reads(
    channel: grpc.aio.Channel, auth: tuple[tuple[str, str], ...]
) -> list[str]:
    """ListRooms (every page), then for every room GetRoom, AuthorizeJoin,
    ListRoomEvents and ListParticipants, and ListRoomsForParticipant of each identity;
    every one must answer OK. The ids of the rooms."""
    from rooms.v1 import participants_service_pb2_grpc, rooms_service_pb2_grpc

    rooms_stub: Any = rooms_service_pb2_grpc.RoomsServiceStub(channel)
    people: Any = participants_service_pb2_grpc.ParticipantsServiceStub(channel)
    pages = await every_page(
        lambda token: rooms_stub.ListRooms(
            rs.ListRoomsRequest(page_size=100, page_token=token), metadata=auth
        )
    )
    room_ids: list[str] = [room.room_id for page in pages for room in page.rooms]
    users = {"alice"}
    for room_id in room_ids:
        await rooms_stub.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=auth)
        await rooms_stub.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id="alice"), metadata=auth
        )
        await rooms_stub.ListRoomEvents(rs.ListRoomEventsRequest(room_id=room_id), metadata=auth)
        roster = await people.ListParticipants(
            ps.ListParticipantsRequest(room_id=room_id), metadata=auth
        )
        users |= {p.user_id for p in roster.participants}
    for user_id in sorted(users):
        await people.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id), metadata=auth
        )
    return room_ids
