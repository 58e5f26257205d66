"""docs/guides/errors.md: the metadata the table promises for the session's new reasons
(`SEAT_NOT_FOUND`: `seat_id`; `INVALID_CAPACITY`: `field`, `rule`, `limit`;
`CREDENTIALS_NOT_CONFIGURED`: `format`, `field`), and docs/guides/tenants-and-keys.md,
"Limits": an `etag` over 64 characters is INVALID_ARGUMENT; a `role_capacity` of any
length is one precise violation, not one per entry."""

from __future__ import annotations

from rooms.v1 import credentials_pb2, room_pb2
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import Code, Two, no_errors, open_room, refused


async def test_readme_error_metadata_of_the_new_reasons(
    two: Two, server_errors: LoggedErrors
) -> None:
    a = two.a
    seat_id = "a" * 26
    missing = await refused(
        a.participants.RenewSeat(ps.RenewSeatRequest(seat_id=seat_id), metadata=a.metadata),
        Code.NOT_FOUND,
    )
    assert (missing.reason, missing.metadata) == ("SEAT_NOT_FOUND", {"seat_id": seat_id})
    ceiling = await refused(
        a.rooms.CreateRoom(
            rs.CreateRoomRequest(room=room_pb2.Room(max_participants=351)), metadata=a.metadata
        )
    )
    assert ceiling.reason == "INVALID_CAPACITY"
    assert ceiling.metadata == {
        "field": "room.max_participants",
        "rule": "ABOVE_CEILING",
        "limit": "350",  # ROOMS_MAX_PARTICIPANTS' default, as docs/guides/seats.md says
    }
    room_id = await open_room(a)
    unconfigured = await refused(
        a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(
                room_id=room_id,
                user_id="host",
                credential_format=credentials_pb2.CREDENTIAL_FORMAT_JITSI,
            ),
            metadata=a.metadata,
        ),
        Code.FAILED_PRECONDITION,
    )
    assert unconfigured.reason == "CREDENTIALS_NOT_CONFIGURED"
    assert unconfigured.metadata == {
        "format": "CREDENTIAL_FORMAT_JITSI",
        "field": "credential_format",
    }
    no_errors(server_errors)


async def test_readme_limits_of_the_new_fields(two: Two, server_errors: LoggedErrors) -> None:
    a = two.a
    room_id = await open_room(a, waiting_room_enabled=True)
    for etag in ('"' + "1" * 62 + '"', "x" * 65):
        error = await refused(
            a.participants.DenyParticipant(
                ps.DenyParticipantRequest(room_id=room_id, user_id="guest", etag=etag),
                metadata=a.metadata,
            ),
            Code.ABORTED if len(etag) <= 64 else Code.INVALID_ARGUMENT,
        )
        assert (error.fields == ["etag"]) == (len(etag) > 64), error
    # 100,000 role_capacity entries: one violation on the whole list.
    entries = [room_pb2.RoleCapacity(role=pp.ROLE_ATTENDEE, max_participants=1)] * 100_000
    error = await refused(
        a.rooms.CreateRoom(
            rs.CreateRoomRequest(room=room_pb2.Room(role_capacity=entries)), metadata=a.metadata
        )
    )
    assert error.fields == ["room.role_capacity"], error
    assert error.metadata["rule"] == "DUPLICATE_ROLE", error
    no_errors(server_errors)
