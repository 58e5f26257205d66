"""AuthorizeJoin's new fields attacked from outside: values at their limits and unknown
enum numbers are refused by name and store nothing."""

from __future__ import annotations

from rooms.v1 import credentials_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import INT32_MAX, INT32_MIN, Code, Two, no_errors, open_room, refused


async def test_authorize_join_new_fields_at_their_limits(
    two: Two, server_errors: LoggedErrors
) -> None:
    a = two.a
    room_id = await open_room(a, waiting_room_enabled=True)
    for display_name in ("x" * 10_000, "\x00", "a\u202eb" * 100, "\ud7ff" * 1000):
        error = await refused(
            a.rooms.AuthorizeJoin(
                rs.AuthorizeJoinRequest(
                    room_id=room_id, user_id="guest", display_name=display_name
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["display_name"], (display_name[:20], error)
    for number in (99, -1, INT32_MAX, INT32_MIN):
        error = await refused(
            a.rooms.AuthorizeJoin(
                rs.AuthorizeJoinRequest(
                    room_id=room_id,
                    user_id="host",
                    credential_format=number,  # type: ignore[arg-type]
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["credential_format"], (number, error)
    # An unconfigured (but known) format is a precondition, not an internal error.
    error = await refused(
        a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(
                room_id=room_id,
                user_id="host",
                credential_format=credentials_pb2.CREDENTIAL_FORMAT_LIVEKIT,
            ),
            metadata=a.metadata,
        ),
        Code.FAILED_PRECONDITION,
    )
    # Nothing was stored: no knock from the refused names, no seat.
    knocks = await a.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=a.metadata
    )
    assert list(knocks.knocks) == []
    seats = await a.participants.ListSeats(
        ps.ListSeatsRequest(room_id=room_id), metadata=a.metadata
    )
    assert list(seats.seats) == []
    no_errors(server_errors)
