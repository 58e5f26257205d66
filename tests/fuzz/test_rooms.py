"""Fuzzing RoomsService: generated valid and invalid requests to each of its RPCs (huge
and empty strings, unicode, NUL and control characters, SQL fragments, out-of-range
times and durations, unknown enum numbers, junk update masks, odd call metadata and
broken keys; ListRooms is fuzzed with the other Lists in test_lists.py). Every call
answers OK or a precise error (`Fuzz.send`); what an OK answer says is checked here.

`ROOMS_FUZZ_EXAMPLES` sets the number of examples per RPC (default 100)."""

from __future__ import annotations

from typing import Any

from google.protobuf import field_mask_pb2
from hypothesis import given
from hypothesis import strategies as st
from rooms.v1 import admission_pb2, participant_pb2, room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.fuzz.harness import CALL_TIMEOUT, ROLES, Fuzz
from tests.fuzz.references import SEED_USERS
from tests.fuzz.rosters import batches, rooms_in
from tests.fuzz.sending import Sending, sendings
from tests.fuzz.strategies import FUZZ, etags, masks, room_ids, user_ids
from tests.fuzz.texts import optional, weird


@FUZZ
@given(
    request_id=st.one_of(
        st.just(""), st.uuids().map(str), st.sampled_from(["fixed-1", "fixed-2"]), weird
    ),
    room_id=st.one_of(st.just(""), room_ids),
    room=optional(rooms_in),
    participants=batches,
    sending=sendings,
)
async def test_fuzz_create_room(
    fuzz: Fuzz, request_id: str, room_id: Any, room: Any, participants: Any, sending: Sending
) -> None:
    roster = fuzz.resolve(participants)
    request = rs.CreateRoomRequest(
        request_id=request_id, room_id=fuzz.resolve(room_id), room=room, participants=roster
    )
    created = await fuzz.send(fuzz.rooms.CreateRoom, request, sending)
    if created is None:
        return
    fuzz.remember("rooms", created.room_id)
    assert created.valid_until.ToDatetime() > created.valid_from.ToDatetime()
    if not request_id:  # a replay returns the room as it is now
        if request.room_id:
            assert created.room_id == request.room_id
        assert dict(created.metadata) == dict(request.room.metadata)
        assert created.participant_count == len(roster)
        assert created.pstn_dial_out_enabled == request.room.pstn_dial_out_enabled


@FUZZ
@given(room_id=room_ids, sending=sendings)
async def test_fuzz_get_room(fuzz: Fuzz, room_id: Any, sending: Sending) -> None:
    request = rs.GetRoomRequest(room_id=fuzz.resolve(room_id))
    room = await fuzz.send(fuzz.rooms.GetRoom, request, sending)
    if room is not None:
        assert room.room_id == request.room_id


@FUZZ
@given(room_id=room_ids, room=rooms_in, etag=etags, mask=masks, sending=sendings)
async def test_fuzz_update_room(
    fuzz: Fuzz,
    room_id: Any,
    room: room_pb2.Room,
    etag: str,
    mask: field_mask_pb2.FieldMask | None,
    sending: Sending,
) -> None:
    room.room_id = fuzz.resolve(room_id)
    room.etag = etag
    updated = await fuzz.send(
        fuzz.rooms.UpdateRoom, rs.UpdateRoomRequest(room=room, update_mask=mask), sending
    )
    if updated is not None:
        assert updated.room_id == room.room_id
        assert updated.valid_until.ToDatetime() > updated.valid_from.ToDatetime()


@FUZZ
@given(room_id=room_ids, etag=etags, sending=sendings)
async def test_fuzz_delete_room(fuzz: Fuzz, room_id: Any, etag: str, sending: Sending) -> None:
    request = rs.DeleteRoomRequest(room_id=fuzz.resolve(room_id), etag=etag)
    deleted = await fuzz.send(fuzz.rooms.DeleteRoom, request, sending)
    known_rooms = fuzz.known["rooms"]
    if deleted is not None and request.room_id in known_rooms:
        # Keep rooms to aim at: a fresh one with a roster takes the deleted one's place.
        fresh = await fuzz.rooms.CreateRoom(
            rs.CreateRoomRequest(
                participants=[
                    participant_pb2.Participant(user_id=SEED_USERS[n], role=n % 5)  # type: ignore[arg-type]
                    for n in range(6)
                ]
            ),
            metadata=(fuzz.auth,),
            timeout=CALL_TIMEOUT,
        )
        known_rooms[known_rooms.index(request.room_id)] = fresh.room_id
        fuzz.remember("deleted", request.room_id)


@FUZZ
@given(room_id=room_ids, user_id=user_ids, sending=sendings)
async def test_fuzz_authorize_join(
    fuzz: Fuzz, room_id: Any, user_id: Any, sending: Sending
) -> None:
    request = rs.AuthorizeJoinRequest(room_id=fuzz.resolve(room_id), user_id=fuzz.resolve(user_id))
    decision = await fuzz.send(fuzz.rooms.AuthorizeJoin, request, sending)
    if decision is None:
        return
    assert decision.reason != admission_pb2.JOIN_DECISION_REASON_UNSPECIFIED
    assert decision.allowed == (decision.reason == admission_pb2.JOIN_DECISION_REASON_ALLOWED)
    assert decision.message
    if not decision.allowed:
        assert not decision.capabilities


@FUZZ
@given(sending=sendings)
async def test_fuzz_list_roles(fuzz: Fuzz, sending: Sending) -> None:
    roles = await fuzz.send(fuzz.rooms.ListRoles, rs.ListRolesRequest(), sending)
    if roles is not None:
        assert {role.name for role in roles.roles} == ROLES
