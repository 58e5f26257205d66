"""Pure unit tests of a new room's settings in service.domain.rules: every setting
carried, the room id, metadata and early entry, and every bad field reported at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from service.domain import rules
from service.domain.errors import DomainError, ErrorReason, Violations
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, Role, RoomSettings
from tests.unit.rule_checks import (
    CUSTOM,
    HOUR,
    LIMITS,
    MICROSECOND,
    NOW,
    SECOND,
    error_of,
    fields_of,
    passes,
)

# --- New rooms -------------------------------------------------------------------------


def test_new_room_carries_every_setting() -> None:
    metadata = {"course": "cs-101"}
    settings = RoomSettings(
        valid_from=NOW + HOUR,
        valid_until=NOW + 2 * HOUR,
        pstn_dial_out_enabled=True,
        join_policy=JoinPolicy.OPEN,
        metadata=metadata,
        open_join_role=Role.CONSUMER,
        early_entry=timedelta(minutes=15),
    )
    room = rules.resolve_new_room("my-room", settings, NOW, LIMITS)
    assert room.room_id == "my-room"
    assert room.valid_from == NOW + HOUR
    assert room.valid_until == NOW + 2 * HOUR
    assert room.pstn_dial_out_enabled is True
    assert room.join_policy is JoinPolicy.OPEN
    assert room.metadata == {"course": "cs-101"}
    assert room.metadata is not metadata
    assert room.open_join_role is Role.CONSUMER
    assert room.early_entry == timedelta(minutes=15)


def test_new_room_without_an_id_gets_a_valid_generated_one() -> None:
    first = rules.resolve_new_room("", RoomSettings(), NOW, LIMITS)
    second = rules.resolve_new_room("", RoomSettings(), NOW, LIMITS)
    assert first.room_id != second.room_id
    rules.require_room_id(first.room_id)
    rules.require_room_id(second.room_id)


def test_new_room_with_a_bad_id_names_room_id() -> None:
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("-bad", RoomSettings(), NOW, LIMITS)
    assert info.value.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(info.value) == ["room_id"]
    assert info.value.metadata["field"] == "room_id"


def test_new_room_reports_every_bad_field_at_once() -> None:
    settings = RoomSettings(
        valid_from=NOW + HOUR,
        valid_until=NOW + HOUR,
        metadata={"bad key": "v"},
        early_entry=-SECOND,
    )
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("-bad-id", settings, NOW, LIMITS)
    error = info.value
    assert fields_of(error) == [
        "room_id",
        "room.valid_until",
        "room.metadata['bad key']",
        "room.early_entry_duration",
    ]
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert error.metadata == {"field": "room_id"}
    assert error.field_violations[1].reason is ErrorReason.INVALID_WINDOW


# --- Metadata --------------------------------------------------------------------------


def check_metadata(
    metadata: dict[str, str], limits: Limits = LIMITS
) -> Callable[[Violations], None]:
    return lambda v: rules.check_metadata(v, "room.metadata", metadata, limits)


def test_metadata_within_every_limit() -> None:
    metadata = {f"key-{i}": "v" * 512 for i in range(32)}
    metadata["k" * 64] = metadata.pop("key-0")
    assert passes(check_metadata(metadata))
    assert passes(check_metadata({}))
    assert passes(check_metadata({"empty": ""}))
    assert passes(check_metadata({"app/course-id.v1_x": "José 用户, with spaces"}))


def test_metadata_with_too_many_entries_is_one_violation() -> None:
    metadata = {f"key-{i}": "v" for i in range(33)}
    error = error_of(check_metadata(metadata))
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == ["room.metadata"]
    assert "32" in error.field_violations[0].description


def test_metadata_key_too_long() -> None:
    key = "k" * 65
    error = error_of(check_metadata({key: "v"}))
    assert fields_of(error) == [f"room.metadata[{key[:32]!r}]"]
    assert "64" in error.field_violations[0].description


@pytest.mark.parametrize("key", ["", "-x", ".x", "_x", "/x", "a b", "a:b", "ä", "a\nb", "a=b"])
def test_metadata_key_charset(key: str) -> None:
    error = error_of(check_metadata({key: "v"}))
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == [f"room.metadata[{key!r}]"]


def test_metadata_value_too_long() -> None:
    error = error_of(check_metadata({"k": "v" * 513}))
    assert fields_of(error) == ["room.metadata['k']"]
    assert "512" in error.field_violations[0].description


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "\x00", "a\x1bb", "tab\there", "\x7f"])
def test_metadata_value_with_control_characters(value: str) -> None:
    error = error_of(check_metadata({"k": value}))
    assert fields_of(error) == ["room.metadata['k']"]
    assert "control" in error.field_violations[0].description


def test_metadata_bad_key_and_bad_value_are_both_reported() -> None:
    error = error_of(check_metadata({"bad key": "v" * 513, "good": "ok", "also bad": "\x00"}))
    assert fields_of(error) == [
        "room.metadata['bad key']",
        "room.metadata['bad key']",
        "room.metadata['also bad']",
        "room.metadata['also bad']",
    ]


# --- Early entry -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "early_entry", [timedelta(0), MICROSECOND, timedelta(minutes=30), timedelta(hours=24)]
)
def test_early_entry_accepted(early_entry: timedelta) -> None:
    room = rules.resolve_new_room("", RoomSettings(early_entry=early_entry), NOW, LIMITS)
    assert room.early_entry == early_entry


@pytest.mark.parametrize(
    ("early_entry", "words"),
    [
        (-MICROSECOND, "negative"),
        (-HOUR, "negative"),
        (timedelta(hours=24) + MICROSECOND, "86400 seconds"),
        (timedelta(days=2), "86400 seconds"),
    ],
)
def test_early_entry_rejected(early_entry: timedelta, words: str) -> None:
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("", RoomSettings(early_entry=early_entry), NOW, LIMITS)
    assert info.value.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(info.value) == ["room.early_entry_duration"]
    assert words in info.value.field_violations[0].description


# --- Custom limits ---------------------------------------------------------------------


def test_custom_max_early_entry() -> None:
    rules.resolve_new_room("", RoomSettings(early_entry=HOUR), NOW, CUSTOM)
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("", RoomSettings(early_entry=HOUR + SECOND), NOW, CUSTOM)
    assert "3600 seconds" in info.value.field_violations[0].description


def test_custom_metadata_limits() -> None:
    assert passes(check_metadata({"abcd": "xyz", "k": ""}, CUSTOM))
    assert fields_of(error_of(check_metadata({"a": "", "b": "", "c": ""}, CUSTOM))) == [
        "room.metadata"
    ]
    assert fields_of(error_of(check_metadata({"abcde": "x"}, CUSTOM))) == ["room.metadata['abcde']"]
    assert fields_of(error_of(check_metadata({"k": "wxyz"}, CUSTOM))) == ["room.metadata['k']"]
