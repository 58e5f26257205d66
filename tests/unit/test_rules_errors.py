"""Pure unit tests of the error shapes the rules produce: Violations collected into one
DomainError, the kind of every reason, and the error helpers of service.domain.errors."""

from __future__ import annotations

import pytest

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
from tests.unit.rule_checks import fields_of

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
