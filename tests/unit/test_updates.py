"""Pure unit tests of service.domain.updates: update masks and the resulting changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, Role, Room, RoomSettings
from service.domain.updates import UPDATABLE_FIELDS, resolve_mask, resolve_update
from service.domain.windows import WindowRule
from tests.unit.rule_checks import DAY, HOUR, LIMITS, NOW, fields_of

ALL_PATHS = {
    "valid_from",
    "valid_until",
    "pstn_dial_out_enabled",
    "join_policy",
    "metadata",
    "open_join_role",
    "early_entry_duration",
    "waiting_room_enabled",
    "max_participants",
    "role_capacity",
    "recurrence",
    "time_zone",
}

ROOM = Room(
    room_id="room-1",
    create_time=NOW - DAY,
    update_time=NOW - DAY,
    valid_from=NOW + DAY,
    valid_until=NOW + 2 * DAY,
    pstn_dial_out_enabled=True,
    join_policy=JoinPolicy.OPEN,
    metadata={"a": "1", "b": "2"},
    open_join_role=Role.CONSUMER,
    early_entry=timedelta(minutes=10),
    version=3,
    participant_count=2,
)


def update_error(
    settings: RoomSettings, fields: set[str], room: Room = ROOM, limits: Limits = LIMITS
) -> DomainError:
    with pytest.raises(DomainError) as info:
        resolve_update(room, settings, fields, NOW, limits)
    return info.value


# --- resolve_mask ----------------------------------------------------------------------


def test_updatable_fields_are_the_api_names() -> None:
    assert set(UPDATABLE_FIELDS) == ALL_PATHS


def test_empty_mask_is_every_populated_updatable_field() -> None:
    populated = ["valid_until", "metadata", "room_id", "etag", "create_time", "state"]
    assert resolve_mask([], populated) == {"valid_until", "metadata"}


def test_empty_mask_with_nothing_populated_changes_nothing() -> None:
    assert resolve_mask([], []) == set()
    assert resolve_mask([], ["room_id", "participant_count"]) == set()


@pytest.mark.parametrize("paths", [["*"], ["metadata", "*"], ["*", "*"]])
def test_star_is_every_updatable_field(paths: list[str]) -> None:
    assert resolve_mask(paths, []) == ALL_PATHS


def test_explicit_paths_are_taken_as_given_whatever_is_populated() -> None:
    assert resolve_mask(["valid_until", "early_entry_duration"], ["metadata"]) == {
        "valid_until",
        "early_entry_duration",
    }


@pytest.mark.parametrize(
    ("paths", "bad"),
    [
        (["bogus"], [0]),
        (["metadata", "bogus"], [1]),
        (["room_id", "metadata", "etag", "early_entry"], [0, 2, 3]),
        (["room.valid_until"], [0]),
        (["Valid_Until"], [0]),
        ([""], [0]),
        (["*", "state"], [1]),
        (["metadata.key"], [0]),
    ],
)
def test_unknown_paths_are_rejected_each_named(paths: list[str], bad: list[int]) -> None:
    with pytest.raises(DomainError) as info:
        resolve_mask(paths, ALL_PATHS)
    error = info.value
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == [f"update_mask.paths[{i}]" for i in bad]
    assert error.metadata["field"] == f"update_mask.paths[{bad[0]}]"
    for index, violation in zip(bad, error.field_violations, strict=True):
        assert repr(paths[index]) in violation.description
        assert "valid_until" in violation.description  # the allowed names are listed


# --- resolve_update: nothing, simple fields ---------------------------------------------


def test_no_fields_no_changes() -> None:
    assert resolve_update(ROOM, RoomSettings(), set(), NOW, LIMITS) == {}


def test_simple_fields_take_the_new_values_even_when_they_are_defaults() -> None:
    changes = resolve_update(
        ROOM,
        RoomSettings(),
        {"pstn_dial_out_enabled", "join_policy", "open_join_role"},
        NOW,
        LIMITS,
    )
    assert changes == {
        "pstn_dial_out_enabled": False,
        "join_policy": JoinPolicy.INVITE_ONLY,
        "open_join_role": Role.ATTENDEE,
    }


def test_unmasked_fields_are_left_alone() -> None:
    settings = RoomSettings(
        valid_from=NOW - 400 * DAY,  # would break the window rules if applied
        valid_until=NOW - DAY,
        metadata={"bad key": "\x00"},  # would break the metadata rules if applied
        early_entry=-HOUR,  # would break the early-entry rule if applied
        join_policy=JoinPolicy.INVITE_ONLY,
    )
    assert resolve_update(ROOM, settings, {"join_policy"}, NOW, LIMITS) == {
        "join_policy": JoinPolicy.INVITE_ONLY
    }


def test_star_mask_with_empty_settings_resets_every_field_to_its_creation_default() -> None:
    changes = resolve_update(ROOM, RoomSettings(), resolve_mask(["*"], []), NOW, LIMITS)
    assert changes == {
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=180),
        "pstn_dial_out_enabled": False,
        "join_policy": JoinPolicy.INVITE_ONLY,
        "metadata": {},
        "open_join_role": Role.ATTENDEE,
        "early_entry": timedelta(0),
        "waiting_room_enabled": False,
        "max_participants": 0,
        "role_capacity": (),
        "recurrence": (),
        "time_zone": "",
    }


# --- resolve_update: the window ---------------------------------------------------------


def test_valid_until_alone() -> None:
    changes = resolve_update(
        ROOM, RoomSettings(valid_until=NOW + 3 * DAY), {"valid_until"}, NOW, LIMITS
    )
    assert changes == {"valid_until": NOW + 3 * DAY}


def test_both_window_fields() -> None:
    settings = RoomSettings(valid_from=NOW + 5 * DAY, valid_until=NOW + 6 * DAY)
    changes = resolve_update(ROOM, settings, {"valid_from", "valid_until"}, NOW, LIMITS)
    assert changes == {"valid_from": NOW + 5 * DAY, "valid_until": NOW + 6 * DAY}


def test_masked_but_unset_valid_until_takes_now_plus_the_default_window() -> None:
    changes = resolve_update(ROOM, RoomSettings(), {"valid_until"}, NOW, LIMITS)
    assert changes == {"valid_until": NOW + timedelta(days=180)}
    # Not the room's valid_from + 180 days.
    assert changes["valid_until"] != ROOM.valid_from + timedelta(days=180)


def test_masked_but_unset_valid_until_uses_a_custom_default_window() -> None:
    limits = Limits(default_window=timedelta(days=7))
    changes = resolve_update(ROOM, RoomSettings(), {"valid_until"}, NOW, limits)
    assert changes == {"valid_until": NOW + timedelta(days=7)}


def test_masked_but_unset_valid_from_takes_now() -> None:
    changes = resolve_update(ROOM, RoomSettings(), {"valid_from"}, NOW, LIMITS)
    assert changes == {"valid_from": NOW}


def test_new_valid_from_is_checked_against_the_stored_valid_until() -> None:
    error = update_error(RoomSettings(valid_from=NOW + 3 * DAY), {"valid_from"})
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.metadata["rule"] == WindowRule.ENDS_BEFORE_START
    assert fields_of(error) == ["room.valid_until"]


def test_new_valid_from_equal_to_the_stored_valid_until_is_rejected() -> None:
    error = update_error(RoomSettings(valid_from=ROOM.valid_until), {"valid_from"})
    assert error.metadata["rule"] == WindowRule.ENDS_BEFORE_START


def test_new_valid_until_is_checked_against_the_stored_valid_from() -> None:
    # The room starts in a day, so 182 days from now makes a 181-day window.
    error = update_error(RoomSettings(valid_until=NOW + 182 * DAY), {"valid_until"})
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.metadata["rule"] == WindowRule.WINDOW_TOO_LONG
    assert error.metadata["limit"] == str(180 * 86_400)
    assert fields_of(error) == ["room.valid_until"]
    # Exactly 180 days is fine.
    changes = resolve_update(
        ROOM, RoomSettings(valid_until=NOW + 181 * DAY), {"valid_until"}, NOW, LIMITS
    )
    assert changes == {"valid_until": NOW + 181 * DAY}


def test_new_valid_until_in_the_past_is_rejected() -> None:
    room = replace(ROOM, valid_from=NOW - 2 * DAY)
    error = update_error(RoomSettings(valid_until=NOW - HOUR), {"valid_until"}, room)
    assert error.metadata["rule"] == WindowRule.ENDS_IN_PAST
    assert fields_of(error) == ["room.valid_until"]
    error = update_error(RoomSettings(valid_until=NOW), {"valid_until"}, room)
    assert error.metadata["rule"] == WindowRule.ENDS_IN_PAST


def test_new_valid_from_too_far_ahead_is_rejected() -> None:
    settings = RoomSettings(valid_from=NOW + 181 * DAY, valid_until=NOW + 182 * DAY)
    error = update_error(settings, {"valid_from", "valid_until"})
    assert error.metadata["rule"] == WindowRule.STARTS_TOO_LATE
    assert fields_of(error) == ["room.valid_from"]


def test_extending_an_ended_room() -> None:
    ended = replace(ROOM, valid_from=NOW - 10 * DAY, valid_until=NOW - DAY)
    changes = resolve_update(
        ended, RoomSettings(valid_until=NOW + DAY), {"valid_until"}, NOW, LIMITS
    )
    assert changes == {"valid_until": NOW + DAY}


def test_an_ended_room_can_change_other_fields_without_touching_its_window() -> None:
    ended = replace(ROOM, valid_from=NOW - 10 * DAY, valid_until=NOW - DAY)
    changes = resolve_update(ended, RoomSettings(metadata={"c": "3"}), {"metadata"}, NOW, LIMITS)
    assert changes == {"metadata": {"c": "3"}}


def test_window_rules_use_custom_limits() -> None:
    limits = Limits(max_window=timedelta(days=2))
    error = update_error(
        RoomSettings(valid_until=NOW + 3 * DAY + HOUR), {"valid_until"}, limits=limits
    )
    assert error.metadata["rule"] == WindowRule.WINDOW_TOO_LONG
    assert error.metadata["limit"] == str(2 * 86_400)


# --- resolve_update: metadata and early entry -------------------------------------------


def test_metadata_is_replaced_not_merged() -> None:
    new_metadata = {"c": "3"}
    changes = resolve_update(ROOM, RoomSettings(metadata=new_metadata), {"metadata"}, NOW, LIMITS)
    assert changes == {"metadata": {"c": "3"}}
    assert changes["metadata"] is not new_metadata


def test_masked_empty_metadata_clears_it() -> None:
    assert resolve_update(ROOM, RoomSettings(), {"metadata"}, NOW, LIMITS) == {"metadata": {}}


def test_metadata_rules_apply() -> None:
    error = update_error(RoomSettings(metadata={"bad key": "v"}), {"metadata"})
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == ["room.metadata['bad key']"]
    error = update_error(RoomSettings(metadata={f"k{i}": "v" for i in range(33)}), {"metadata"})
    assert fields_of(error) == ["room.metadata"]


def test_early_entry_is_stored_under_its_column_name() -> None:
    settings = RoomSettings(early_entry=timedelta(hours=24))
    changes = resolve_update(ROOM, settings, {"early_entry_duration"}, NOW, LIMITS)
    assert changes == {"early_entry": timedelta(hours=24)}


@pytest.mark.parametrize(
    "early_entry", [-timedelta(microseconds=1), timedelta(hours=24, microseconds=1)]
)
def test_early_entry_rules_apply(early_entry: timedelta) -> None:
    error = update_error(RoomSettings(early_entry=early_entry), {"early_entry_duration"})
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == ["room.early_entry_duration"]


def test_every_bad_field_of_an_update_is_reported_at_once() -> None:
    settings = RoomSettings(
        valid_until=NOW - HOUR,
        metadata={"": "v"},
        early_entry=timedelta(days=2),
    )
    error = update_error(settings, {"valid_until", "metadata", "early_entry_duration"})
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert fields_of(error) == [
        "room.valid_until",  # ENDS_IN_PAST
        "room.valid_until",  # ENDS_BEFORE_START (the room starts in a day)
        "room.metadata['']",
        "room.early_entry_duration",
    ]
    assert error.metadata["rule"] == WindowRule.ENDS_IN_PAST
