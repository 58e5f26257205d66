"""RoomsService.AuthorizeJoin end to end, when: not yet open, early entry, ended, the
window's half-open boundaries, on the shared manual clock."""

from __future__ import annotations

from datetime import timedelta

from rooms.v1 import room_pb2

from service.domain.clock import ManualClock
from tests.admission.decisions import (
    ALLOWED,
    ATTENDEE,
    ATTENDEE_CAPABILITIES,
    COLLABORATOR,
    COLLABORATOR_CAPABILITIES,
    CONSUMER,
    ENDED,
    NOT_INVITED,
    NOT_YET_OPEN,
    PRESENTER,
    PRESENTER_NO_DIAL_OUT,
    Reason,
    assert_allowed,
    assert_refused,
    at,
    authorize,
)
from tests.shared.calls import Rooms, duration, make_room, person, ts


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
        early_entry_duration=duration(timedelta(minutes=15)),
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
        early_entry_duration=duration(timedelta(minutes=30)),
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
    room = await make_room(
        rooms, [person("host", PRESENTER), person("guest")], end=timedelta(hours=2)
    )
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
