"""SQL fragments are data: stored and returned literally, matched exactly (a "%" or
"_" in an identity or a room id is not a pattern), updated and removed literally."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.fuzz.harness import Code, Fuzz


async def test_sql_fragments_are_stored_and_returned_literally(fuzz: Fuzz) -> None:
    md = (fuzz.auth,)
    rooms, participants = fuzz.rooms, fuzz.participants
    metadata = {
        "drop": "'; DROP TABLE rooms; --",
        "percent": "%",
        "underscore": "_",
        "backslash": "\\",
        "or": "' OR '1'='1",
        "quote": '"; DELETE FROM participants; --',
        "dollar": "$1 $$ $tag$",
        "nul-like": "\\x00 %00 \\0",
        "json": '{"a": [1, "\\u0000"]}',
    }
    # Identities are printable without whitespace: the same attacks, without spaces.
    user_ids = [
        "';DROP/**/TABLE/**/rooms;--",
        "%",
        "_",
        "\\",
        "'OR'1'='1",
        '";DELETE/**/FROM/**/participants;--',
        "$1",
        "%_\\%",
        "Robert');--",
    ]
    room_id = "lit_1"
    created = await rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(metadata=metadata),
            participants=[participant_pb2.Participant(user_id=u) for u in user_ids],
        ),
        metadata=md,
    )
    assert dict(created.metadata) == metadata
    assert created.participant_count == len(user_ids)
    got = await rooms.GetRoom(rs.GetRoomRequest(room_id=room_id), metadata=md)
    assert dict(got.metadata) == metadata
    roster = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id), metadata=md
    )
    assert sorted(p.user_id for p in roster.participants) == sorted(user_ids)
    for user_id in user_ids:
        one = await participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id=user_id), metadata=md
        )
        assert one.user_id == user_id
        decision = await rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id), metadata=md
        )
        assert decision.allowed
        found = await participants.ListRoomsForParticipant(
            ps.ListRoomsForParticipantRequest(user_id=user_id, page_size=500), metadata=md
        )
        # "%" and "_" are not patterns: only the rooms of exactly this identity.
        assert room_id in [m.room.room_id for m in found.memberships]
    # A pattern-like identity matches nobody else.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await participants.GetParticipant(
            ps.GetParticipantRequest(room_id=room_id, user_id="%%"), metadata=md
        )
    assert caught.value.code() == Code.NOT_FOUND
    lookalike = "litx1"  # "_" in the id must not match "x"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await rooms.GetRoom(rs.GetRoomRequest(room_id=lookalike), metadata=md)
    assert caught.value.code() == Code.NOT_FOUND

    # Updates and removals take them literally too.
    changed = {"drop": "'); DELETE FROM rooms WHERE ('1'='1", "wild": "%_%"}
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room_id, metadata=changed),
            update_mask=field_mask_pb2.FieldMask(paths=["metadata"]),
        ),
        metadata=md,
    )
    assert dict(updated.metadata) == changed
    removed = await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["%", "_"]), metadata=md
    )
    assert removed.removed_count == 2
    roster = await participants.ListParticipants(
        ps.ListParticipantsRequest(room_id=room_id), metadata=md
    )
    assert sorted(p.user_id for p in roster.participants) == sorted(
        u for u in user_ids if u not in ("%", "_")
    )
    fuzz.remember("rooms", room_id)
