"""Pure unit tests of the identities service.domain.rules accepts: room ids (given and
generated), user ids, idempotency keys and etags."""

from __future__ import annotations

import re

import pytest

from service.domain import rules
from service.domain.errors import DomainError, ErrorReason
from service.domain.models import new_id
from tests.unit.rule_checks import LIMITS, error_of, fields_of, passes

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
    ids = [new_id() for _ in range(200)]
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
