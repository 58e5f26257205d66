"""Validation rules and defaults for rooms, identities and requests. A room's window
has its own module (service/domain/windows.py)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from service.domain import instants, recurrence
from service.domain.errors import ErrorReason, Violations
from service.domain.limits import Limits
from service.domain.models import (
    SETTING_NAMES,
    NewRoom,
    ResolvedSettings,
    RoomSettings,
    RosterEntry,
    api_name,
    new_id,
)
from service.domain.seats import check_capacity_settings
from service.domain.windows import (
    RECURRING,
    WINDOW,
    WindowRule,
    check_early_entry,
    check_window,
    resolve_window,
)

ROOM_ID_MAX_LENGTH = 128
USER_ID_MAX_LENGTH = 256
IDEMPOTENCY_KEY_MAX_LENGTH = 128
ETAG_MAX_LENGTH = 64

_ROOM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")
_METADATA_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def _is_token(value: str) -> bool:
    """Printable, with no whitespace or control characters."""
    return value.isprintable() and not any(ch.isspace() for ch in value)


def check_room_id(violations: Violations, field: str, room_id: str) -> None:
    if not room_id:
        violations.add(field, "must not be empty")
    elif len(room_id) > ROOM_ID_MAX_LENGTH:
        violations.add(field, f"must be at most {ROOM_ID_MAX_LENGTH} characters")
    elif not _ROOM_ID.fullmatch(room_id):
        violations.add(field, "must use only A-Z a-z 0-9 . _ ~ - and start with a letter or digit")


def check_user_id(violations: Violations, field: str, user_id: str) -> None:
    if not user_id:
        violations.add(field, "must not be empty")
    elif len(user_id) > USER_ID_MAX_LENGTH:
        violations.add(field, f"must be at most {USER_ID_MAX_LENGTH} characters")
    elif not _is_token(user_id):
        violations.add(field, "must be printable, with no whitespace or control characters")


def check_idempotency_key(violations: Violations, field: str, idempotency_key: str) -> None:
    """An empty key is allowed: the call is then not idempotent. (`field` is the API's
    name for it, `request_id`.)"""
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        violations.add(field, f"must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters")
    elif idempotency_key and not _is_token(idempotency_key):
        violations.add(field, "must be printable, with no whitespace or control characters")


def check_etag(violations: Violations, field: str, etag: str) -> None:
    if len(etag) > ETAG_MAX_LENGTH:
        violations.add(field, f"must be at most {ETAG_MAX_LENGTH} characters")


def require_room_id(room_id: str, field: str = "room_id") -> None:
    """Raise at once if a room id is malformed."""
    violations = Violations()
    check_room_id(violations, field, room_id)
    violations.raise_if_any()


def check_metadata(
    violations: Violations, field: str, metadata: Mapping[str, str], limits: Limits
) -> None:
    if len(metadata) > limits.max_metadata_entries:
        violations.add(field, f"must have at most {limits.max_metadata_entries} entries")
        return
    for key, value in metadata.items():
        if len(key) > limits.max_metadata_key_length:
            violations.add(
                f"{field}[{key[:32]!r}]",
                f"key must be at most {limits.max_metadata_key_length} characters",
            )
        elif not _METADATA_KEY.fullmatch(key):
            violations.add(
                f"{field}[{key[:32]!r}]",
                "key must use only A-Z a-z 0-9 . _ / - and start with a letter or digit",
            )
        if len(value) > limits.max_metadata_value_length:
            violations.add(
                f"{field}[{key[:32]!r}]",
                f"value must be at most {limits.max_metadata_value_length} characters",
            )
        elif not value.isprintable():
            violations.add(
                f"{field}[{key[:32]!r}]",
                "value must be printable (no control or invisible separator characters)",
            )


def check_settings(
    violations: Violations,
    settings: ResolvedSettings,
    changed: Collection[str],
    now: datetime,
    limits: Limits,
) -> None:
    """Each setting's rule, for the settings named in `changed` (all of them for a new
    room, the masked ones for an update); the window rules and the capacity rules
    look at the resulting pair. Violations name the API's fields (`room.<field>`)."""
    window = [name for name in WINDOW if name in changed]
    # A list, not a generator: every window field is reported.
    in_range = [
        instants.check(violations, f"room.{name}", getattr(settings, name)) for name in window
    ]
    # A recurring room ends with its last occurrence: a first one already past is fine.
    series_end = None
    if (
        "time_zone" in changed
        and settings.time_zone
        and recurrence.zone(settings.time_zone) is None
    ):
        violations.add(
            "room.time_zone", f"{settings.time_zone[:64]!r} is not a known IANA time zone"
        )
    elif (
        RECURRING.intersection(changed)
        and settings.series is not None
        and (not window or all(in_range))
    ):
        found = recurrence.check(violations, "room.", settings.series)
        series_end = found[-1].end if found else None
    if window and all(in_range):
        check_window(
            violations,
            "room.",
            settings.valid_from,
            settings.valid_until,
            now,
            limits,
            ends=series_end,
        )
    if "metadata" in changed:
        check_metadata(violations, "room.metadata", settings.metadata, limits)
    if "early_entry" in changed:
        check_early_entry(
            violations, "room." + api_name("early_entry"), settings.early_entry, limits
        )
    if "max_participants" in changed or "role_capacity" in changed:
        check_capacity_settings(
            violations, "room.", settings.max_participants, settings.role_capacity, limits
        )


