"""Per-participant windows and moderation (issue 28): the pure rules. A participant's
own window narrows the room's for the join decision; the roster plan records window
changes; a moderation picks the streams (Janus) or tracks (LiveKit) it acts on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.admission import JoinReason, decide_join
from service.domain.errors import DomainError, ErrorReason, Violations
from service.domain.event_records import from_record
from service.domain.events import (
    EventType,
    Moderation,
    RoomEvent,
    participant_moderated,
    participant_window_ended,
)
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, Participant, ParticipantWindow, Role, RosterEntry
from service.domain.roster import plan_upsert
from service.domain.rules import check_roster
from service.media.janus.plan import moderated_mids
from service.media.livekit.push import call_for, moderated_tracks
from tests.admission.fixed_room import VALID_FROM, VALID_UNTIL, make_room

ROOM = make_room()
GUEST = ParticipantWindow(VALID_FROM + timedelta(hours=1), VALID_FROM + timedelta(minutes=90))
NOW = VALID_FROM + timedelta(minutes=10)


def test_before_its_own_window_a_participant_is_told_when_it_opens() -> None:
    decision = decide_join(ROOM, Role.ATTENDEE, NOW, window=GUEST)
    assert not decision.allowed and decision.reason is JoinReason.NOT_YET_OPEN
    assert decision.opens_at == GUEST.valid_from
    assert decision.opens_in == timedelta(minutes=50)
    assert decision.message == "Your access to the room opens in 50 minutes."
    # The room itself is open: without its own window the identity is in.
    assert decide_join(ROOM, Role.ATTENDEE, NOW).allowed


def test_inside_its_window_it_joins_until_its_own_end_and_after_it_has_ended() -> None:
    inside = decide_join(ROOM, Role.ATTENDEE, VALID_FROM + timedelta(minutes=70), window=GUEST)
    assert inside.allowed
    assert (inside.valid_from, inside.valid_until) == (GUEST.valid_from, GUEST.valid_until)
    assert GUEST.valid_until is not None
    after = decide_join(ROOM, Role.ATTENDEE, GUEST.valid_until, window=GUEST)
    assert not after.allowed and after.reason is JoinReason.ENDED
    assert after.message == "Your access to the room has ended."


def test_a_window_reaching_outside_the_rooms_is_clipped_to_it() -> None:
    wide = ParticipantWindow(VALID_FROM - timedelta(days=1), VALID_UNTIL + timedelta(days=1))
    before = decide_join(ROOM, Role.ATTENDEE, VALID_FROM - timedelta(minutes=5), window=wide)
    assert before.reason is JoinReason.NOT_YET_OPEN
    assert before.message == "The room opens in 5 minutes."
    inside = decide_join(ROOM, Role.ATTENDEE, NOW, window=wide)
    assert (inside.valid_from, inside.valid_until) == (VALID_FROM, VALID_UNTIL)
    ended = decide_join(ROOM, Role.ATTENDEE, VALID_UNTIL, window=wide)
    assert ended.message == "The room has ended."


def test_a_window_does_not_apply_off_the_roster() -> None:
    open_room = replace(ROOM, join_policy=JoinPolicy.OPEN)
    assert decide_join(open_room, None, NOW, window=GUEST).allowed


def test_the_roster_plan_records_window_changes_apart_from_role_changes() -> None:
    before = datetime(2030, 1, 1, tzinfo=UTC)
    until = VALID_FROM + timedelta(minutes=30)
    existing = {"ann": Participant("ann", Role.ATTENDEE, before, before)}
    plan = plan_upsert(
        "r",
        [
            RosterEntry("ann", Role.ATTENDEE, None, until),
            RosterEntry("bo", Role.CONSUMER, VALID_FROM, None),
        ],
        existing,
        set(),
        1,
        10,
        NOW,
    )
    assert [(p.user_id, p.valid_from, p.valid_until) for p in plan.result] == [
        ("ann", None, until),
        ("bo", VALID_FROM, None),
    ]
    assert [e.type for e in plan.history] == [
        EventType.PARTICIPANT_WINDOW_CHANGED,
        EventType.PARTICIPANT_ADDED,
    ]
    assert plan.history[0].data["valid_until"] == until.isoformat()
    assert "valid_from" not in plan.history[0].data
    assert plan.history[1].data["valid_from"] == VALID_FROM.isoformat()
    # The same window again changes nothing.
    again = plan_upsert(
        "r",
        [RosterEntry("ann", Role.ATTENDEE, None, until)],
        {"ann": plan.result[0]},
        set(),
        2,
        10,
        NOW,
    )
    assert again.changed == [] and again.history == []


def test_a_window_must_end_after_it_starts() -> None:
    violations = Violations()
    entries = [
        RosterEntry("ok", Role.ATTENDEE, VALID_FROM, VALID_UNTIL),
        RosterEntry("bad", Role.ATTENDEE, VALID_UNTIL, VALID_FROM),
        RosterEntry("old", Role.ATTENDEE, None, datetime(1900, 1, 1, tzinfo=UTC)),
    ]
    check_roster(violations, "participants", entries, Limits())
    with pytest.raises(DomainError) as refused:
        violations.raise_if_any()
    fields = [(v.field, v.reason) for v in refused.value.field_violations]
    assert fields == [
        ("participants[1].valid_until", ErrorReason.INVALID_WINDOW),
        ("participants[2].valid_until", ErrorReason.INVALID_ARGUMENT),
    ]


def test_events_carry_the_window_and_the_moderation_back() -> None:
    ended = participant_window_ended("ann", Role.ATTENDEE, VALID_UNTIL)
    event = from_record("r", 3, NOW, ended.type.value, "system", ended.data)
    assert (event.user_id, event.role, event.valid_until) == ("ann", Role.ATTENDEE, VALID_UNTIL)
    moderation = Moderation(actor_user_id="host", muted=True, video=False)
    new = participant_moderated("ann", moderation)
    event = from_record("r", 4, NOW, new.type.value, "api", new.data)
    assert event.moderation == moderation and event.user_id == "ann"


def test_janus_moderation_mutes_audio_and_video_only_when_asked() -> None:
    streams = [("audio", "0"), ("video", "1"), ("video", "2"), ("data", "3")]
    assert moderated_mids(streams, video=False) == ["0"]
    # A camera and a screen share are both `video` to Janus: both go.
    assert moderated_mids(streams, video=True) == ["0", "1", "2"]


def test_livekit_moderation_reads_the_participant_then_mutes_its_tracks() -> None:
    event = RoomEvent(
        "r",
        5,
        NOW,
        EventType.PARTICIPANT_MODERATED,
        "api",
        user_id="ann",
        moderation=Moderation("host", True, True),
    )
    call = call_for(event)
    assert call is not None and call.method == "GetParticipant"
    assert call.body == {"room": "r", "identity": "ann"} and call.grant.room_admin
    info = {
        "identity": "ann",
        "tracks": [
            {"sid": "TR_a", "type": "AUDIO", "source": "MICROPHONE"},
            {"sid": "TR_v", "type": "VIDEO", "source": "CAMERA"},
            {"sid": "TR_s", "type": "VIDEO", "source": "SCREEN_SHARE"},
            {"sid": "TR_d", "type": "DATA"},
        ],
    }
    assert moderated_tracks(info, video=False) == ["TR_a"]
    assert moderated_tracks(info, video=True) == ["TR_a", "TR_v", "TR_s"]
    assert moderated_tracks({}, video=True) == []
    ended = RoomEvent(
        "r",
        6,
        NOW,
        EventType.PARTICIPANT_WINDOW_ENDED,
        "system",
        user_id="ann",
        role=Role.ATTENDEE,
    )
    removal = call_for(ended)
    assert removal is not None and removal.method == "RemoveParticipant"
