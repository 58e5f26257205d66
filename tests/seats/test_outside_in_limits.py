"""Seats at their limits from outside: ListSeats at INT32_MAX, claim_seat on another
tenant's room, a ban of many identities at once, introspection's format at the int32
extremes, and grpcurl on knocks, seats and signing keys; each refused by name (or
clamped) and storing nothing."""

from __future__ import annotations

import pytest
from rooms.v1 import admission_pb2 as adm
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import GRPCURL, grpcurl, grpcurl_refused
from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import INT32_MAX, INT32_MIN, Two, no_errors, open_room, refused


async def test_seats_bans_and_introspection_at_their_limits(
    two: Two, server_errors: LoggedErrors
) -> None:
    a, b = two.a, two.b
    room_id = await open_room(a, max_participants=1)
    # INT32_MAX page sizes are clamped, not refused (ListKnocks: the other file).
    seats = await a.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id, page_size=INT32_MAX), metadata=a.metadata
    )
    assert list(seats.seats) == []
    # Another tenant cannot claim a seat of A's room: the room does not exist for it.
    decision = await b.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="host", claim_seat=True),
        metadata=b.metadata,
    )
    assert not decision.allowed and not decision.seat.seat_id, decision
    assert decision.reason == adm.JOIN_DECISION_REASON_ROOM_NOT_FOUND, decision
    seats = await a.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=a.metadata
    )
    assert list(seats.seats) == []
    # A ban of more identities than a batch may hold is refused, and bans no one.
    error = await refused(
        a.participants.RemoveParticipants(
            ps.RemoveParticipantsRequest(
                room_id=room_id, user_ids=[f"u{i}" for i in range(100_000)], ban=True
            ),
            metadata=a.metadata,
        )
    )
    assert error.fields[0].startswith("user_ids"), error
    decision = await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="host"), metadata=a.metadata
    )
    assert decision.allowed
    for number in (INT32_MAX, INT32_MIN):
        error = await refused(
            a.credentials.IntrospectCredential(
                cs.IntrospectCredentialRequest(token="a.b.c", format=number),  # type: ignore[arg-type]
                metadata=a.metadata,
            )
        )
        assert error.fields == ["format"], (number, error)
    no_errors(server_errors)


@pytest.mark.skipif(GRPCURL is None, reason="grpcurl not installed (make venv installs it)")
async def test_grpcurl_on_knocks_seats_and_signing_keys(two: Two) -> None:
    a = two.a
    room_id = await open_room(a, waiting_room_enabled=True)
    cases = [
        ("rooms.v1.ParticipantsService/ListKnocks", {"roomId": room_id, "state": 99}, 3, "state"),
        (
            "rooms.v1.ParticipantsService/AdmitParticipant",
            {"roomId": room_id, "userId": "guest", "etag": '"9223372036854775808"'},
            10,
            "rooms.v1",
        ),
        (
            "rooms.v1.ParticipantsService/ReleaseSeat",
            {"seatId": "x" * 10_000},
            3,
            "seat_id",
        ),
        (
            "rooms.v1.CredentialsService/IntrospectCredential",
            {"token": "a.b.c", "format": INT32_MAX},
            3,
            "format",
        ),
    ]
    await grpcurl_refused(two.port, a.metadata, cases)
    # The JWKS answers a client that is not ours, with a key (or none configured).
    status, output = await grpcurl(
        two.port, a.metadata, "rooms.v1.CredentialsService/GetSigningKeys", "{}"
    )
    assert status == 0 or '"code": 9' in output, output[:500]
