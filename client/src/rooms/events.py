"""Room events for people: one line per event."""

from __future__ import annotations

from rooms.v1 import events_pb2, participant_pb2


def describe_event(event: events_pb2.RoomEvent) -> str:
    """`#3 2026-11-24T09:00:00 participant_added patient-7 as attendee (by billing)`."""
    kind = events_pb2.RoomEventType.Name(event.type).removeprefix("ROOM_EVENT_TYPE_").lower()
    when = event.event_time.ToDatetime().isoformat(timespec="seconds")
    detail = ""
    if event.HasField("participant"):
        detail = f" {event.participant.user_id}"
        if event.participant.role:
            role = participant_pb2.Role.Name(event.participant.role)
            detail += f" as {role.removeprefix('ROLE_').lower()}"
    if event.display_name:
        detail += f" ({event.display_name})"
    if event.HasField("seat"):
        detail += f" seat {event.seat.seat_id}"
    if event.changed_fields:
        detail = " " + ", ".join(event.changed_fields)
    return f"#{event.revision} {when} {kind}{detail} (by {event.actor})"
