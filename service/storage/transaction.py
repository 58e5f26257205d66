"""The one way to write: a transaction on ONE tenant's rows, then a notification.

Every write path of the service goes through `tenant_transaction`:

    async with tenant_transaction(pool, tenant) as tx:
        await tx.conn.execute("UPDATE ... WHERE tenant = $1 AND room_id = $2", tx.tenant, ...)
        await append_events(tx, room_id, [...], actor, now)   # marks the room as touched
    # committed here; the watchers of the touched rooms have been told

Rules (docs/scaling.md explains why each matters on a distributed PostgreSQL):
- every statement inside filters every table it reads or writes by `tx.tenant`
  (`WHERE tenant = $1`, and joins on tenant too), so the transaction lives on one shard
  group and commits without a two-phase commit;
- no NOTIFY, LISTEN or trigger inside: the rooms touched (`append_events` calls
  `tx.touch`; anything else that should wake watchers calls it directly) are announced
  with `pg_notify` AFTER the commit, on the same connection, outside any transaction;
- locks are row locks on that tenant's rows (`SELECT ... FOR UPDATE` with the tenant in
  the WHERE) or transaction-scoped advisory locks, never session-level ones.

A notification is only a hint: watchers re-read the table, and a lost one (the process
dies between commit and notify, or the notify fails) costs at most one poll interval.
So a failed notify is logged and never turns a committed write into an error.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from service.storage.db import Connection
from service.storage.notify import notify_rooms

log = logging.getLogger(__name__)


class TenantTransaction:
    """An open transaction on one tenant's rows: its connection, its tenant, and the
    rooms whose watchers are told once it commits."""

    __slots__ = ("_touched", "conn", "tenant")

    def __init__(self, conn: Connection, tenant: str) -> None:
        self.conn = conn
        self.tenant = tenant
        self._touched: set[str] = set()

    def touch(self, room_id: str) -> None:
        """Wake this room's watchers after the commit (and only if it commits)."""
        self._touched.add(room_id)

    @property
    def touched(self) -> frozenset[str]:
        return frozenset(self._touched)


@contextlib.asynccontextmanager
async def tenant_transaction(pool: asyncpg.Pool, tenant: str) -> AsyncIterator[TenantTransaction]:
    """Run the body in one transaction on `tenant`'s rows; after it commits, notify the
    rooms it touched, outside any transaction. An exception rolls back and notifies
    nothing."""
    async with pool.acquire() as conn:
        tx = TenantTransaction(conn, tenant)
        async with conn.transaction():
            yield tx
        if tx.touched:
            try:
                await notify_rooms(conn, tenant, tx.touched)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                # Committed already: the watchers will find the events on their next poll.
                log.warning("notification after commit failed: %r", error)
