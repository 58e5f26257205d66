"""RoomsService.AuthorizeJoin reads its writes: a removal, a role change, a window
change or a policy change is seen by the very next decision."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf import field_mask_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.admission.decisions import (
    ATTENDEE,
    ATTENDEE_CAPABILITIES,
    COLLABORATOR,
    COLLABORATOR_CAPABILITIES,
    CONSUMER,
    CONSUMER_CAPABILITIES,
    ENDED,
    NOT_INVITED,
    NOT_YET_OPEN,
    PRESENTER,
    PRESENTER_NO_DIAL_OUT,
    assert_allowed,
    assert_refused,
    at,
    authorize,
)
from tests.shared.calls import People, Rooms, make_room, person, ts


async def test_removal_flips_the_very_next_decision(rooms: Rooms, participants: People) -> None:
    room = await make_room(rooms, [person("host", PRESENTER), person("guest")])
    assert (await authorize(rooms, room.room_id, "guest")).allowed
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["guest"])
    )
    assert_refused(await authorize(rooms, room.room_id, "guest"), NOT_INVITED)
    # Added back: allowed again at once.
    await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(room_id=room.room_id, participants=[person("guest")])
    )
    assert_allowed(await authorize(rooms, room.room_id, "guest"), ATTENDEE, ATTENDEE_CAPABILITIES)


async def test_role_change_is_seen_by_the_very_next_call(
    rooms: Rooms, participants: People
) -> None:
    room = await make_room(rooms, [person("student")])
    assert_allowed(await authorize(rooms, room.room_id, "student"), ATTENDEE, ATTENDEE_CAPABILITIES)
    for role, granted in (
        (PRESENTER, PRESENTER_NO_DIAL_OUT),
        (CONSUMER, CONSUMER_CAPABILITIES),
        (COLLABORATOR, COLLABORATOR_CAPABILITIES),
    ):
        await participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[person("student", role)]
            )
        )
        assert_allowed(await authorize(rooms, room.room_id, "student"), role, granted)


async def test_window_change_is_seen_by_the_next_call(rooms: Rooms, clock: ManualClock) -> None:
    room = await make_room(rooms, [person("guest")], start=timedelta(0), end=timedelta(hours=2))
    at(clock, timedelta(hours=3))
    assert_refused(await authorize(rooms, room.room_id, "guest"), ENDED)

    # Extending the window reopens the room at once.
    extended = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, valid_until=ts(timedelta(hours=5))),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
        )
    )
    assert extended.valid_until == ts(timedelta(hours=5))
    decision = await authorize(rooms, room.room_id, "guest")
    assert_allowed(decision, ATTENDEE, ATTENDEE_CAPABILITIES)
    assert decision.valid_until == ts(timedelta(hours=5))

    # Shortening it ends the room as soon as the new end passes.
    await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room.room_id, valid_until=ts(timedelta(hours=3, minutes=30))
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
        )
    )
    assert (await authorize(rooms, room.room_id, "guest")).allowed
    at(clock, timedelta(hours=3, minutes=30))
    assert_refused(await authorize(rooms, room.room_id, "guest"), ENDED)


async def test_moving_valid_from_later_makes_the_room_not_yet_open(
    rooms: Rooms, clock: ManualClock
) -> None:
    room = await make_room(rooms, [person("guest")], start=timedelta(0), end=timedelta(hours=4))
    at(clock, timedelta(minutes=30))
    assert (await authorize(rooms, room.room_id, "guest")).allowed
    await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, valid_from=ts(timedelta(hours=2))),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_from"]),
        )
    )
    decision = await authorize(rooms, room.room_id, "guest")
    assert_refused(decision, NOT_YET_OPEN)
    assert decision.opens_at == ts(timedelta(hours=2))
    assert decision.opens_in.ToTimedelta() == timedelta(hours=1, minutes=30)


async def test_policy_change_is_seen_by_the_next_call(rooms: Rooms) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    assert_refused(await authorize(rooms, room.room_id, "walk-in"), NOT_INVITED)
    await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(
                room_id=room.room_id,
                join_policy=room_pb2.JOIN_POLICY_OPEN,
                open_join_role=CONSUMER,
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["join_policy", "open_join_role"]),
        )
    )
    assert_allowed(await authorize(rooms, room.room_id, "walk-in"), CONSUMER, CONSUMER_CAPABILITIES)
