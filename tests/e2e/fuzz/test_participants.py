"""Fuzzing ParticipantsService: batches of every size (empty, duplicated identities, at
and over the batch and roster limits, huge identities), identities of every kind, odd
page sizes and tokens, unknown roles and states. Every call answers OK or a precise
error (`Fuzz.send`); what an OK answer says is checked here."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rooms.v1 import participant_pb2
from rooms.v1 import participants_service_pb2 as ps

from tests.e2e.fuzz.harness import Fuzz
from tests.e2e.fuzz.strategies import (
    FUZZ,
    SQL,
    Sending,
    batches,
    etags,
    page_sizes,
    page_tokens,
    roles,
    room_ids,
    room_states,
    sendings,
    user_id_batches,
    user_ids,
)


@FUZZ
@given(room_id=room_ids, participants=batches, etag=etags, sending=sendings)
async def test_fuzz_add_or_update_participants(
    fuzz: Fuzz, room_id: Any, participants: Any, etag: str, sending: Sending
) -> None:
    batch: list[participant_pb2.Participant] = fuzz.resolve(participants)
    request = ps.AddOrUpdateParticipantsRequest(
        room_id=fuzz.resolve(room_id), participants=batch, etag=etag
    )
    response = await fuzz.send(fuzz.participants.AddOrUpdateParticipants, request, sending)
    if response is None:
        return
    assert [p.user_id for p in response.participants] == [p.user_id for p in batch]
    for sent, got in zip(batch, response.participants, strict=True):
        assert got.role == (sent.role or participant_pb2.ROLE_ATTENDEE)
    for p in batch[:5]:
        fuzz.remember("users", p.user_id)


@FUZZ
@given(room_id=room_ids, user_ids=user_id_batches, etag=etags, sending=sendings)
async def test_fuzz_remove_participants(
    fuzz: Fuzz, room_id: Any, user_ids: Any, etag: str, sending: Sending
) -> None:
    request = ps.RemoveParticipantsRequest(
        room_id=fuzz.resolve(room_id), user_ids=fuzz.resolve(user_ids), etag=etag
    )
    response = await fuzz.send(fuzz.participants.RemoveParticipants, request, sending)
    if response is not None:
        assert 0 <= response.removed_count <= len(request.user_ids)
        assert response.etag


@FUZZ
@given(room_id=room_ids, page_size=page_sizes, page_token=page_tokens, role=roles, sending=sendings)
async def test_fuzz_list_participants(
    fuzz: Fuzz, room_id: Any, page_size: int, page_token: Any, role: int, sending: Sending
) -> None:
    request = ps.ListParticipantsRequest(
        room_id=fuzz.resolve(room_id),
        page_size=page_size,
        page_token=fuzz.resolve(page_token),
        role=role,  # type: ignore[arg-type]
    )
    page = await fuzz.send(fuzz.participants.ListParticipants, request, sending)
    if page is None:
        return
    ids = [p.user_id.encode() for p in page.participants]
    fuzz.check_page(page_size, page.next_page_token, ids)  # in byte order
    assert len(set(ids)) == len(ids)  # no duplicates
    if role:
        assert all(p.role == role for p in page.participants)


@FUZZ
@given(room_id=room_ids, user_id=user_ids, sending=sendings)
async def test_fuzz_get_participant(
    fuzz: Fuzz, room_id: Any, user_id: Any, sending: Sending
) -> None:
    request = ps.GetParticipantRequest(room_id=fuzz.resolve(room_id), user_id=fuzz.resolve(user_id))
    participant = await fuzz.send(fuzz.participants.GetParticipant, request, sending)
    if participant is not None:
        assert participant.user_id == request.user_id


@FUZZ
@given(
    user_id=st.one_of(user_ids, user_ids, st.sampled_from(SQL)),
    page_size=page_sizes,
    page_token=page_tokens,
    state=room_states,
    sending=sendings,
)
async def test_fuzz_list_rooms_for_participant(
    fuzz: Fuzz, user_id: Any, page_size: int, page_token: Any, state: int, sending: Sending
) -> None:
    request = ps.ListRoomsForParticipantRequest(
        user_id=fuzz.resolve(user_id),
        page_size=page_size,
        page_token=fuzz.resolve(page_token),
        state=state,  # type: ignore[arg-type]
    )
    page = await fuzz.send(fuzz.participants.ListRoomsForParticipant, request, sending)
    if page is None:
        return
    keys = [(m.room.valid_from.ToDatetime(), m.room.room_id.encode()) for m in page.memberships]
    fuzz.check_page(page_size, page.next_page_token, keys)
    if state:
        assert all(m.room.state == state for m in page.memberships)
