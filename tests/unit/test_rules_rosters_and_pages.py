"""Pure unit tests of roster batches, page sizes and request fingerprints in
service.domain.rules."""

from __future__ import annotations

import re

import pytest

from service.domain import rules
from service.domain.errors import DomainError, ErrorKind, ErrorReason, FieldViolation
from service.domain.models import Role, RosterEntry
from tests.unit.rule_checks import CUSTOM, LIMITS, MICROSECOND, NOW, error_of, fields_of, passes

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


# --- Custom limits ---------------------------------------------------------------------


def test_custom_batch_size() -> None:
    assert passes(lambda v: rules.check_roster_batch(v, "ids", ["a", "b"], CUSTOM))
    error = error_of(lambda v: rules.check_roster_batch(v, "ids", ["a", "b", "c"], CUSTOM))
    assert error.reason is ErrorReason.BATCH_TOO_LARGE
    assert error.metadata == {"field": "ids", "limit": "2", "size": "3"}


def test_custom_page_sizes() -> None:
    assert rules.page_size(0, CUSTOM) == 5
    assert rules.page_size(7, CUSTOM) == 7
    assert rules.page_size(11, CUSTOM) == 10
