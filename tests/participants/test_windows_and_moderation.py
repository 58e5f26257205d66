"""Per-participant windows and server-side moderation end to end (issue 28): a guest's
own window decides its AuthorizeJoin and bounds its credential, its end is announced
by the lifecycle (the media servers eject on it); ModerateParticipant is decided by
the actor's rights now and recorded in the history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import grpc
from rooms.v1 import admission_pb2, credentials_pb2, participant_pb2
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from service.server import RunningServer
from tests.conftest import T0
from tests.participants.roster import ATTENDEE, CONSUMER, PRESENTER
from tests.shared.calls import People, Rooms, make_room, person, ts
from tests.shared.errors import expect_error

R = admission_pb2.JoinDecisionReason
T = ev.RoomEventType


def guest(user_id: str, start: timedelta, end: timedelta) -> participant_pb2.Participant:
    entry = person(user_id, ATTENDEE)
    entry.valid_from.CopyFrom(ts(start))
    entry.valid_until.CopyFrom(ts(end))
    return entry


async def authorize(rooms: Rooms, room_id: str, user_id: str) -> rs.AuthorizeJoinResponse:
    answer: rs.AuthorizeJoinResponse = await rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(
            room_id=room_id,
            user_id=user_id,
            credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS,
        )
    )
    return answer


async def events_of(
    rooms: Rooms, room_id: str, *types: ev.RoomEventType.ValueType
) -> list[ev.RoomEvent]:
    answer = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(room_id=room_id, page_size=100, types=list(types))
    )
    return list(answer.events)


async def test_a_guest_joins_only_inside_its_own_window_and_its_end_is_announced(
    rooms: Rooms, participants: People, server: RunningServer, clock: ManualClock
) -> None:
    room = await make_room(rooms, [guest("gus", timedelta(hours=1), timedelta(hours=2))])
    listed = await participants.ListParticipants(ps.ListParticipantsRequest(room_id=room.room_id))
    assert [(p.user_id, p.valid_from, p.valid_until) for p in listed.participants] == [
        ("gus", ts(timedelta(hours=1)), ts(timedelta(hours=2)))
    ]

    early = await authorize(rooms, room.room_id, "gus")
    assert not early.allowed and early.reason == R.JOIN_DECISION_REASON_NOT_YET_OPEN
    assert early.opens_in.ToTimedelta() == timedelta(hours=1)
    assert early.message == "Your access to the room opens in 1 hour."

    clock.set(T0 + timedelta(hours=1, minutes=50))
    inside = await authorize(rooms, room.room_id, "gus")
    assert inside.allowed and inside.valid_until == ts(timedelta(hours=2))
    # The credential never outlives the guest's own window.
    assert inside.credential.expire_time == ts(timedelta(hours=2))

    clock.set(T0 + timedelta(hours=2))
    late = await authorize(rooms, room.room_id, "gus")
    assert not late.allowed and late.reason == R.JOIN_DECISION_REASON_ENDED
    assert (await server.lifecycle.run_once()).windows_ended >= 1
    assert (await server.lifecycle.run_once()).windows_ended == 0  # announced once
    ended = await events_of(rooms, room.room_id, T.ROOM_EVENT_TYPE_PARTICIPANT_WINDOW_ENDED)
    assert [(e.participant.user_id, e.participant.valid_until, e.actor) for e in ended] == [
        ("gus", ts(timedelta(hours=2)), "system")
    ]

    # Moved later, the window is open again and ends again at its new end.
    await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room.room_id, participants=[guest("gus", timedelta(0), timedelta(hours=3))]
        )
    )
    assert (await authorize(rooms, room.room_id, "gus")).allowed
    changed = await events_of(rooms, room.room_id, T.ROOM_EVENT_TYPE_PARTICIPANT_WINDOW_CHANGED)
    assert [e.participant.valid_until for e in changed] == [ts(timedelta(hours=3))]
    clock.set(T0 + timedelta(hours=3))
    assert (await server.lifecycle.run_once()).windows_ended >= 1
    ended = await events_of(rooms, room.room_id, T.ROOM_EVENT_TYPE_PARTICIPANT_WINDOW_ENDED)
    assert len(ended) == 2


async def test_a_window_that_ends_before_it_starts_is_refused_with_its_field(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms)
    error = await expect_error(
        participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id,
                participants=[guest("bad", timedelta(hours=2), timedelta(hours=1))],
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_WINDOW",
    )
    assert error.fields == ["participants[0].valid_until"]


async def test_moderation_needs_mute_others_now_and_is_recorded(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(
        rooms, [person("host", PRESENTER), person("pat", ATTENDEE), person("viv", CONSUMER)]
    )

    def moderate(actor: str, target: str, **flags: bool) -> Any:
        return participants.ModerateParticipant(
            ps.ModerateParticipantRequest(
                room_id=room.room_id, actor_user_id=actor, user_id=target, **flags
            )
        )

    for actor in ("pat", "viv", "stranger"):
        refused = await expect_error(
            moderate(actor, "host", muted=True),
            grpc.StatusCode.PERMISSION_DENIED,
            "MODERATION_NOT_ALLOWED",
        )
        assert refused.metadata == {"room_id": room.room_id, "actor_user_id": actor}
    done = await moderate("host", "pat", muted=True, video=True)
    assert done.moderation == ev.Moderation(actor_user_id="host", muted=True, video=True)
    recorded = await events_of(rooms, room.room_id, T.ROOM_EVENT_TYPE_PARTICIPANT_MODERATED)
    assert [(e.revision, e.participant.user_id, e.moderation) for e in recorded] == [
        (done.revision, "pat", done.moderation)
    ]
    await expect_error(
        participants.ModerateParticipant(
            ps.ModerateParticipantRequest(room_id="no-such-room", actor_user_id="h", user_id="p")
        ),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