def owned(values: Mapping[str, Any]) -> dict[str, Any]:
    """Setting values the caller cannot change afterwards (copies of mutable ones)."""
    owned = dict(values)
    if "metadata" in owned:
        owned["metadata"] = dict(owned["metadata"])
    if "role_capacity" in owned:
        owned["role_capacity"] = tuple(owned["role_capacity"])
    return owned


def resolve_new_room(
    room_id: str,
    settings: RoomSettings,
    now: datetime,
    limits: Limits,
    violations: Violations | None = None,
) -> NewRoom:
    """Apply the defaults (`resolve_window`) and every rule; raise one error naming
    every bad field, together with any already in `violations`."""
    violations = violations if violations is not None else Violations()
    if room_id:
        check_room_id(violations, "room_id", room_id)
    values = owned({name: getattr(settings, name) for name in SETTING_NAMES})
    values["valid_from"], values["valid_until"] = resolve_window(
        settings.valid_from, settings.valid_until, now, limits
    )
    new_room = NewRoom(room_id=room_id or new_id(), **values)
    check_settings(violations, new_room, SETTING_NAMES, now, limits)
    violations.raise_if_any()
    return new_room


def batch_fits(violations: Violations, field: str, size: int, limits: Limits) -> bool:
    """Whether a batch of `size` identities is within the limit; if not, BATCH_TOO_LARGE.
    Checked before any entry is looked at, so an oversized batch costs nothing more."""
    if size <= limits.max_batch_size:
        return True
    violations.add(
        field,
        f"must hold at most {limits.max_batch_size} identities",
        ErrorReason.BATCH_TOO_LARGE,
        limit=str(limits.max_batch_size),
        size=str(size),
    )
    return False


def check_roster_batch(
    violations: Violations,
    field: str,
    user_ids: Sequence[str],
    limits: Limits,
    entry_field: str = "",
) -> None:
    """A batch of identities: bounded, each valid, none twice. The identity at `index`
    is the field `{field}[{index}]{entry_field}` (AIP-193: `participants[0].user_id`
    for a list of participants, `user_ids[0]` for a list of identities)."""
    if not batch_fits(violations, field, len(user_ids), limits):
        return
    seen: set[str] = set()
    for index, user_id in enumerate(user_ids):
        path = f"{field}[{index}]{entry_field}"
        check_user_id(violations, path, user_id)
        if user_id in seen:
            violations.add(
                path,
                "appears more than once in the batch",
                ErrorReason.DUPLICATE_USER_ID,
                user_id=user_id,
            )
        seen.add(user_id)


def check_roster(
    violations: Violations, field: str, entries: Sequence[RosterEntry], limits: Limits
) -> None:
    check_roster_batch(violations, field, [entry.user_id for entry in entries], limits, ".user_id")
    for index, entry in enumerate(entries[: limits.max_batch_size]):
        check_participant_window(violations, f"{field}[{index}].", entry)


def check_participant_window(violations: Violations, prefix: str, entry: RosterEntry) -> None:
    """A participant's own window: accepted instants, and `valid_until` after
    `valid_from` when both are set (INVALID_WINDOW `ENDS_BEFORE_START`). It may reach
    outside the room's window: the earlier end and the later start apply."""
    ok = all(
        [
            instants.check(violations, prefix + name, value)
            for name, value in (
                ("valid_from", entry.valid_from),
                ("valid_until", entry.valid_until),
            )
            if value is not None
        ]
    )
    if (
        ok
        and entry.valid_from is not None
        and entry.valid_until is not None
        and entry.valid_until <= entry.valid_from
    ):
        violations.add(
            prefix + "valid_until",
            "must be after valid_from",
            ErrorReason.INVALID_WINDOW,
            rule=WindowRule.ENDS_BEFORE_START,
        )


def page_size(requested: int, limits: Limits, field: str = "page_size") -> int:
    """0 means the default; larger than the maximum is capped; negative is rejected."""
    if requested < 0:
        violations = Violations()
        violations.add(field, "must not be negative")
        violations.raise_if_any()
    if requested == 0:
        return limits.default_page_size
    return min(requested, limits.max_page_size)


def fingerprint(value: Any) -> str:
    """A stable hash of a request's inputs, for idempotency keys."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
