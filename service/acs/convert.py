"""ACS JSON <-> the use cases' values: rooms, participants, dates and roles.

Dates go out as ACS writes them (RFC 3339 in UTC, six fractional digits, `+00:00`) and
come in as RFC 3339 with an offset (`Z` or `+hh:mm`), finer than microseconds cut.
A participant's rawId must be an ACS communication user id (`8:acs:...`, and the
`8:spool:`, `8:dod-acs:`, `8:gcch-acs:` clouds), as ACS Rooms requires; a room's
roster written over gRPC may hold other ids, which list as they are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from service.acs.errors import bad_request
from service.domain.models import Participant, Role, Room, RoomSettings, RosterEntry

ROLES: Mapping[Role, str] = {
    Role.PRESENTER: "Presenter",
    Role.ATTENDEE: "Attendee",
    Role.CONSUMER: "Consumer",
    Role.COLLABORATOR: "Collaborator",
}
_ROLE_OF_NAME = {name.lower(): role for role, name in ROLES.items()}
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
_RAW_ID = re.compile(r"8:(acs|spool|dod-acs|gcch-acs):\S+")


def date_out(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def date_in(field: str, value: Any) -> datetime:
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise bad_request(field, "must be an RFC 3339 date-time with an offset")
    whole, fraction, offset = match.groups()
    offset = "+00:00" if offset.upper() == "Z" else offset
    try:
        parsed = datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6]:0<6}{offset}")
    except ValueError:
        raise bad_request(field, "is not a valid date-time") from None
    return parsed.astimezone(UTC)


def room_out(room: Room) -> dict[str, Any]:
    """Every field of RoomModel, always."""
    return {
        "id": room.room_id,
        "createdAt": date_out(room.create_time),
        "validFrom": date_out(room.valid_from),
        "validUntil": date_out(room.valid_until),
        "pstnDialOutEnabled": room.pstn_dial_out_enabled,
    }


def participant_out(participant: Participant) -> dict[str, Any]:
    return {"rawId": participant.user_id, "role": ROLES.get(participant.role, "Attendee")}


def body_object(body: Any, name: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(name, "the body must be a JSON object")
    return body


def _flag(body: Mapping[str, Any]) -> bool | None:
    value = body.get("pstnDialOutEnabled")
    if value is not None and not isinstance(value, bool):
        raise bad_request("pstnDialOutEnabled", "must be true or false")
    return value


def room_settings_in(body: Mapping[str, Any]) -> tuple[RoomSettings, list[str]]:
    """The settings a create or update sends, and the names (ours) of those not null."""
    valid_from = body.get("validFrom")
    valid_until = body.get("validUntil")
    flag = _flag(body)
    settings = RoomSettings(
        valid_from=None if valid_from is None else date_in("validFrom", valid_from),
        valid_until=None if valid_until is None else date_in("validUntil", valid_until),
        pstn_dial_out_enabled=bool(flag),
    )
    given = [
        name
        for name, value in (
            ("valid_from", valid_from),
            ("valid_until", valid_until),
            ("pstn_dial_out_enabled", flag),
        )
        if value is not None
    ]
    return settings, given


def raw_id_in(raw_id: str) -> str:
    if not _RAW_ID.fullmatch(raw_id):
        raise bad_request("participants", f"{raw_id!r} is not an ACS communication user id")
    return raw_id


def role_in(properties: Any) -> Role:
    """`{"role": R}`; a missing or null role is Attendee (ACS's default)."""
    if not isinstance(properties, dict):
        raise bad_request("participants", "each participant must be an object or null")
    name = properties.get("role")
    if name is None:
        return Role.ATTENDEE
    role = _ROLE_OF_NAME.get(name.lower()) if isinstance(name, str) else None
    if role is None:
        raise bad_request(
            "participants", f"role must be one of {', '.join(ROLES.values())}, not {name!r}"
        )
    return role


def participants_in(value: Any, *, removals: bool) -> tuple[list[RosterEntry], list[str]]:
    """A `participants` map: the entries to add or update, and (when `removals`) the
    ids mapped to null, to remove."""
    if value is None:
        return [], []
    if not isinstance(value, dict):
        raise bad_request("participants", "must be an object keyed by rawId")
    upserts: list[RosterEntry] = []
    removed: list[str] = []
    for raw_id, properties in value.items():
        user_id = raw_id_in(raw_id)
        if properties is None and removals:
            removed.append(user_id)
        else:
            upserts.append(RosterEntry(user_id, role_in({} if properties is None else properties)))
    return upserts, removed
