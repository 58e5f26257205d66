"""Which room fields an update may change, and the rules for the result."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from service.domain import instants, rules
from service.domain.errors import Violations
from service.domain.limits import Limits
from service.domain.models import Room, RoomSettings
from service.domain.seats import check_capacity_settings

# Update-mask path -> storage column. The mask speaks the API's field names.
UPDATABLE_FIELDS: dict[str, str] = {
    "valid_from": "valid_from",
    "valid_until": "valid_until",
    "pstn_dial_out_enabled": "pstn_dial_out_enabled",
    "join_policy": "join_policy",
    "metadata": "metadata",
    "open_join_role": "open_join_role",
    "early_entry_duration": "early_entry",
    "waiting_room_enabled": "waiting_room_enabled",
    "max_participants": "max_participants",
    "role_capacity": "role_capacity",
}


def resolve_mask(paths: Collection[str], populated: Collection[str]) -> set[str]:
    """The fields to change. `*` is every field; an empty mask is every populated field
    (AIP-134). Unknown paths are rejected, each named."""
    if not paths:
        return {path for path in populated if path in UPDATABLE_FIELDS}
    violations = Violations()
    for index, path in enumerate(paths):
        if path != "*" and path not in UPDATABLE_FIELDS:
            violations.add(
                f"update_mask.paths[{index}]",
                f"{path[:64]!r} is not an updatable field; use one of "
                + ", ".join(sorted(UPDATABLE_FIELDS)),
            )
    violations.raise_if_any()
    if "*" in paths:
        return set(UPDATABLE_FIELDS)
    return set(paths)


def resolve_update(
    room: Room, new: RoomSettings, fields: Collection[str], now: datetime, limits: Limits
) -> dict[str, Any]:
    """The column changes for an update of `fields` to the values in `new`.

    A masked window field that is not set takes its creation default. The window
    rules apply to the resulting window whenever a window field changes.
    """
    violations = Violations()
    changes: dict[str, Any] = {}
    if "valid_from" in fields:
        changes["valid_from"] = new.valid_from if new.valid_from is not None else now
    if "valid_until" in fields:
        changes["valid_until"] = (
            new.valid_until if new.valid_until is not None else now + limits.default_window
        )
    # Every window field is checked (a list, not a generator: all are reported).
    in_range = [instants.check(violations, f"room.{name}", v) for name, v in changes.items()]
    if changes and all(in_range):
        rules.check_window(
            violations,
            "room.",
            changes.get("valid_from", room.valid_from),
            changes.get("valid_until", room.valid_until),
            now,
            limits,
        )
    if "pstn_dial_out_enabled" in fields:
        changes["pstn_dial_out_enabled"] = new.pstn_dial_out_enabled
    if "join_policy" in fields:
        changes["join_policy"] = new.join_policy
    if "open_join_role" in fields:
        changes["open_join_role"] = new.open_join_role
    if "metadata" in fields:
        rules.check_metadata(violations, "room.metadata", new.metadata, limits)
        changes["metadata"] = dict(new.metadata)
    if "early_entry_duration" in fields:
        rules.check_early_entry(violations, "room.early_entry_duration", new.early_entry, limits)
        changes["early_entry"] = new.early_entry
    if "waiting_room_enabled" in fields:
        changes["waiting_room_enabled"] = new.waiting_room_enabled
    if "max_participants" in fields or "role_capacity" in fields:
        max_participants = (
            new.max_participants if "max_participants" in fields else room.max_participants
        )
        role_capacity = new.role_capacity if "role_capacity" in fields else room.role_capacity
        check_capacity_settings(violations, "room.", max_participants, role_capacity, limits)
        if "max_participants" in fields:
            changes["max_participants"] = max_participants
        if "role_capacity" in fields:
            changes["role_capacity"] = tuple(role_capacity)
    violations.raise_if_any()
    return changes
