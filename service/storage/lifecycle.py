"""The room lifecycle's work on PostgreSQL (the port: service/domain/lifecycle.py).
Safe with many replicas and on a distributed PostgreSQL: candidates are read without
locks, and each batch is one tenant's share in one short transaction holding a
transaction-scoped advisory lock, so one replica works at a time, no statement locks
rows of two tenants, and a replica that dies mid-batch leaves nothing half-done."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TypeVar

import asyncpg

from service.storage import history as history_sql
from service.storage import occurrences as occurrences_sql
from service.storage import seats as seats_sql
from service.storage import windows as windows_sql
from service.storage.transaction import TenantTransaction, tenant_transaction

_T = TypeVar("_T")


def _by_tenant(items: Iterable[_T], tenant_of: Callable[[_T], str]) -> dict[str, list[_T]]:
    grouped: dict[str, list[_T]] = defaultdict(list)
    for item in items:
        grouped[tenant_of(item)].append(item)
    return grouped


class PgLifecycleStore:
    """Each kind of work runs in rounds: read up to `batch_size` candidates across all
    tenants without locking anything, then act on each tenant's share in one short
    `tenant_transaction` (one batch: atomic, one tenant's rows, one shard group on a
    distributed database) holding the lifecycle's transaction-scoped advisory lock. A
    batch whose lock another replica holds ends the work: that replica is working."""

    def __init__(self, pool: asyncpg.Pool, *, batch_size: int = 500) -> None:
        self._pool = pool
        self._batch = batch_size

    async def announce_transitions(self, now: datetime) -> int:
        return await self._rounds(
            lambda: history_sql.due_transitions(self._pool, now, self._batch),
            lambda tx, rooms: history_sql.announce_transitions(tx, rooms, now),
            tenant_of=lambda room: room[0],
        )

    async def announce_window_ends(self, now: datetime) -> int:
        return await self._rounds(
            lambda: windows_sql.due_window_ends(self._pool, now, self._batch),
            lambda tx, due: windows_sql.announce_window_ends(tx, due, now),
            tenant_of=lambda entry: entry.tenant,
        )

    async def announce_occurrences(self, now: datetime) -> int:
        # Recurring rooms: OPENED and ENDED for each occurrence (service/storage/occurrences.py).
        return await self._rounds(
            lambda: occurrences_sql.due_occurrences(self._pool, now, self._batch),
            lambda tx, rooms: occurrences_sql.announce_occurrences(tx, rooms, now),
            tenant_of=lambda room: room.tenant,
        )

    async def expire_seats(self, now: datetime) -> int:
        """The rooms are found without locks, then each is handled in a short
        transaction of its own tenant (no cross-tenant lock, as a sharded database
        requires)."""
        expired = 0
        while True:
            rooms = await seats_sql.rooms_with_expired_seats(self._pool, now, self._batch)
            for tenant, room_id in rooms:
                expired += await seats_sql.expire_room_seats(self._pool, tenant, room_id, now)
            if len(rooms) < self._batch:
                return expired

    async def purge_rooms(self, *, deleted_before: datetime, ended_before: datetime) -> int:
        return await self._rounds(
            lambda: history_sql.purgeable_rooms(
                self._pool,
                deleted_before=deleted_before,
                ended_before=ended_before,
                limit=self._batch,
            ),
            lambda tx, rooms: history_sql.purge_rooms(
                tx,
                [r for _, r in rooms],
                deleted_before=deleted_before,
                ended_before=ended_before,
            ),
            tenant_of=lambda room: room[0],
        )

    async def purge_events(self, before: datetime) -> int:
        return await self._rounds(
            lambda: history_sql.old_events(self._pool, before=before, limit=self._batch),
            lambda tx, old: history_sql.purge_events(tx, old, before),
            tenant_of=lambda old: old.tenant,
        )

    async def _rounds(
        self,
        candidates: Callable[[], Awaitable[list[_T]]],
        act: Callable[[TenantTransaction, list[_T]], Awaitable[int]],
        *,
        tenant_of: Callable[[_T], str],
    ) -> int:
        """Repeat "read candidates, act per tenant" until a round is not full, makes no
        progress, or meets another replica's lock; return the total done."""
        total = 0
        while True:
            found = await candidates()
            done = 0
            for tenant, share in _by_tenant(found, tenant_of).items():
                async with tenant_transaction(self._pool, tenant) as tx:
                    if not await history_sql.lock_lifecycle(tx):
                        return total + done  # another replica is at work
                    done += await act(tx, share)
            total += done
            # A full batch (of candidates, or of rows: a candidate may stand for
            # several old events) may have left more behind.
            if done == 0 or (len(found) < self._batch and done < self._batch):
                return total
