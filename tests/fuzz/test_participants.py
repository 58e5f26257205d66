"""Fuzzing ParticipantsService: batches of every size (empty, duplicated identities, at
and over the batch and roster limits, huge identities) and identities of every kind
(its two Lists are fuzzed in test_lists.py). Every call answers OK or a precise
error (`Fuzz.send`); what an OK answer says is checked here."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from rooms.v1 import participant_pb2
from rooms.v1 import participants_service_pb2 as ps

from tests.fuzz.harness import Fuzz
from tests.fuzz.rosters import batches, user_id_batches
from tests.fuzz.sending import Sending, sendings
from tests.fuzz.strategies import FUZZ, etags, room_ids, user_ids


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
@given(room_id=room_ids, user_id=user_ids, sending=sendings)
async def test_fuzz_get_participant(
    fuzz: Fuzz, room_id: Any, user_id: Any, sending: Sending
) -> None:
    request = ps.GetParticipantRequest(room_id=fuzz.resolve(room_id), user_id=fuzz.resolve(user_id))
    participant = await fuzz.send(fuzz.participants.GetParticipant, request, sending)
    if participant is not None:
        assert participant.user_id == request.user_id
