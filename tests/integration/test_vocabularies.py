"""One parity test per vocabulary: the proto enum, the domain enum, the database's CHECK
constraints (read from pg_constraint) and, for error reasons, the client's exceptions
say the same names. A new value added in one place and forgotten in another fails here,
naming both."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import asyncpg
import pytest
from rooms.errors import RoomsError, error_class
from rooms.v1 import error_reason_pb2

from service.domain.errors import DomainError, ErrorReason
from service.domain.events import EventType
from service.domain.models import JoinPolicy, NewRoom, Role
from service.domain.waiting_room import KnockState
from service.storage.repository import PgRoomStore
from service.transport import vocabulary
from service.transport.vocabulary import Vocabulary

# The CHECK constraints that list a vocabulary's stored names.
STORED_IN: dict[type[Enum], tuple[str, ...]] = {
    Role: (
        "rooms_open_join_role_check",
        "participants_role_check",
        "knocks_role_check",
        "seats_role_check",
    ),
    JoinPolicy: ("rooms_join_policy_check",),
    EventType: ("room_events_type_check",),
    KnockState: ("knocks_state_check",),
}


def _id(vocab: Vocabulary[Any, Any]) -> str:
    return vocab.domain.__name__


@pytest.mark.parametrize("vocab", vocabulary.ALL, ids=_id)
def test_proto_and_domain_name_the_same_values(vocab: Vocabulary[Any, Any]) -> None:
    proto = {name.removeprefix(vocab.prefix) for name, _ in vocab.proto.items()} - {"UNSPECIFIED"}
    domain = {member.name for member in vocab.domain}
    assert proto - domain == set(), f"in {vocab.proto.DESCRIPTOR.name}, not in the domain"
    assert domain - proto == set(), f"in {vocab.domain.__name__}, not in the proto"


async def _check_constraints(pool: asyncpg.Pool) -> dict[str, set[str]]:
    rows = await pool.fetch(
        """SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
           WHERE contype = 'c' AND connamespace = 'public'::regnamespace"""
    )
    return {row["conname"]: set(re.findall(r"'([^']*)'::text", row["definition"])) for row in rows}


@pytest.mark.parametrize("domain", list(STORED_IN), ids=lambda domain: domain.__name__)
async def test_database_checks_list_the_domain_values(
    pool: asyncpg.Pool, domain: type[Enum]
) -> None:
    constraints = await _check_constraints(pool)
    values = {member.value for member in domain}
    for name in STORED_IN[domain]:
        assert name in constraints, f"no CHECK constraint {name}"
        assert constraints[name] == values, name


def test_error_reasons_proto_domain_and_client_exceptions() -> None:
    proto = {name for name, number in error_reason_pb2.ErrorReason.items() if number != 0}
    domain = {reason.value for reason in ErrorReason}
    assert proto - domain == set(), "in error_reason.proto, not in the domain's ErrorReason"
    assert domain - proto == set(), "in the domain's ErrorReason, not in error_reason.proto"
    for name in proto:
        cls = error_class(name)
        assert cls is not RoomsError, f"no client exception class for {name}"
        assert issubclass(cls, RoomsError)
        assert name == cls.REASON
    assert error_class("SOMETHING_NEW") is RoomsError


async def test_a_constraint_violation_is_a_domain_error_not_internal(
    pool: asyncpg.Pool,
) -> None:
    """A value the domain's rules would refuse, stored anyway: the database's CHECK
    refuses it and the store answers with a DomainError naming the constraint."""
    now = datetime.now(UTC)
    room = NewRoom(
        room_id="vocabulary-check",
        valid_from=now,
        valid_until=now + timedelta(hours=1),
        max_participants=-1,
    )
    store = PgRoomStore(pool)
    with pytest.raises(DomainError) as info:
        await store.create_room(
            tenant="tenant-vocabulary",
            room=room,
            roster=[],
            now=now,
            idempotency_key="",
            request_hash="",
            actor="test",
        )
    assert info.value.reason is ErrorReason.INVALID_ARGUMENT
    assert info.value.metadata == {"constraint": "rooms_max_participants_check"}
