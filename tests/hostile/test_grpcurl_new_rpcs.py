"""The session's new RPCs through grpcurl (a client that is not ours): named
refusals, and another tenant's room sees no ban and no knock."""

from __future__ import annotations

import pytest
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import GRPCURL, grpcurl_refused
from tests.shared.outside_in import INT32_MAX, Two, open_room


@pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed (make venv installs it)")
async def test_grpcurl_on_the_new_rpcs_gets_named_refusals(two: Two) -> None:
    a = two.a
    room_id = await open_room(two.b)  # B's room: A must not see it
    own_room = await open_room(a, waiting_room_enabled=True)
    cases = [
        (
            "rooms.v1.RoomsService/AuthorizeJoin",
            {"roomId": own_room, "userId": "host", "credentialFormat": 99},
            3,
            "credential_format",
        ),
        (
            "rooms.v1.RoomsService/AuthorizeJoin",
            {"roomId": own_room, "userId": "guest", "displayName": "x" * 10_000},
            3,
            "display_name",
        ),
        (
            "rooms.v1.RoomsService/CreateRoom",
            {"room": {"maxParticipants": INT32_MAX}},
            3,
            "INVALID_CAPACITY",
        ),
        (
            "rooms.v1.WebhooksService/CreateWebhook",
            {"webhook": {"url": "http://localhost/x"}},
            3,
            "WEBHOOK_URL_NOT_ALLOWED",
        ),
        ("rooms.v1.ParticipantsService/RenewSeat", {"seatId": "x" * 10_000}, 3, "seat_id"),
        ("rooms.v1.ParticipantsService/ListKnocks", {"roomId": room_id}, 5, "ROOM_NOT_FOUND"),
        ("rooms.v1.ParticipantsService/ListSeats", {"roomId": room_id}, 5, "ROOM_NOT_FOUND"),
        (
            "rooms.v1.ParticipantsService/RemoveParticipants",
            {"roomId": room_id, "userIds": ["guest"], "ban": True},
            5,
            "ROOM_NOT_FOUND",
        ),
    ]
    await grpcurl_refused(two.port, a.metadata, cases)
    # B's room saw no ban and no knock.
    b = two.b
    knocks = await b.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=b.metadata
    )
    assert list(knocks.knocks) == []
    decision = await b.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest"), metadata=b.metadata
    )
    assert decision.allowed
