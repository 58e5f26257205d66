"""docs/guides/admission.md: 'Checks run in order: the room exists ..., the identity is not
banned (`BANNED`), the identity is admitted by the join policy (`NOT_INVITED`
otherwise), then the window (`NOT_YET_OPEN`, `ENDED`), then, in a room with a waiting
room, the host's decision ...'. A banned identity hears BANNED before every later check,
in a room that is both invite-only, not yet open and behind a waiting room."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf import timestamp_pb2
from rooms.v1 import admission_pb2 as adm
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.shared.calls import unique
from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import Two, no_errors


async def test_readme_banned_comes_before_the_policy_the_window_and_the_waiting_room(
    two: Two, server_errors: LoggedErrors
) -> None:
    a = two.a
    room_id = unique("order")
    created = await a.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(
                join_policy=room_pb2.JOIN_POLICY_INVITE_ONLY, waiting_room_enabled=True
            ),
        ),
        metadata=a.metadata,
    )
    later = timestamp_pb2.Timestamp()
    later.FromDatetime(created.create_time.ToDatetime() + timedelta(hours=1))
    update = rs.UpdateRoomRequest(room=room_pb2.Room(room_id=room_id, valid_from=later))
    update.update_mask.paths.append("valid_from")
    await a.rooms.UpdateRoom(update, metadata=a.metadata)

    async def reason(user_id: str) -> int:
        decision = await a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id, claim_seat=True),
            metadata=a.metadata,
        )
        assert not decision.allowed and not decision.seat.seat_id, decision
        return int(decision.reason)

    # Not banned: the policy first, before the window.
    assert await reason("mallory") == adm.JOIN_DECISION_REASON_NOT_INVITED
    await a.participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room_id, user_ids=["mallory"], ban=True),
        metadata=a.metadata,
    )
    assert await reason("mallory") == adm.JOIN_DECISION_REASON_BANNED
    no_errors(server_errors)
