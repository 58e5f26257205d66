"""AuthorizeJoin follows the occurrences: allowed inside one (and in its early entry),
NOT_YET_OPEN with the next one's opens_at before and between them, ENDED after the
last; and the room's state follows them too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rooms.v1 import admission_pb2, participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from service.domain.clock import ManualClock
from tests.calendar.conftest import Calendar
from tests.calendar.helpers import local, recurring_room
from tests.shared.calls import duration

HOUR = timedelta(hours=1)
ZONE = "Europe/Paris"
# Tuesdays 09:00 Paris, three times; the 27th of October is after the change of time.
FIRST = local(ZONE, 2026, 10, 13, 9)
SECOND = local(ZONE, 2026, 10, 20, 9)
THIRD = local(ZONE, 2026, 10, 27, 9)


async def three_tuesdays(cal: Calendar, **settings: object) -> room_pb2.Room:
    """The series above, an hour each time, presenters let in 10 minutes early."""
    return await recurring_room(
        cal.a,
        FIRST,
        HOUR,
        ["RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=3"],
        ZONE,
        early_entry_duration=duration(timedelta(minutes=10)),
        **settings,
    )


async def test_join_inside_between_before_and_after_occurrences(
    cal: Calendar, clock: ManualClock
) -> None:
    room = await three_tuesdays(cal, join_policy=room_pb2.JOIN_POLICY_OPEN)

    async def join(at: datetime, role_user: str = "ann") -> rs.AuthorizeJoinResponse:
        clock.set(at)
        answer: rs.AuthorizeJoinResponse = await cal.a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room.room_id, user_id=role_user),
            metadata=cal.a.auth,
        )
        return answer

    def opens_at(answer: rs.AuthorizeJoinResponse) -> datetime:
        return answer.opens_at.ToDatetime(tzinfo=UTC)

    before = await join(FIRST - timedelta(days=1))
    assert before.reason == admission_pb2.JOIN_DECISION_REASON_NOT_YET_OPEN
    assert opens_at(before) == FIRST
    inside = await join(FIRST + timedelta(minutes=30))
    assert inside.allowed and inside.valid_until.ToDatetime(tzinfo=UTC) == FIRST + HOUR
    between = await join(FIRST + 2 * HOUR)
    assert between.reason == admission_pb2.JOIN_DECISION_REASON_NOT_YET_OPEN
    assert opens_at(between) == SECOND
    assert "opens in 7 days" in between.message
    at_end = await join(SECOND + HOUR)  # half-open: the end is outside
    assert not at_end.allowed and opens_at(at_end) == THIRD
    after_change = await join(THIRD + timedelta(minutes=59))
    assert after_change.allowed and THIRD.hour == 8  # 09:00 in Paris is 08:00 UTC now
    after = await join(THIRD + HOUR)
    assert after.reason == admission_pb2.JOIN_DECISION_REASON_ENDED

    got = await cal.a.rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id), metadata=cal.a.auth)
    assert got.state == room_pb2.ROOM_STATE_ENDED
    clock.set(SECOND - timedelta(minutes=1))
    got = await cal.a.rooms.GetRoom(rs.GetRoomRequest(room_id=room.room_id), metadata=cal.a.auth)
    assert got.state == room_pb2.ROOM_STATE_SCHEDULED


async def test_early_entry_opens_each_occurrence_for_presenters(
    cal: Calendar, clock: ManualClock
) -> None:
    room = await three_tuesdays(cal)
    await cal.a.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(
            room_id=room.room_id,
            participants=[
                participant_pb2.Participant(user_id="host", role=participant_pb2.ROLE_PRESENTER),
                participant_pb2.Participant(user_id="guest"),
            ],
        ),
        metadata=cal.a.auth,
    )
    clock.set(SECOND - timedelta(minutes=5))
    host, guest = [
        await cal.a.rooms.AuthorizeJoin(
            rs.AuthorizeJoinRequest(room_id=room.room_id, user_id=user), metadata=cal.a.auth
        )
        for user in ("host", "guest")
    ]
    assert host.allowed
    assert guest.reason == admission_pb2.JOIN_DECISION_REASON_NOT_YET_OPEN
    assert guest.opens_at.ToDatetime(tzinfo=UTC) == SECOND
