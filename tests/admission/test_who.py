"""RoomsService.AuthorizeJoin end to end, who may join: rostered roles with their
capabilities, outsiders of invite-only and open rooms, and who may dial out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs

from tests.admission.decisions import (
    ATTENDEE,
    ATTENDEE_CAPABILITIES,
    COLLABORATOR,
    COLLABORATOR_CAPABILITIES,
    CONSUMER,
    CONSUMER_CAPABILITIES,
    NOT_INVITED,
    PRESENTER,
    PRESENTER_CAPABILITIES,
    PRESENTER_NO_DIAL_OUT,
    Capability,
    Role,
    assert_allowed,
    assert_refused,
    authorize,
    capabilities,
)
from tests.shared.calls import Rooms, make_room, person, ts


async def test_rostered_presenter_is_allowed_with_exact_capabilities(rooms: Rooms) -> None:
    room = await make_room(
        rooms, [person("host", PRESENTER), person("guest")], end=timedelta(hours=2)
    )
    decision = await authorize(rooms, room.room_id, "host")
    assert_allowed(decision, PRESENTER, PRESENTER_NO_DIAL_OUT)
    assert decision.valid_from == room.valid_from == ts()
    assert decision.valid_until == room.valid_until == ts(timedelta(hours=2))
    # Capabilities come in the enum's order: stable answers.
    assert list(decision.capabilities) == sorted(PRESENTER_NO_DIAL_OUT)


@pytest.mark.parametrize(
    ("role", "expected_role", "granted"),
    [
        (PRESENTER, PRESENTER, PRESENTER_NO_DIAL_OUT),
        (ATTENDEE, ATTENDEE, ATTENDEE_CAPABILITIES),
        (CONSUMER, CONSUMER, CONSUMER_CAPABILITIES),
        (COLLABORATOR, COLLABORATOR, COLLABORATOR_CAPABILITIES),
        (pp.ROLE_UNSPECIFIED, ATTENDEE, ATTENDEE_CAPABILITIES),
    ],
)
async def test_each_rostered_role_gets_its_capabilities(
    rooms: Rooms, role: Role, expected_role: Role, granted: set[Capability]
) -> None:
    room = await make_room(rooms, [person("member", role)])
    assert_allowed(await authorize(rooms, room.room_id, "member"), expected_role, granted)


async def test_outsider_of_an_invite_only_room_is_not_invited(rooms: Rooms) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    decision = await authorize(rooms, room.room_id, "stranger")
    assert_refused(decision, NOT_INVITED)
    assert decision.role == pp.ROLE_UNSPECIFIED
    assert not decision.HasField("opens_at")
    assert not decision.HasField("opens_in")
    # Identities are case-sensitive: "HOST" is not "host".
    assert_refused(await authorize(rooms, room.room_id, "HOST"), NOT_INVITED)
    # The default join policy is invite-only.
    assert room.join_policy == room_pb2.JOIN_POLICY_INVITE_ONLY


async def test_open_room_admits_outsiders_with_the_open_join_role(rooms: Rooms) -> None:
    webinar = await make_room(
        rooms,
        [person("speaker", PRESENTER), person("panelist", COLLABORATOR)],
        join_policy=room_pb2.JOIN_POLICY_OPEN,
        open_join_role=CONSUMER,
    )
    assert_allowed(
        await authorize(rooms, webinar.room_id, "viewer-1"), CONSUMER, CONSUMER_CAPABILITIES
    )
    # Rostered identities keep their own role.
    assert_allowed(
        await authorize(rooms, webinar.room_id, "speaker"), PRESENTER, PRESENTER_NO_DIAL_OUT
    )
    assert_allowed(
        await authorize(rooms, webinar.room_id, "panelist"),
        COLLABORATOR,
        COLLABORATOR_CAPABILITIES,
    )


async def test_open_room_defaults_outsiders_to_attendee(rooms: Rooms) -> None:
    room = await make_room(rooms, join_policy=room_pb2.JOIN_POLICY_OPEN)
    assert_allowed(await authorize(rooms, room.room_id, "anyone"), ATTENDEE, ATTENDEE_CAPABILITIES)


async def test_rostered_role_wins_over_the_open_join_role(rooms: Rooms) -> None:
    room = await make_room(
        rooms,
        [person("quiet", CONSUMER)],
        join_policy=room_pb2.JOIN_POLICY_OPEN,
        open_join_role=PRESENTER,
    )
    assert_allowed(await authorize(rooms, room.room_id, "quiet"), CONSUMER, CONSUMER_CAPABILITIES)
    assert_allowed(await authorize(rooms, room.room_id, "other"), PRESENTER, PRESENTER_NO_DIAL_OUT)


async def test_dial_out_only_in_rooms_that_enable_it(rooms: Rooms) -> None:
    members = [
        person("host", PRESENTER),
        person("cohost", COLLABORATOR),
        person("guest"),
        person("viewer", CONSUMER),
    ]
    with_pstn = await make_room(rooms, members, pstn_dial_out_enabled=True)
    without = await make_room(rooms, members)

    assert_allowed(
        await authorize(rooms, with_pstn.room_id, "host"), PRESENTER, PRESENTER_CAPABILITIES
    )
    assert_allowed(
        await authorize(rooms, without.room_id, "host"), PRESENTER, PRESENTER_NO_DIAL_OUT
    )
    # Only presenters dial out, even where the room allows it.
    for user_id in ("cohost", "guest", "viewer"):
        decision = await authorize(rooms, with_pstn.room_id, user_id)
        assert decision.allowed
        assert ad.CAPABILITY_DIAL_OUT not in capabilities(decision), user_id

    # Turning dial-out off is seen by the next call.
    await rooms.UpdateRoom(
        rs.UpdateRoomRequest(
            room=room_pb2.Room(room_id=with_pstn.room_id, pstn_dial_out_enabled=False),
            update_mask=field_mask_pb2.FieldMask(paths=["pstn_dial_out_enabled"]),
        )
    )
    assert_allowed(
        await authorize(rooms, with_pstn.room_id, "host"), PRESENTER, PRESENTER_NO_DIAL_OUT
    )


async def test_open_join_presenter_dials_out_only_with_pstn(rooms: Rooms) -> None:
    room = await make_room(
        rooms,
        join_policy=room_pb2.JOIN_POLICY_OPEN,
        open_join_role=PRESENTER,
        pstn_dial_out_enabled=True,
    )
    assert_allowed(
        await authorize(rooms, room.room_id, "walk-in"), PRESENTER, PRESENTER_CAPABILITIES
    )
