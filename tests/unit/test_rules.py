"""Pure unit tests of service.domain.rules (and the error shapes it produces).

Every test runs at a fixed instant: no wall clock, no sleeping, no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from service.domain import rules
from service.domain.errors import (
    KIND_OF_REASON,
    DomainError,
    ErrorKind,
    ErrorReason,
    FieldViolation,
    Violations,
    bad_page_token,
    etag_mismatch,
    invalid,
    participant_not_found,
    room_not_found,
    roster_full,
)
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, Role, RoomSettings, RosterEntry
from service.domain.rules import WindowRule

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
LIMITS = Limits()
DAYS_180_IN_SECONDS = str(180 * 86_400)


def error_of(check: Callable[[Violations], None]) -> DomainError:
    """Run one check against a fresh Violations and return the error it raises."""
    violations = Violations()
    check(violations)
    with pytest.raises(DomainError) as info:
        violations.raise_if_any()
    return info.value


def passes(check: Callable[[Violations], None]) -> bool:
    violations = Violations()
    check(violations)
    return not violations


def fields_of(error: DomainError) -> list[str]:
    return [violation.field for violation in error.field_violations]


def window_error(
    valid_from: datetime, valid_until: datetime, limits: Limits = LIMITS
) -> DomainError:
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("", RoomSettings(valid_from, valid_until), NOW, limits)
    return info.value


# --- Window defaults -------------------------------------------------------------------


def test_window_defaults_are_now_and_now_plus_180_days() -> None:
    room = rules.resolve_new_room("", RoomSettings(), NOW, LIMITS)
    assert room.valid_from == NOW
    assert room.valid_until == NOW + timedelta(days=180)


def test_default_valid_until_counts_from_now_not_from_valid_from() -> None:
    valid_from = NOW + 10 * DAY
    room = rules.resolve_new_room("", RoomSettings(valid_from=valid_from), NOW, LIMITS)
    assert room.valid_from == valid_from
    assert room.valid_until == NOW + timedelta(days=180)
    assert room.valid_until != valid_from + timedelta(days=180)


def test_default_valid_from_is_now_when_only_valid_until_is_given() -> None:
    room = rules.resolve_new_room("", RoomSettings(valid_until=NOW + 3 * DAY), NOW, LIMITS)
    assert room.valid_from == NOW
    assert room.valid_until == NOW + 3 * DAY


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


# --- Window rules ----------------------------------------------------------------------

WINDOW_REJECTIONS = [
    # (case, valid_from, valid_until, rule, field, limit)
    (
        "181-day window",
        NOW,
        NOW + timedelta(days=181),
        WindowRule.WINDOW_TOO_LONG,
        "room.valid_until",
        DAYS_180_IN_SECONDS,
    ),
    (
        "180 days and one microsecond",
        NOW + DAY,
        NOW + DAY + timedelta(days=180) + MICROSECOND,
        WindowRule.WINDOW_TOO_LONG,
        "room.valid_until",
        DAYS_180_IN_SECONDS,
    ),
    (
        "ends in the past",
        NOW - 2 * HOUR,
        NOW - HOUR,
        WindowRule.ENDS_IN_PAST,
        "room.valid_until",
        None,
    ),
    (
        "ends exactly now",
        NOW - HOUR,
        NOW,
        WindowRule.ENDS_IN_PAST,
        "room.valid_until",
        None,
    ),
    (
        "starts 180 days and one second ahead",
        NOW + timedelta(days=180) + SECOND,
        NOW + timedelta(days=180) + SECOND + HOUR,
        WindowRule.STARTS_TOO_LATE,
        "room.valid_from",
        DAYS_180_IN_SECONDS,
    ),
    (
        "ends before it starts",
        NOW + 2 * HOUR,
        NOW + HOUR,
        WindowRule.ENDS_BEFORE_START,
        "room.valid_until",
        None,
    ),
    (
        "ends when it starts",
        NOW + HOUR,
        NOW + HOUR,
        WindowRule.ENDS_BEFORE_START,
        "room.valid_until",
        None,
    ),
]


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "rule", "field", "limit"),
    [case[1:] for case in WINDOW_REJECTIONS],
    ids=[case[0] for case in WINDOW_REJECTIONS],
)
def test_window_rule_rejects(
    valid_from: datetime, valid_until: datetime, rule: str, field: str, limit: str | None
) -> None:
    error = window_error(valid_from, valid_until)
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.kind is ErrorKind.INVALID
    assert error.metadata["rule"] == rule
    assert error.metadata["field"] == field
    assert error.metadata.get("limit") == limit
    assert error.field_violations == [
        FieldViolation(field, error.field_violations[0].description, ErrorReason.INVALID_WINDOW)
    ]
    assert field in error.message


WINDOW_ACCEPTANCES = [
    ("exactly 180 days", NOW, NOW + timedelta(days=180)),
    ("exactly 180 days, starting later", NOW + DAY, NOW + DAY + timedelta(days=180)),
    (
        "starts exactly 180 days ahead",
        NOW + timedelta(days=180),
        NOW + timedelta(days=180) + HOUR,
    ),
    ("ends one microsecond from now", NOW - HOUR, NOW + MICROSECOND),
    ("one-microsecond window", NOW + HOUR, NOW + HOUR + MICROSECOND),
    ("starts five seconds ago", NOW - 5 * SECOND, NOW + DAY),
    ("starts one second ago", NOW - SECOND, NOW + timedelta(days=179)),
]


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [case[1:] for case in WINDOW_ACCEPTANCES],
    ids=[case[0] for case in WINDOW_ACCEPTANCES],
)
def test_window_rule_accepts(valid_from: datetime, valid_until: datetime) -> None:
    room = rules.resolve_new_room("", RoomSettings(valid_from, valid_until), NOW, LIMITS)
    assert (room.valid_from, room.valid_until) == (valid_from, valid_until)


def test_valid_from_slightly_in_the_past_is_accepted_with_the_default_valid_until() -> None:
    """The facts: "a valid_from slightly in the past is accepted (clients send 'now')",
    and valid_until defaults to now + 180 days. A client that sends its own "now" as
    valid_from and leaves valid_until unset must therefore get a room."""
    valid_from = NOW - 5 * SECOND
    room = rules.resolve_new_room("", RoomSettings(valid_from=valid_from), NOW, LIMITS)
    assert room.valid_from == valid_from
    assert room.valid_until == NOW + timedelta(days=180)


def test_window_ending_in_the_past_before_its_default_start_breaks_two_rules() -> None:
    # valid_from defaults to now, so a valid_until in the past also ends before the start.
    error = window_error(NOW, NOW - HOUR)
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.metadata["rule"] == WindowRule.ENDS_IN_PAST
    assert fields_of(error) == ["room.valid_until", "room.valid_until"]


def test_every_broken_window_rule_is_reported() -> None:
    error = window_error(NOW + timedelta(days=200), NOW - HOUR)
    assert error.reason is ErrorReason.INVALID_WINDOW
    # The first violation gives the metadata.
    assert error.metadata == {
        "field": "room.valid_from",
        "rule": WindowRule.STARTS_TOO_LATE,
        "limit": DAYS_180_IN_SECONDS,
    }
    assert fields_of(error) == ["room.valid_from", "room.valid_until", "room.valid_until"]
    assert all(v.reason is ErrorReason.INVALID_WINDOW for v in error.field_violations)


def test_check_window_uses_the_given_prefix() -> None:
    error = error_of(lambda v: rules.check_window(v, "x.", NOW + 2 * HOUR, NOW + HOUR, NOW, LIMITS))
    assert fields_of(error) == ["x.valid_until"]


def test_window_descriptions_state_the_limit() -> None:
    too_long = window_error(NOW, NOW + timedelta(days=181))
    assert "180 days" in too_long.field_violations[0].description
    too_late = window_error(NOW + timedelta(days=181), NOW + timedelta(days=182))
    assert "180 days" in too_late.field_violations[0].description


# --- Room ids --------------------------------------------------------------------------

VALID_ROOM_IDS = [
    "a",
    "Z",
    "0",
    "room-1",
    "a.b_c~d-e",
    "9to5",
    "UPPER.lower_123",
    "x" * 128,
]
INVALID_ROOM_IDS = [
    "",
    "x" * 129,
    "-leading-dash",
    ".leading-dot",
    "_leading-underscore",
    "~leading-tilde",
    "has space",
    "slash/inside",
    "colon:inside",
    "plus+inside",
    "percent%20",
    "ümlaut",
    "tab\t",
    "trailing-newline\n",
    "nul\x00",
]


@pytest.mark.parametrize("room_id", VALID_ROOM_IDS)
def test_valid_room_ids(room_id: str) -> None:
    rules.require_room_id(room_id)


@pytest.mark.parametrize("room_id", INVALID_ROOM_IDS)
def test_invalid_room_ids(room_id: str) -> None:
    with pytest.raises(DomainError) as info:
        rules.require_room_id(room_id, field="name")
    assert info.value.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(info.value) == ["name"]
    assert info.value.metadata == {"field": "name"}


def test_room_id_length_boundary_messages() -> None:
    assert passes(lambda v: rules.check_room_id(v, "room_id", "r" * 128))
    error = error_of(lambda v: rules.check_room_id(v, "room_id", "r" * 129))
    assert "128" in error.field_violations[0].description
    empty = error_of(lambda v: rules.check_room_id(v, "room_id", ""))
    assert "empty" in empty.field_violations[0].description


def test_generated_room_ids_are_valid_and_distinct() -> None:
    ids = [rules.new_room_id() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for room_id in ids:
        assert re.fullmatch(r"[a-z2-7]{26}", room_id)
        rules.require_room_id(room_id)


# --- User ids --------------------------------------------------------------------------

VALID_USER_IDS = [
    "a",
    "u" * 256,
    "8:acs:resource_00000000-0000-0000-0000-000000000000",
    "user@example.com",
    "José",
    "Ünïcödé",
    "用户",
    "Ελένη",
    "a!#$%^&*()[]{}<>?",
]
INVALID_USER_IDS = [
    ("empty", ""),
    ("257 characters", "u" * 257),
    ("leading space", " alice"),
    ("inner space", "al ice"),
    ("trailing space", "alice "),
    ("tab", "al\tice"),
    ("newline", "alice\n"),
    ("NUL", "\x00"),
    ("inner NUL", "al\x00ice"),
    ("bell", "\x07"),
    ("escape", "\x1b[31m"),
    ("DEL", "al\x7fice"),
    ("C1 control", "al\x85ice"),
    ("non-breaking space", "al\u00a0ice"),
    ("em space", "al\u2003ice"),
    ("line separator", "al\u2028ice"),
    ("zero-width space", "al\u200bice"),
]


@pytest.mark.parametrize("user_id", VALID_USER_IDS)
def test_valid_user_ids(user_id: str) -> None:
    assert passes(lambda v: rules.check_user_id(v, "participant.user_id", user_id))


@pytest.mark.parametrize(
    "user_id", [case[1] for case in INVALID_USER_IDS], ids=[case[0] for case in INVALID_USER_IDS]
)
def test_invalid_user_ids(user_id: str) -> None:
    error = error_of(lambda v: rules.check_user_id(v, "participant.user_id", user_id))
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == ["participant.user_id"]
    assert error.metadata == {"field": "participant.user_id"}


def test_user_id_length_boundary() -> None:
    assert passes(lambda v: rules.check_user_id(v, "user_id", "u" * 256))
    error = error_of(lambda v: rules.check_user_id(v, "user_id", "u" * 257))
    assert "256" in error.field_violations[0].description


def test_user_ids_are_case_sensitive_and_distinct() -> None:
    assert passes(
        lambda v: rules.check_roster_batch(v, "user_ids", ["alice", "Alice", "ALICE"], LIMITS)
    )


# --- Idempotency keys (request_id) and etags ------------------------------------------


@pytest.mark.parametrize(
    "request_id", ["", "r", "r" * 128, "7d8f6a0e-6b1c-4c1e-9d7a-3f2b1c0d9e8f", "clé-ünicode"]
)
def test_valid_request_ids(request_id: str) -> None:
    assert passes(lambda v: rules.check_idempotency_key(v, "request_id", request_id))


@pytest.mark.parametrize("request_id", ["r" * 129, "a b", " ", "a\tb", "\x00", "a\nb", "a\u00a0b"])
def test_invalid_request_ids(request_id: str) -> None:
    error = error_of(lambda v: rules.check_idempotency_key(v, "request_id", request_id))
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == ["request_id"]


def test_etag_length() -> None:
    assert passes(lambda v: rules.check_etag(v, "etag", ""))
    assert passes(lambda v: rules.check_etag(v, "etag", "e" * 64))
    error = error_of(lambda v: rules.check_etag(v, "etag", "e" * 65))
    assert fields_of(error) == ["etag"]


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


# --- Roster batches --------------------------------------------------------------------


def test_roster_batch_at_the_limit_is_accepted() -> None:
    user_ids = [f"user-{i}" for i in range(1_000)]
    assert passes(lambda v: rules.check_roster_batch(v, "user_ids", user_ids, LIMITS))
    assert passes(lambda v: rules.check_roster_batch(v, "user_ids", [], LIMITS))


def test_roster_batch_too_large() -> None:
    # Oversized batches are rejected as a whole, without checking each identity.
    user_ids = ["", *(f"user-{i}" for i in range(1_000))]
    error = error_of(lambda v: rules.check_roster_batch(v, "user_ids", user_ids, LIMITS))
    assert error.reason is ErrorReason.BATCH_TOO_LARGE
    assert error.kind is ErrorKind.INVALID
    assert error.metadata == {"field": "user_ids", "limit": "1000", "size": "1001"}
    assert error.field_violations == [
        FieldViolation("user_ids", "must hold at most 1000 identities", ErrorReason.BATCH_TOO_LARGE)
    ]


def test_roster_batch_with_a_duplicate() -> None:
    error = error_of(
        lambda v: rules.check_roster_batch(v, "user_ids", ["alice", "bob", "alice"], LIMITS)
    )
    assert error.reason is ErrorReason.DUPLICATE_USER_ID
    assert error.metadata == {"field": "user_ids[2]", "user_id": "alice"}
    assert fields_of(error) == ["user_ids[2]"]
    assert error.field_violations[0].reason is ErrorReason.DUPLICATE_USER_ID


def test_roster_batch_names_each_bad_identity_by_index() -> None:
    error = error_of(
        lambda v: rules.check_roster_batch(v, "user_ids", ["ok", "", "bad id", "ok"], LIMITS)
    )
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(error) == ["user_ids[1]", "user_ids[2]", "user_ids[3]"]
    assert [v.reason for v in error.field_violations] == [
        ErrorReason.INVALID_ARGUMENT,
        ErrorReason.INVALID_ARGUMENT,
        ErrorReason.DUPLICATE_USER_ID,
    ]


def test_check_roster_checks_the_entries_user_ids() -> None:
    entries = [RosterEntry("alice", Role.PRESENTER), RosterEntry("bob"), RosterEntry("alice")]
    error = error_of(lambda v: rules.check_roster(v, "participants", entries, LIMITS))
    assert error.reason is ErrorReason.DUPLICATE_USER_ID
    assert fields_of(error) == ["participants[2].user_id"]
    assert passes(
        lambda v: rules.check_roster(
            v, "participants", [RosterEntry("a"), RosterEntry("A")], LIMITS
        )
    )


# --- Page sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "expected"), [(0, 50), (1, 1), (49, 49), (500, 500), (501, 500), (10_000, 500)]
)
def test_page_size(requested: int, expected: int) -> None:
    assert rules.page_size(requested, LIMITS) == expected


@pytest.mark.parametrize("requested", [-1, -500])
def test_negative_page_size_is_rejected(requested: int) -> None:
    with pytest.raises(DomainError) as info:
        rules.page_size(requested, LIMITS, field="request.page_size")
    assert info.value.reason is ErrorReason.INVALID_ARGUMENT
    assert fields_of(info.value) == ["request.page_size"]
    assert info.value.metadata == {"field": "request.page_size"}


# --- Fingerprints ----------------------------------------------------------------------


def test_fingerprint_is_stable_and_ignores_key_order() -> None:
    first = rules.fingerprint({"b": [1, 2], "a": "x"})
    assert first == rules.fingerprint({"a": "x", "b": [1, 2]})
    assert first == rules.fingerprint({"a": "x", "b": [1, 2]})
    # Stored for idempotency, so it must not change between releases or processes.
    assert first == "721ef82f2d6c0997bffb7a8ab3f40f8fb45b0b52ce2af3afa6b0f05efbdc317f"
    assert re.fullmatch(r"[0-9a-f]{64}", first)


def test_fingerprint_of_nested_values_and_datetimes() -> None:
    value = {"room": {"valid_until": NOW, "metadata": {"z": "1", "a": "2"}}, "roster": ["a"]}
    same = {"roster": ["a"], "room": {"metadata": {"a": "2", "z": "1"}, "valid_until": NOW}}
    assert rules.fingerprint(value) == rules.fingerprint(same)


@pytest.mark.parametrize(
    "other",
    [
        {"a": "x", "b": [2, 1]},
        {"a": "y", "b": [1, 2]},
        {"a": "x", "b": [1, 2], "c": None},
        {"a": "x"},
        {"A": "x", "b": [1, 2]},
    ],
)
def test_fingerprint_differs_for_different_requests(other: dict[str, object]) -> None:
    assert rules.fingerprint(other) != rules.fingerprint({"a": "x", "b": [1, 2]})


def test_fingerprint_distinguishes_instants() -> None:
    assert rules.fingerprint({"t": NOW}) != rules.fingerprint({"t": NOW + MICROSECOND})


# --- Violations and error shapes -------------------------------------------------------


def test_empty_violations_raise_nothing() -> None:
    violations = Violations()
    assert not violations
    violations.raise_if_any()


def test_violations_collect_several_fields_into_one_error() -> None:
    violations = Violations()
    violations.add(
        "room.valid_until", "must be in the future", ErrorReason.INVALID_WINDOW, rule="X"
    )
    violations.add("room.metadata", "too many", extra="ignored")
    violations.add("participants[3]", "twice", ErrorReason.DUPLICATE_USER_ID)
    assert violations
    with pytest.raises(DomainError) as info:
        violations.raise_if_any()
    error = info.value
    # The first violation gives the reason and the metadata.
    assert error.reason is ErrorReason.INVALID_WINDOW
    assert error.metadata == {"field": "room.valid_until", "rule": "X"}
    assert error.field_violations == [
        FieldViolation("room.valid_until", "must be in the future", ErrorReason.INVALID_WINDOW),
        FieldViolation("room.metadata", "too many", ErrorReason.INVALID_ARGUMENT),
        FieldViolation("participants[3]", "twice", ErrorReason.DUPLICATE_USER_ID),
    ]
    assert error.message == (
        "room.valid_until: must be in the future; room.metadata: too many; participants[3]: twice"
    )
    assert str(error) == error.message


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


def test_every_reason_has_a_kind() -> None:
    assert set(KIND_OF_REASON) == set(ErrorReason)
    assert KIND_OF_REASON[ErrorReason.ROOM_NOT_FOUND] is ErrorKind.NOT_FOUND
    assert KIND_OF_REASON[ErrorReason.ETAG_MISMATCH] is ErrorKind.CONFLICT
    assert KIND_OF_REASON[ErrorReason.ROSTER_FULL] is ErrorKind.EXHAUSTED


def test_error_helpers() -> None:
    error = invalid("room.join_policy", "unknown value 7", value="7")
    assert error.reason is ErrorReason.INVALID_ARGUMENT
    assert error.metadata == {"field": "room.join_policy", "value": "7"}
    assert fields_of(error) == ["room.join_policy"]

    assert room_not_found("r1").metadata == {"room_id": "r1"}
    assert room_not_found("r1").kind is ErrorKind.NOT_FOUND

    mismatch = etag_mismatch("r1", '"7"')
    assert mismatch.reason is ErrorReason.ETAG_MISMATCH
    assert mismatch.metadata == {"room_id": "r1", "etag": '"7"'}
    assert [(p.type, p.subject) for p in mismatch.precondition_violations] == [("ETAG", "rooms/r1")]

    full = roster_full("r1", 10, 11)
    assert full.kind is ErrorKind.EXHAUSTED
    assert full.metadata == {"room_id": "r1", "limit": "10", "size": "11"}

    missing = participant_not_found("r1", "alice")
    assert missing.metadata == {"room_id": "r1", "user_id": "alice"}

    token = bad_page_token()
    assert token.reason is ErrorReason.INVALID_PAGE_TOKEN
    assert token.metadata == {"field": "page_token"}
    assert token.field_violations[0].reason is ErrorReason.INVALID_PAGE_TOKEN


# --- Custom limits ---------------------------------------------------------------------

CUSTOM = Limits(
    default_window=timedelta(days=7),
    max_window=timedelta(days=30),
    max_start_ahead=timedelta(days=10),
    max_early_entry=timedelta(hours=1),
    max_batch_size=2,
    max_metadata_entries=2,
    max_metadata_key_length=4,
    max_metadata_value_length=3,
    default_page_size=5,
    max_page_size=10,
)


def test_custom_default_window() -> None:
    room = rules.resolve_new_room("", RoomSettings(), NOW, CUSTOM)
    assert (room.valid_from, room.valid_until) == (NOW, NOW + timedelta(days=7))


def test_custom_max_window() -> None:
    rules.resolve_new_room("", RoomSettings(NOW, NOW + timedelta(days=30)), NOW, CUSTOM)
    error = window_error(NOW, NOW + timedelta(days=30) + SECOND, CUSTOM)
    assert error.metadata["rule"] == WindowRule.WINDOW_TOO_LONG
    assert error.metadata["limit"] == str(30 * 86_400)
    assert "30 days" in error.field_violations[0].description


def test_custom_max_start_ahead() -> None:
    start = NOW + timedelta(days=10)
    rules.resolve_new_room("", RoomSettings(start, start + HOUR), NOW, CUSTOM)
    error = window_error(start + SECOND, start + HOUR, CUSTOM)
    assert error.metadata["rule"] == WindowRule.STARTS_TOO_LATE
    assert error.metadata["limit"] == str(10 * 86_400)
    assert fields_of(error) == ["room.valid_from"]


def test_custom_max_early_entry() -> None:
    rules.resolve_new_room("", RoomSettings(early_entry=HOUR), NOW, CUSTOM)
    with pytest.raises(DomainError) as info:
        rules.resolve_new_room("", RoomSettings(early_entry=HOUR + SECOND), NOW, CUSTOM)
    assert "3600 seconds" in info.value.field_violations[0].description


def test_custom_batch_size() -> None:
    assert passes(lambda v: rules.check_roster_batch(v, "ids", ["a", "b"], CUSTOM))
    error = error_of(lambda v: rules.check_roster_batch(v, "ids", ["a", "b", "c"], CUSTOM))
    assert error.reason is ErrorReason.BATCH_TOO_LARGE
    assert error.metadata == {"field": "ids", "limit": "2", "size": "3"}


def test_custom_metadata_limits() -> None:
    assert passes(check_metadata({"abcd": "xyz", "k": ""}, CUSTOM))
    assert fields_of(error_of(check_metadata({"a": "", "b": "", "c": ""}, CUSTOM))) == [
        "room.metadata"
    ]
    assert fields_of(error_of(check_metadata({"abcde": "x"}, CUSTOM))) == ["room.metadata['abcde']"]
    assert fields_of(error_of(check_metadata({"k": "wxyz"}, CUSTOM))) == ["room.metadata['k']"]


def test_custom_page_sizes() -> None:
    assert rules.page_size(0, CUSTOM) == 5
    assert rules.page_size(7, CUSTOM) == 7
    assert rules.page_size(11, CUSTOM) == 10
