"""A stored event read back: the row of a room's history (its payload, JSON) as the
`RoomEvent` the API answers with. Writing one is service/domain/events.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from service.domain import events
from service.domain.events import EventType, Moderation, RoomEvent
from service.domain.models import SETTING_DEFAULTS, ResolvedSettings, Role
from service.domain.recurrence import Occurrence
from service.domain.seats import Seat


def from_record(
    room_id: str,
    revision: int,
    event_time: datetime,
    type_: str,
    actor: str,
    data: Mapping[str, Any],
) -> RoomEvent:
    """Rebuild a stored event."""
    settings = settings_from_data(data["settings"]) if "settings" in data else None
    seat = None
    if "seat" in data:
        raw_seat = data["seat"]
        seat = Seat(
            seat_id=raw_seat["seat_id"],
            room_id=room_id,
            user_id=data["user_id"],
            role=Role(data["role"]),
            create_time=datetime.fromisoformat(raw_seat["create_time"]),
            expire_time=datetime.fromisoformat(raw_seat["expire_time"]),
        )
    raw_moderation = data.get("moderation")
    moderation = (
        Moderation(
            actor_user_id=raw_moderation["actor_user_id"],
            muted=bool(raw_moderation["muted"]),
            video=bool(raw_moderation["video"]),
        )
        if raw_moderation is not None
        else None
    )
    return RoomEvent(
        room_id=room_id,
        revision=revision,
        event_time=event_time,
        type=EventType(type_),
        actor=actor,
        settings=settings,
        changed_fields=tuple(data.get("changed_fields", ())),
        removed_occurrences=_occurrences_from(data.get("removed_occurrences", ())),
        added_occurrences=_occurrences_from(data.get("added_occurrences", ())),
        user_id=data.get("user_id"),
        role=Role(data["role"]) if "role" in data else None,
        previous_role=Role(data["previous_role"]) if "previous_role" in data else None,
        display_name=data.get("display_name"),
        seat=seat,
        valid_from=_instant(data.get("valid_from")),
        valid_until=_instant(data.get("valid_until")),
        moderation=moderation,
    )


def _instant(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw is not None else None


def settings_from_data(raw: Mapping[str, Any]) -> ResolvedSettings:
    values = {}
    for name, (_, decode) in events.CODECS.items():
        key = events.PAYLOAD_KEYS.get(name, name)
        values[name] = decode(raw[key]) if key in raw else SETTING_DEFAULTS[name]
    return ResolvedSettings(**values)


def _occurrences_from(raw: Sequence[Sequence[str]]) -> tuple[Occurrence, ...]:
    return tuple(
        Occurrence(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in raw
    )
