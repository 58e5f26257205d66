"""Webhooks in PostgreSQL, scoped by tenant. Each webhook has the delivery destination
`webhook/<webhook_id>`, written in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import asyncpg

from service.domain.errors import DomainError, etag_mismatch_of
from service.domain.events import EventType
from service.domain.webhooks import (
    DeliveryState,
    Webhook,
    WebhookSettings,
    too_many_webhooks,
    webhook_already_exists,
    webhook_not_found,
)
from service.storage import delivery as delivery_sql
from service.storage.base import constraint_of, translate_errors, versioned_row
from service.storage.db import Connection
from service.storage.queries import QUERIES

SINK = "webhook"


def destination_of(webhook_id: str) -> str:
    return f"{SINK}/{webhook_id}"


def _mismatch(webhook_id: str) -> Callable[[str], DomainError]:
    """ETAG_MISMATCH naming the webhook, given its current etag."""
    return lambda etag: etag_mismatch_of("webhook_id", webhook_id, etag, "webhooks")


def webhook_id_of(destination: str) -> str:
    return destination.removeprefix(f"{SINK}/")


@dataclass(frozen=True, slots=True)
class Target:
    """What the webhook sink needs to send to a webhook."""

    url: str
    secret: str
    event_types: frozenset[EventType]  # empty: every type
    room_ids: frozenset[str]  # empty: every room


async def _webhook(conn: Connection, tenant: str, row: asyncpg.Record, now: datetime) -> Webhook:
    state = await delivery_sql.destination_state(conn, tenant, destination_of(row["webhook_id"]))
    delivery = DeliveryState()
    if state is not None:
        delivery = DeliveryState(
            failing_since=state.failing_since,
            last_success_time=state.last_success_time,
            last_error=state.last_error,
            last_error_time=state.last_error_time,
            pending_events=state.pending_events,
            oldest_pending_age=(
                max(now - state.oldest_pending_time, timedelta(0))
                if state.oldest_pending_time is not None
                else None
            ),
        )
    return Webhook(
        webhook_id=row["webhook_id"],
        url=row["url"],
        event_types=tuple(EventType(t) for t in row["event_types"]),
        room_ids=tuple(row["room_ids"]),
        create_time=row["create_time"],
        update_time=row["update_time"],
        version=row["version"],
        delivery=delivery,
    )


class PgWebhookStore:
    def __init__(self, pool: asyncpg.Pool, statement_ceiling: float = 10.0) -> None:
        self._pool = pool
        self.statement_ceiling = statement_ceiling

    @translate_errors
    async def create(
        self,
        *,
        tenant: str,
        webhook_id: str,
        settings: WebhookSettings,
        secret: str,
        now: datetime,
        max_webhooks: int,
    ) -> Webhook:
        """Store a webhook; WEBHOOK_ALREADY_EXISTS, TOO_MANY_WEBHOOKS."""
        async with self._pool.acquire() as conn, conn.transaction():
            # One creator per tenant at a time, so the limit holds under concurrency.
            await conn.execute(
                QUERIES["webhook_create"],
                tenant,
            )
            count = await conn.fetchval(QUERIES["webhook_count"], tenant)
            if count >= max_webhooks:
                raise too_many_webhooks(max_webhooks)
            try:
                row = await conn.fetchrow(
                    QUERIES["webhook_insert"],
                    tenant,
                    webhook_id,
                    settings.url,
                    [t.value for t in settings.event_types],
                    list(settings.room_ids),
                    secret,
                    now,
                )
            except asyncpg.UniqueViolationError as error:
                if constraint_of(error) == "webhooks_pkey":
                    raise webhook_already_exists(webhook_id) from error
                raise
            assert row is not None
            await delivery_sql.add_destination(
                conn, tenant, destination_of(webhook_id), SINK, settings.room_ids, now
            )
            webhook = await _webhook(conn, tenant, row, now)
        return replace(webhook, secret=secret)

    @translate_errors
    async def get(self, *, tenant: str, webhook_id: str, now: datetime) -> Webhook | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                QUERIES["webhook_get"],
                tenant,
                webhook_id,
            )
            return None if row is None else await _webhook(conn, tenant, row, now)

    @translate_errors
    async def list(
        self, *, tenant: str, after_id: str | None, limit: int, now: datetime
    ) -> list[Webhook]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                QUERIES["webhook_list"],
                tenant,
                after_id,
                limit,
            )
            return [await _webhook(conn, tenant, row, now) for row in rows]

    @translate_errors
    async def update(
        self,
        *,
        tenant: str,
        webhook_id: str,
        expected_version: int | None,
        changes: Mapping[str, Any],
        now: datetime,
    ) -> Webhook:
        """Apply `changes` (url, event_types, room_ids) and resume delivery;
        WEBHOOK_NOT_FOUND, ETAG_MISMATCH."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await versioned_row(
                conn,
                QUERIES["webhook_update"],
                tenant,
                webhook_id,
                expected_version=expected_version,
                missing=partial(webhook_not_found, webhook_id),
                mismatch=_mismatch(webhook_id),
            )
            values = {
                "url": changes.get("url", current["url"]),
                "event_types": [t.value for t in changes["event_types"]]
                if "event_types" in changes
                else current["event_types"],
                "room_ids": list(changes.get("room_ids", current["room_ids"])),
            }
            row = await conn.fetchrow(
                QUERIES["webhook_write"],
                tenant,
                webhook_id,
                values["url"],
                values["event_types"],
                values["room_ids"],
                now,
            )
            assert row is not None
            destination = destination_of(webhook_id)
            await delivery_sql.add_destination(
                conn, tenant, destination, SINK, values["room_ids"], now
            )
            await delivery_sql.resume(conn, tenant, destination)
            return await _webhook(conn, tenant, row, now)

    @translate_errors
    async def delete(self, *, tenant: str, webhook_id: str, expected_version: int | None) -> None:
        """WEBHOOK_NOT_FOUND, ETAG_MISMATCH."""
        async with self._pool.acquire() as conn, conn.transaction():
            await versioned_row(
                conn,
                QUERIES["webhook_delete"],
                tenant,
                webhook_id,
                expected_version=expected_version,
                missing=partial(webhook_not_found, webhook_id),
                mismatch=_mismatch(webhook_id),
            )
            await conn.execute(QUERIES["webhook_remove"], tenant, webhook_id)
            await delivery_sql.remove_destination(conn, tenant, destination_of(webhook_id))

    async def target(self, tenant: str, destination: str) -> Target | None:
        """For the webhook sink: where and how to send (None: the webhook is gone)."""
        row = await self._pool.fetchrow(
            QUERIES["webhook_target"],
            tenant,
            webhook_id_of(destination),
        )
        if row is None:
            return None
        return Target(
            url=row["url"],
            secret=row["secret"],
            event_types=frozenset(EventType(t) for t in row["event_types"]),
            room_ids=frozenset(row["room_ids"]),
        )
