"""Which room fields an update may change, and the changes an update makes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from service.domain import rules, windows
from service.domain.errors import Violations
from service.domain.limits import Limits
from service.domain.models import SETTING_NAMES, Room, RoomSettings, api_name, settings_of


def resolve_update(
    room: Room, new: RoomSettings, paths: Collection[str], now: datetime, limits: Limits
) -> dict[str, Any]:
    """The setting changes (by domain name) for an update of the API fields `paths`
    to the values in `new`.

    A masked window field that is not set takes its creation default. Each changed
    setting's rule applies to the resulting settings (`check_settings`).
    """
    names = {UPDATABLE_FIELDS[path] for path in paths}
    changes = rules.owned({name: getattr(new, name) for name in SETTING_NAMES if name in names})
    for name, default in zip(
        windows.WINDOW,
        windows.resolve_window(new.valid_from, new.valid_until, now, limits),
        strict=True,
    ):
        if name in changes:
            changes[name] = default
    violations = Violations()
    rules.check_settings(violations, replace(settings_of(room), **changes), changes, now, limits)
    violations.raise_if_any()
    return changes


# Update-mask path (the API's field name) -> the setting's domain name.
UPDATABLE_FIELDS: dict[str, str] = {api_name(name): name for name in SETTING_NAMES}


def resolve_mask(paths: Collection[str], populated: Collection[str]) -> set[str]:
    """A room's fields to change (by API name); see `masked_fields`."""
    return masked_fields(paths, populated, UPDATABLE_FIELDS)


def masked_fields(
    paths: Collection[str], populated: Collection[str], updatable: Collection[str]
) -> set[str]:
    """The fields an update changes (AIP-134), of any resource: `*` is every updatable
    field; an empty mask is every populated one. Unknown paths are rejected, each named."""
    if not paths:
        return {path for path in populated if path in updatable}
    violations = Violations()
    for index, path in enumerate(paths):
        if path != "*" and path not in updatable:
            violations.add(
                f"update_mask.paths[{index}]",
                f"{path[:64]!r} is not an updatable field; use one of "
                + ", ".join(sorted(updatable)),
            )
    violations.raise_if_any()
    return set(updatable) if "*" in paths else set(paths)
