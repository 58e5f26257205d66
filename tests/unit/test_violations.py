"""One error names at most MAX_FIELD_VIOLATIONS bad fields and counts the rest, however
many there were; an oversized role_capacity or batch is refused whole."""

from __future__ import annotations

import pytest

from service.domain.errors import (
    MAX_FIELD_VIOLATIONS,
    DomainError,
    ErrorReason,
    FieldViolation,
    Violations,
)
from service.domain.limits import Limits
from service.domain.models import Role, RoleCapacity
from service.domain.rules import check_roster_batch
from service.domain.seats import MAX_ROLE_CAPACITY_ENTRIES, check_capacity_settings


def test_twenty_thousand_bad_fields_keep_twenty_and_count_the_rest() -> None:
    violations = Violations()
    for index in range(20_000):
        violations.add(f"room.role_capacity[{index}].role", "bad", rule="X")
    with pytest.raises(DomainError) as raised:
        violations.raise_if_any()
    error = raised.value
    assert MAX_FIELD_VIOLATIONS == 20
    assert [v.field for v in error.field_violations] == [
        f"room.role_capacity[{index}].role" for index in range(MAX_FIELD_VIOLATIONS)
    ]
    assert error.violation_count == 20_000
    assert error.message.endswith("; and 19997 more")
    assert error.metadata == {"field": "room.role_capacity[0].role", "rule": "X"}


def test_an_error_built_with_many_violations_is_capped_too() -> None:
    many = [FieldViolation(f"f{n}", "bad") for n in range(50)]
    error = DomainError(ErrorReason.INVALID_ARGUMENT, "bad", field_violations=many)
    assert len(error.field_violations) == MAX_FIELD_VIOLATIONS
    assert error.violation_count == 50
    few = DomainError(ErrorReason.INVALID_ARGUMENT, "bad", field_violations=many[:2])
    assert (len(few.field_violations), few.violation_count) == (2, 2)


def test_a_role_capacity_longer_than_the_roles_is_refused_whole() -> None:
    violations = Violations()
    entries = [RoleCapacity(Role.PRESENTER, 1, 0)] * 20_000
    check_capacity_settings(violations, "room.", 0, entries, Limits())
    with pytest.raises(DomainError) as raised:
        violations.raise_if_any()
    error = raised.value
    assert error.reason is ErrorReason.INVALID_CAPACITY
    assert [v.field for v in error.field_violations] == ["room.role_capacity"]
    assert error.metadata == {
        "field": "room.role_capacity",
        "rule": "DUPLICATE_ROLE",
        "limit": str(MAX_ROLE_CAPACITY_ENTRIES),
    }
    one_each = [RoleCapacity(role, 1, 0) for role in Role]
    assert len(one_each) == MAX_ROLE_CAPACITY_ENTRIES
    fine = Violations()
    check_capacity_settings(fine, "room.", 0, one_each, Limits())
    assert not fine


def test_an_oversized_batch_is_refused_before_its_identities_are_checked() -> None:
    violations = Violations()
    check_roster_batch(violations, "user_ids", ["not valid"] * 5_000, Limits(max_batch_size=10))
    with pytest.raises(DomainError) as raised:
        violations.raise_if_any()
    assert raised.value.reason is ErrorReason.BATCH_TOO_LARGE
    assert raised.value.violation_count == 1
