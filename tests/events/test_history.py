"""The audit history end to end: every change recorded in order with its actor and
values; ListRoomEvents' order, filters and page tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import grpc
from google.protobuf import field_mask_pb2
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.events.stream import T, history
from tests.shared.calls import ts
from tests.shared.errors import expect_error

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub


async def test_every_change_is_recorded_in_order_with_its_actor_and_values(
    rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
) -> None:
    room = await rooms.CreateRoom(
        rs.CreateRoomRequest(participants=[pp.Participant(user_id="doc", role=pp.ROLE_PRESENTER)])
    )
    assert room.last_event_revision == 2
    await participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room.room_id,
            participants=[
                pp.Participant(user_id="pat"),
                pp.Participant(user_id="doc", role=pp.ROLE_COLLABORATOR),
            ],
        )
    )
    updated = await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=room.room_id, valid_until=ts(timedelta(days=2))),
            update_mask=field_mask_pb2.FieldMask(paths=["valid_until"]),
        )
    )
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["pat", "nobody"])
    )
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))

    events = await history(rooms, room.room_id)
    assert [e.revision for e in events] == list(range(1, 8))
    assert [e.type for e in events] == [
        T.ROOM_EVENT_TYPE_CREATED,
        T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED,
        T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED,
        T.ROOM_EVENT_TYPE_ROLE_CHANGED,
        T.ROOM_EVENT_TYPE_SETTINGS_CHANGED,
        T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED,
        T.ROOM_EVENT_TYPE_DELETED,
    ]
    assert {e.actor for e in events} == {"anonymous"}
    assert events[0].room.valid_until == room.valid_until
    assert events[1].participant == pp.Participant(user_id="doc", role=pp.ROLE_PRESENTER)
    assert events[3].participant.role == pp.ROLE_COLLABORATOR
    assert events[3].previous_role == pp.ROLE_PRESENTER
    assert list(events[4].changed_fields) == ["valid_until"]
    assert events[4].room.valid_until == updated.valid_until
    assert events[5].participant.user_id == "pat"
    assert events[5].previous_role == pp.ROLE_ATTENDEE
    assert updated.last_event_revision == 5


async def test_list_room_events_orders_and_filters(
    rooms: RoomsServiceAsyncStub, participants: ParticipantsServiceAsyncStub
) -> None:
    room = await rooms.CreateRoom(rs.CreateRoomRequest())
    for name in ("a", "b", "c"):
        await participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room.room_id, participants=[pp.Participant(user_id=name)]
            )
        )
    await participants.RemoveParticipants(
        ps.RemoveParticipantsRequest(room_id=room.room_id, user_ids=["b"])
    )
    newest = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id, order=ev.EVENT_ORDER_NEWEST_FIRST, page_size=2
        )
    )
    assert [e.revision for e in newest.events] == [5, 4]
    rest = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id,
            order=ev.EVENT_ORDER_NEWEST_FIRST,
            page_token=newest.next_page_token,
        )
    )
    assert [e.revision for e in rest.events] == [3, 2, 1]
    removals = await rooms.ListRoomEvents(
        rs.ListRoomEventsRequest(
            room_id=room.room_id, types=[T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED]
        )
    )
    assert [(e.revision, e.participant.user_id) for e in removals.events] == [(5, "b")]
    # A token belongs to its order and filter.
    await expect_error(
        rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room.room_id, page_token=newest.next_page_token)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
    await expect_error(
        rooms.ListRoomEvents(rs.ListRoomEventsRequest(room_id="missing")),
        grpc.StatusCode.NOT_FOUND,
        "ROOM_NOT_FOUND",
    )
    await expect_error(
        rooms.ListRoomEvents(rs.ListRoomEventsRequest(room_id=room.room_id, types=[99])),  # type: ignore[list-item]
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
