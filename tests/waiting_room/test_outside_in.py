"""ListKnocks' state and Admit/Deny's user ids and etags (a look-alike beyond int64
included) attacked from outside: each refused by name (or clamped) and storing nothing."""

from __future__ import annotations

from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import waiting_room_pb2 as wr

from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import INT32_MAX, INT32_MIN, Code, Two, no_errors, open_room, refused


async def test_knock_calls_at_their_limits(two: Two, server_errors: LoggedErrors) -> None:
    a = two.a
    room_id = await open_room(a, waiting_room_enabled=True)
    await a.rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id="guest", display_name="Guest"),
        metadata=a.metadata,
    )
    for state in (99, -1, INT32_MAX, INT32_MIN):
        error = await refused(
            a.participants.ListKnocks(
                ps.ListKnocksRequest(room_id=room_id, state=state),  # type: ignore[arg-type]
                metadata=a.metadata,
            )
        )
        assert error.fields == ["state"], (state, error)
    for user_id in ("", "x" * 10_000, "\x00", "bad id"):
        for call in (
            a.participants.AdmitParticipant(
                ps.AdmitParticipantRequest(room_id=room_id, user_id=user_id), metadata=a.metadata
            ),
            a.participants.DenyParticipant(
                ps.DenyParticipantRequest(room_id=room_id, user_id=user_id), metadata=a.metadata
            ),
        ):
            error = await refused(call)
            assert error.fields == ["user_id"], (user_id[:20], error)
    # Etags the server never issued, a number beyond int64 among them, match nothing.
    for etag in ("garbage", '"9223372036854775808"', '"' + "9" * 62 + '"', '"-1"', '"01"'):
        for call in (
            a.participants.AdmitParticipant(
                ps.AdmitParticipantRequest(room_id=room_id, user_id="guest", etag=etag),
                metadata=a.metadata,
            ),
            a.participants.DenyParticipant(
                ps.DenyParticipantRequest(room_id=room_id, user_id="guest", etag=etag),
                metadata=a.metadata,
            ),
        ):
            await refused(call, Code.ABORTED)
    # Longer than an etag may be: named, before any look-up.
    for etag in ('"' + "9" * 400 + '"', "x" * 10_000):
        error = await refused(
            a.participants.AdmitParticipant(
                ps.AdmitParticipantRequest(room_id=room_id, user_id="guest", etag=etag),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["etag"], error
    knocks = await a.participants.ListKnocks(
        ps.ListKnocksRequest(room_id=room_id), metadata=a.metadata
    )
    assert [(k.user_id, k.state) for k in knocks.knocks] == [("guest", wr.KNOCK_STATE_WAITING)]
    no_errors(server_errors)
