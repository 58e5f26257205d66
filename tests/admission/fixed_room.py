"""A room at fixed times for the unit tests of the join rules (admission, participants'
windows): invite-only, valid for two hours from VALID_FROM, with settings by keyword."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.domain.models import JoinPolicy, Role, Room

VALID_FROM = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


VALID_UNTIL = VALID_FROM + timedelta(hours=2)


EARLY_ENTRY = timedelta(minutes=30)


MICROSECOND = timedelta(microseconds=1)


def make_room(
    *,
    valid_from: datetime = VALID_FROM,
    valid_until: datetime = VALID_UNTIL,
    pstn_dial_out_enabled: bool = False,
    join_policy: JoinPolicy = JoinPolicy.INVITE_ONLY,
    open_join_role: Role = Role.ATTENDEE,
    early_entry: timedelta = timedelta(0),
) -> Room:
    created = datetime(2030, 1, 1, tzinfo=UTC)
    return Room(
        room_id="appointment-1",
        create_time=created,
        update_time=created,
        valid_from=valid_from,
        valid_until=valid_until,
        pstn_dial_out_enabled=pstn_dial_out_enabled,
        join_policy=join_policy,
        metadata={},
        open_join_role=open_join_role,
        early_entry=early_entry,
        version=1,
        participant_count=1,
    )
