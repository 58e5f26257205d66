"""The contract of `RoomStore`: every test here runs against both implementations,
`PgRoomStore` on this run's database and `MemoryRoomStore`, with the same assertions.
A behaviour the use cases rely on belongs here, so the memory store stays faithful.

Each test works in a tenant of its own, so the PostgreSQL side shares the session's
database with the other integration tests and needs no truncation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, NewRoom, Role, Room, RosterEntry
from service.domain.ports import RoomStore
from service.storage import history
from service.storage.memory import MemoryRoomStore
from service.storage.repository import PgRoomStore
from service.storage.transaction import tenant_transaction
from tests.conftest import T0
from tests.shared.calls import unique

LIMITS = Limits()
ACTOR = "contract"
# How many due rooms (of every tenant of the test database) the PostgreSQL subject
# reads to find those it is asked to announce.
DUE_READ = 100_000


@dataclass
class Subject:
    """A store under test, in a tenant of its own, with the two lifecycle steps tests
    drive by hand (on PostgreSQL, the lifecycle task's statements)."""

    store: RoomStore
    tenant: str
    announce: Callable[[str, Sequence[str], datetime], Awaitable[int]]
    purge_events: Callable[[str, str, int, datetime], Awaitable[int]]

    async def create(
        self,
        room_id: str = "room",
        roster: Sequence[RosterEntry] = (),
        *,
        now: datetime = T0,
        idempotency_key: str = "",
        request_hash: str = "hash",
        **settings: Any,
    ) -> Room:
        return await self.store.create_room(
            tenant=self.tenant,
            room=new_room(room_id, **settings),
            roster=roster,
            now=now,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            actor=ACTOR,
        )


def new_room(room_id: str, **settings: Any) -> NewRoom:
    values: dict[str, Any] = {
        "valid_from": T0 - timedelta(hours=1),
        "valid_until": T0 + timedelta(hours=1),
        "join_policy": JoinPolicy.OPEN,
        "metadata": {"k": "v"},
        "open_join_role": Role.ATTENDEE,
    }
    values.update(settings)
    return NewRoom(room_id=room_id, **values)


async def refused(call: Awaitable[Any], reason: ErrorReason, **metadata: str) -> DomainError:
    """The DomainError `call` raises, checked for its reason and metadata."""
    with pytest.raises(DomainError) as raised:
        await call
    assert raised.value.reason is reason, raised.value
    assert raised.value.metadata == metadata
    return raised.value


def _memory() -> Subject:
    memory = MemoryRoomStore()
    return Subject(
        memory,
        unique("contract"),
        lambda tenant, room_ids, now: memory.announce_transitions(
            tenant=tenant, room_ids=room_ids, now=now
        ),
        lambda tenant, room_id, up_to, before: memory.purge_events(
            tenant=tenant, room_id=room_id, up_to=up_to, before=before
        ),
    )


def _postgres(request: pytest.FixtureRequest) -> Subject:
    pool = request.getfixturevalue("pool")

    async def announce(tenant: str, room_ids: Sequence[str], now: datetime) -> int:
        # As the lifecycle does: the candidates read without locks, then announced.
        due = await history.due_transitions(pool, now, DUE_READ)
        mine = [d for d in due if d.tenant == tenant and d.room_id in room_ids]
        async with tenant_transaction(pool, tenant) as tx:
            return await history.announce_transitions(tx, mine, now)

    async def purge_events(tenant: str, room_id: str, up_to: int, before: datetime) -> int:
        async with tenant_transaction(pool, tenant) as tx:
            old = [history.OldEvents(tenant, room_id, up_to)]
            return await history.purge_events(tx, old, before)

    return Subject(PgRoomStore(pool), unique("contract"), announce, purge_events)


@pytest.fixture(params=["postgres", "memory"])
def subject(request: pytest.FixtureRequest) -> Subject:
    """Each contract test once per store (the PostgreSQL one only needs the database)."""
    return _postgres(request) if request.param == "postgres" else _memory()
