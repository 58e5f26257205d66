"""RoomsService.AuthorizeJoin and ListRoles end to end: the real server, the real
generated client, real PostgreSQL, and the shared manual clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, TypeAlias

import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import admission_pb2 as ad
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import participants_service_pb2_grpc, room_pb2, rooms_service_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.conftest import T0
from tests.helpers import duration, expect_error, ts, unique

if TYPE_CHECKING:  # the async stubs exist only in the generated .pyi files
    Rooms: TypeAlias = rooms_service_pb2_grpc.RoomsServiceAsyncStub
    People: TypeAlias = participants_service_pb2_grpc.ParticipantsServiceAsyncStub
Role: TypeAlias = pp.Role.ValueType
Capability: TypeAlias = ad.Capability.ValueType
Reason: TypeAlias = ad.JoinDecisionReason.ValueType

INVALID = grpc.StatusCode.INVALID_ARGUMENT

PRESENTER = pp.ROLE_PRESENTER
ATTENDEE = pp.ROLE_ATTENDEE
CONSUMER = pp.ROLE_CONSUMER
COLLABORATOR = pp.ROLE_COLLABORATOR

ALLOWED = ad.JOIN_DECISION_REASON_ALLOWED
ROOM_NOT_FOUND = ad.JOIN_DECISION_REASON_ROOM_NOT_FOUND
NOT_YET_OPEN = ad.JOIN_DECISION_REASON_NOT_YET_OPEN
ENDED = ad.JOIN_DECISION_REASON_ENDED
NOT_INVITED = ad.JOIN_DECISION_REASON_NOT_INVITED

# The role -> capability table of the facts file, written out literally.
PRESENTER_CAPABILITIES = {
    ad.CAPABILITY_SPEAK,
    ad.CAPABILITY_VIDEO,
    ad.CAPABILITY_SHARE_SCREEN,
    ad.CAPABILITY_MUTE_OTHERS,
    ad.CAPABILITY_REMOVE_PARTICIPANTS,
    ad.CAPABILITY_INVITE_PARTICIPANTS,
    ad.CAPABILITY_DIAL_OUT,
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
    ad.CAPABILITY_SPOTLIGHT_OTHERS,
    ad.CAPABILITY_ADMIT_PARTICIPANTS,
}
ATTENDEE_CAPABILITIES = {
    ad.CAPABILITY_SPEAK,
    ad.CAPABILITY_VIDEO,
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
}
CONSUMER_CAPABILITIES = {
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
}
COLLABORATOR_CAPABILITIES = {
    ad.CAPABILITY_SPEAK,
    ad.CAPABILITY_VIDEO,
    ad.CAPABILITY_SHARE_SCREEN,
    ad.CAPABILITY_RECEIVE_MEDIA,
    ad.CAPABILITY_RAISE_HAND,
    ad.CAPABILITY_REACT,
}
# A presenter in a room without PSTN dial-out.
PRESENTER_NO_DIAL_OUT = PRESENTER_CAPABILITIES - {ad.CAPABILITY_DIAL_OUT}


# ---- helpers ------------------------------------------------------------------


def person(user_id: str, role: Role = pp.ROLE_UNSPECIFIED) -> pp.Participant:
    return pp.Participant(user_id=user_id, role=role)


async def make_room(
    rooms: Rooms,
    members: Sequence[pp.Participant] = (),
    *,
    start: timedelta = timedelta(0),
    end: timedelta = timedelta(hours=2),
    early_entry: timedelta = timedelta(0),
    dial_out: bool = False,
    join_policy: room_pb2.JoinPolicy.ValueType = room_pb2.JOIN_POLICY_UNSPECIFIED,
    open_join_role: Role = pp.ROLE_UNSPECIFIED,
) -> room_pb2.Room:
    """A room with a unique id and the window T0+start .. T0+end."""
    request = rs.CreateRoomRequest(
        room_id=unique("room"),
        room=room_pb2.Room(
            valid_from=ts(start),
            valid_until=ts(end),
            pstn_dial_out_enabled=dial_out,
            join_policy=join_policy,
            open_join_role=open_join_role,
            early_entry_duration=duration(early_entry),
        ),
        participants=list(members),
    )
    room: room_pb2.Room = await rooms.CreateRoom(request)
    return room


async def authorize(rooms: Rooms, room_id: str, user_id: str) -> rs.AuthorizeJoinResponse:
    decision: rs.AuthorizeJoinResponse = await rooms.AuthorizeJoin(
        rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id)
    )
    return decision


def at(clock: ManualClock, moment: timedelta) -> None:
    """Move the shared clock to T0 + moment."""
    clock.set(T0 + moment)


def capabilities(decision: rs.AuthorizeJoinResponse) -> set[Capability]:
    listed = list(decision.capabilities)
    assert len(listed) == len(set(listed)), f"duplicate capabilities: {listed}"
    return set(listed)


def assert_allowed(
    decision: rs.AuthorizeJoinResponse, role: Role, granted: set[Capability]
) -> None:
    assert decision.allowed, decision
    assert decision.reason == ALLOWED
    assert decision.role == role
    assert capabilities(decision) == granted
    assert not decision.HasField("opens_at")
    assert not decision.HasField("opens_in")
    assert decision.message


def assert_refused(decision: rs.AuthorizeJoinResponse, reason: Reason) -> None:
    assert not decision.allowed, decision
    assert decision.reason == reason
    assert list(decision.capabilities) == []
    assert decision.message


# ---- who may join ---------------------------------------------------------------


async def test_rostered_presenter_is_allowed_with_exact_capabilities(rooms: Rooms) -> None:
    room = await make_room(rooms, [person("host", PRESENTER), person("guest")])
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


# ---- when -------------------------------------------------------------------------


async def test_three_hours_early_is_not_yet_open(rooms: Rooms, clock: ManualClock) -> None:
    room = await make_room(
        rooms, [person("patient")], start=timedelta(hours=3), end=timedelta(hours=4)
    )
    decision = await authorize(rooms, room.room_id, "patient")
    assert_refused(decision, NOT_YET_OPEN)
    assert decision.role == ATTENDEE
    assert decision.opens_in == duration(timedelta(hours=3))
    assert decision.opens_in.ToTimedelta() == timedelta(hours=3)
    assert decision.opens_at == room.valid_from == ts(timedelta(hours=3))
    assert decision.valid_from == room.valid_from
    assert decision.valid_until == room.valid_until
    assert "3 hours" in decision.message

    # The answer follows the clock: 10 minutes before, it says so.
    at(clock, timedelta(hours=2, minutes=50))
    later = await authorize(rooms, room.room_id, "patient")
    assert_refused(later, NOT_YET_OPEN)
    assert later.opens_in.ToTimedelta() == timedelta(minutes=10)
    assert later.opens_at == room.valid_from
    assert "10 minutes" in later.message

    at(clock, timedelta(hours=3))
    assert_allowed(await authorize(rooms, room.room_id, "patient"), ATTENDEE, ATTENDEE_CAPABILITIES)


async def test_early_entry_lets_presenters_and_collaborators_in_first(
    rooms: Rooms, clock: ManualClock
) -> None:
    room = await make_room(
        rooms,
        [person("host", PRESENTER), person("cohost", COLLABORATOR), person("guest")],
        start=timedelta(hours=1),
        end=timedelta(hours=2),
        early_entry=timedelta(minutes=15),
    )
    assert room.early_entry_duration.ToTimedelta() == timedelta(minutes=15)

    at(clock, timedelta(minutes=50))  # valid_from - 10 minutes
    assert_allowed(await authorize(rooms, room.room_id, "host"), PRESENTER, PRESENTER_NO_DIAL_OUT)
    assert_allowed(
        await authorize(rooms, room.room_id, "cohost"), COLLABORATOR, COLLABORATOR_CAPABILITIES
    )
    guest = await authorize(rooms, room.room_id, "guest")
    assert_refused(guest, NOT_YET_OPEN)
    assert guest.role == ATTENDEE
    assert guest.opens_at == room.valid_from
    assert guest.opens_in.ToTimedelta() == timedelta(minutes=10)

    at(clock, timedelta(minutes=40))  # valid_from - 20 minutes: too early even for the host
    host = await authorize(rooms, room.room_id, "host")
    assert_refused(host, NOT_YET_OPEN)
    assert host.opens_at == ts(timedelta(minutes=45))
    assert host.opens_in.ToTimedelta() == timedelta(minutes=5)
    assert "5 minutes" in host.message

    at(clock, timedelta(minutes=45))  # exactly valid_from - early entry
    assert_allowed(await authorize(rooms, room.room_id, "host"), PRESENTER, PRESENTER_NO_DIAL_OUT)


async def test_early_entry_does_not_apply_to_open_join_consumers(
    rooms: Rooms, clock: ManualClock
) -> None:
    room = await make_room(
        rooms,
        [person("host", PRESENTER)],
        start=timedelta(hours=1),
        end=timedelta(hours=2),
        early_entry=timedelta(minutes=30),
        join_policy=room_pb2.JOIN_POLICY_OPEN,
        open_join_role=CONSUMER,
    )
    at(clock, timedelta(minutes=45))
    assert_allowed(await authorize(rooms, room.room_id, "host"), PRESENTER, PRESENTER_NO_DIAL_OUT)
    outsider = await authorize(rooms, room.room_id, "viewer")
    assert_refused(outsider, NOT_YET_OPEN)
    assert outsider.role == CONSUMER
    assert outsider.opens_at == room.valid_from


async def test_after_valid_until_the_room_has_ended(rooms: Rooms, clock: ManualClock) -> None:
    room = await make_room(rooms, [person("host", PRESENTER), person("guest")])
    at(clock, timedelta(hours=5))
    for user_id, role in (("host", PRESENTER), ("guest", ATTENDEE)):
        decision = await authorize(rooms, room.room_id, user_id)
        assert_refused(decision, ENDED)
        assert decision.role == role
        assert decision.valid_until == room.valid_until
        assert not decision.HasField("opens_at")
        assert not decision.HasField("opens_in")
    # "Too early" and "ended" are told apart.
    assert "ended" in decision.message.lower()


async def test_window_boundaries_are_half_open(rooms: Rooms, clock: ManualClock) -> None:
    room = await make_room(
        rooms, [person("guest")], start=timedelta(hours=1), end=timedelta(hours=2)
    )
    tick = timedelta(microseconds=1)
    expectations: list[tuple[timedelta, Reason]] = [
        (timedelta(hours=1) - tick, NOT_YET_OPEN),
        (timedelta(hours=1), ALLOWED),
        (timedelta(hours=2) - tick, ALLOWED),
        (timedelta(hours=2), ENDED),
        (timedelta(hours=2) + tick, ENDED),
    ]
    for moment, reason in expectations:
        at(clock, moment)
        decision = await authorize(rooms, room.room_id, "guest")
        assert (decision.reason, decision.allowed) == (reason, reason == ALLOWED), moment
    at(clock, timedelta(hours=1) - tick)
    just_before = await authorize(rooms, room.room_id, "guest")
    assert just_before.opens_in.ToTimedelta() == tick
    assert just_before.opens_at == room.valid_from


async def test_not_invited_is_told_before_the_window(rooms: Rooms, clock: ManualClock) -> None:
    room = await make_room(
        rooms, [person("guest")], start=timedelta(hours=1), end=timedelta(hours=2)
    )
    # Too early for everyone, but an outsider learns only that it is not invited.
    assert_refused(await authorize(rooms, room.room_id, "stranger"), NOT_INVITED)
    at(clock, timedelta(hours=3))
    assert_refused(await authorize(rooms, room.room_id, "stranger"), NOT_INVITED)


# ---- read-your-writes ----------------------------------------------------------


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


# ---- rooms that are not there, and bad input ---------------------------------------


def assert_room_not_found(decision: rs.AuthorizeJoinResponse) -> None:
    assert_refused(decision, ROOM_NOT_FOUND)
    assert decision.role == pp.ROLE_UNSPECIFIED
    for field in ("valid_from", "valid_until", "opens_at", "opens_in"):
        assert not decision.HasField(field), field


async def test_deleted_room_is_a_room_not_found_decision(rooms: Rooms) -> None:
    room = await make_room(rooms, [person("host", PRESENTER)])
    assert (await authorize(rooms, room.room_id, "host")).allowed
    await rooms.DeleteRoom(rs.DeleteRoomRequest(room_id=room.room_id))
    assert_room_not_found(await authorize(rooms, room.room_id, "host"))


async def test_never_existing_room_is_a_room_not_found_decision(rooms: Rooms) -> None:
    assert_room_not_found(await authorize(rooms, unique("never"), "someone"))


@pytest.mark.parametrize(
    ("room_id", "user_id", "field"),
    [
        pytest.param("", "someone", "room_id", id="empty-room-id"),
        pytest.param("bad room", "someone", "room_id", id="room-id-with-space"),
        pytest.param("r" * 129, "someone", "room_id", id="room-id-too-long"),
        pytest.param("room-ok", "", "user_id", id="empty-user-id"),
        pytest.param("room-ok", "two words", "user_id", id="user-id-with-space"),
        pytest.param("room-ok", "u" * 257, "user_id", id="user-id-too-long"),
        pytest.param("room-ok", "ctl\x1b", "user_id", id="user-id-control-char"),
    ],
)
async def test_malformed_input_is_an_invalid_argument_status(
    rooms: Rooms, room_id: str, user_id: str, field: str
) -> None:
    error = await expect_error(
        rooms.AuthorizeJoin(rs.AuthorizeJoinRequest(room_id=room_id, user_id=user_id)),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == [field]
    assert error.metadata["field"] == field


async def test_both_fields_bad_are_both_named(rooms: Rooms) -> None:
    error = await expect_error(
        rooms.AuthorizeJoin(rs.AuthorizeJoinRequest(room_id="", user_id="")),
        INVALID,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["room_id", "user_id"]


# ---- dial-out -----------------------------------------------------------------------


async def test_dial_out_only_in_rooms_that_enable_it(rooms: Rooms) -> None:
    members = [
        person("host", PRESENTER),
        person("cohost", COLLABORATOR),
        person("guest"),
        person("viewer", CONSUMER),
    ]
    with_pstn = await make_room(rooms, members, dial_out=True)
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
        rooms, join_policy=room_pb2.JOIN_POLICY_OPEN, open_join_role=PRESENTER, dial_out=True
    )
    assert_allowed(
        await authorize(rooms, room.room_id, "walk-in"), PRESENTER, PRESENTER_CAPABILITIES
    )


# ---- ListRoles ----------------------------------------------------------------------


async def test_list_roles_matches_the_capability_table(rooms: Rooms) -> None:
    response = await rooms.ListRoles(rs.ListRolesRequest())
    by_role = {definition.role: definition for definition in response.roles}
    assert len(by_role) == len(response.roles) == 4
    expected: dict[Role, tuple[str, set[Capability]]] = {
        PRESENTER: (
            "presenter",
            {
                ad.CAPABILITY_SPEAK,
                ad.CAPABILITY_VIDEO,
                ad.CAPABILITY_SHARE_SCREEN,
                ad.CAPABILITY_MUTE_OTHERS,
                ad.CAPABILITY_REMOVE_PARTICIPANTS,
                ad.CAPABILITY_INVITE_PARTICIPANTS,
                ad.CAPABILITY_DIAL_OUT,
                ad.CAPABILITY_RECEIVE_MEDIA,
                ad.CAPABILITY_RAISE_HAND,
                ad.CAPABILITY_REACT,
                ad.CAPABILITY_SPOTLIGHT_OTHERS,
                ad.CAPABILITY_ADMIT_PARTICIPANTS,
            },
        ),
        ATTENDEE: (
            "attendee",
            {
                ad.CAPABILITY_SPEAK,
                ad.CAPABILITY_VIDEO,
                ad.CAPABILITY_RECEIVE_MEDIA,
                ad.CAPABILITY_RAISE_HAND,
                ad.CAPABILITY_REACT,
            },
        ),
        CONSUMER: (
            "consumer",
            {ad.CAPABILITY_RECEIVE_MEDIA, ad.CAPABILITY_RAISE_HAND, ad.CAPABILITY_REACT},
        ),
        COLLABORATOR: (
            "collaborator",
            {
                ad.CAPABILITY_SPEAK,
                ad.CAPABILITY_VIDEO,
                ad.CAPABILITY_SHARE_SCREEN,
                ad.CAPABILITY_RECEIVE_MEDIA,
                ad.CAPABILITY_RAISE_HAND,
                ad.CAPABILITY_REACT,
            },
        ),
    }
    assert set(by_role) == set(expected)
    for role, (name, granted) in expected.items():
        definition = by_role[role]
        assert definition.name == name
        listed = list(definition.capabilities)
        assert len(listed) == len(set(listed)), name
        assert set(listed) == granted, name
        assert ad.CAPABILITY_UNSPECIFIED not in listed
    # The same answer every time.
    assert (await rooms.ListRoles(rs.ListRolesRequest())) == response


async def test_list_roles_agrees_with_authorize_join(rooms: Rooms) -> None:
    response = await rooms.ListRoles(rs.ListRolesRequest())
    members = [person(f"as-{d.name}", d.role) for d in response.roles]
    room = await make_room(rooms, members, dial_out=True)
    for definition in response.roles:
        decision = await authorize(rooms, room.room_id, f"as-{definition.name}")
        assert_allowed(decision, definition.role, set(definition.capabilities))
