"""The contract of `PgRoomStore`: what the use cases rely on, tested against the
store on this run's database (docs/decisions/storage.md says why there is one store).

Each test works in a tenant of its own, so it shares the session's database with the
other integration tests and needs no truncation."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from service.domain.errors import DomainError, ErrorReason
from service.domain.limits import Limits
from service.domain.models import JoinPolicy, NewRoom, Role, Room, RosterEntry
from service.storage import history
from service.storage.repository import PgRoomStore
from service.storage.transaction import tenant_transaction
from tests.conftest import T0
from tests.shared.calls import unique

LIMITS = Limits()
ACTOR = "contract"
# How many due rooms (of every tenant of the test database) the subject reads to find
# those it is asked to announce.
DUE_READ = 100_000


@dataclass
class Subject:
    """The store under test, in a tenant of its own, with the two lifecycle steps tests
    drive by hand (the lifecycle task's statements)."""

    store: PgRoomStore
    pool: asyncpg.Pool
    tenant: str

    async def announce(self, tenant: str, room_ids: Sequence[str], now: datetime) -> int:
        """As the lifecycle does: the candidates read without locks, then announced."""
        due = await history.due_transitions(self.pool, now, DUE_READ)
        mine = [d for d in due if d.tenant == tenant and d.room_id in room_ids]
        async with tenant_transaction(self.pool, tenant) as tx:
            return await history.announce_transitions(tx, mine, now)

    async def purge_events(self, tenant: str, room_id: str, up_to: int, before: datetime) -> int:
        async with tenant_transaction(self.pool, tenant) as tx:
            old = [history.OldEvents(tenant, room_id, up_to)]
            return await history.purge_events(tx, old, before)

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


@pytest.fixture
def subject(pool: asyncpg.Pool) -> Subject:
    """The store on the run's database, in a tenant of its own."""
    return Subject(PgRoomStore(pool), pool, unique("contract"))
