"""Errors stay readable: an error naming many fields reaches a client with gRPC's
default limits intact."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

import grpc
from grpc_status import rpc_status
from rooms.v1 import participant_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.fuzz.harness import Code, Fuzz, checked_error, stubs
from tests.fuzz.strategies import MAX_BATCH


async def test_an_error_naming_many_fields_is_readable_by_a_default_client(fuzz: Fuzz) -> None:
    """Found by the fuzzing: an error names every bad field, in its message and in its
    BadRequest, which travel in the response trailers; a client with gRPC's default
    limit (8 KiB of response metadata) must still receive INVALID_ARGUMENT with its
    ErrorInfo, not a transport-level RESOURCE_EXHAUSTED without details."""
    md = (fuzz.auth,)
    room_id = fuzz.known["rooms"][0]
    async with grpc.aio.insecure_channel(fuzz.target) as channel:  # default options
        rooms, participants = stubs(channel)
        duplicates = [participant_pb2.Participant(user_id="same")] * MAX_BATCH
        bad_ids = [f"bad id {n}" for n in range(MAX_BATCH)]
        cases: list[tuple[str, Awaitable[Any], str]] = [
            (
                "AddOrUpdateParticipants, duplicates",
                participants.AddOrUpdateParticipants(
                    ps.AddOrUpdateParticipantsRequest(room_id=room_id, participants=duplicates),
                    metadata=md,
                ),
                "DUPLICATE_USER_ID",
            ),
            (
                "CreateRoom, bad identities",
                rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        participants=[participant_pb2.Participant(user_id=u) for u in bad_ids]
                    ),
                    metadata=md,
                ),
                "INVALID_ARGUMENT",
            ),
            (
                "RemoveParticipants, bad identities",
                participants.RemoveParticipants(
                    ps.RemoveParticipantsRequest(room_id=room_id, user_ids=bad_ids), metadata=md
                ),
                "INVALID_ARGUMENT",
            ),
            (
                "CreateRoom, bad roles",
                rooms.CreateRoom(
                    rs.CreateRoomRequest(
                        participants=[
                            participant_pb2.Participant(user_id=f"u{n}", role=99)  # type: ignore[arg-type]
                            for n in range(MAX_BATCH)
                        ]
                    ),
                    metadata=md,
                ),
                "INVALID_ARGUMENT",
            ),
        ]
        unreadable = []
        for label, call, reason in cases:
            try:
                await call
            except grpc.aio.AioRpcError as error:
                status = rpc_status.from_call(cast(grpc.Call, error))
                if error.code() != Code.INVALID_ARGUMENT or status is None:
                    unreadable.append(f"{label}: {error.code().name}: {error.details()}")
                    continue
                info = checked_error(error)
                assert info.reason == reason, (label, info)
            else:
                raise AssertionError(f"{label}: accepted")
        assert not unreadable, "errors a default client cannot read:\n" + "\n".join(unreadable)
