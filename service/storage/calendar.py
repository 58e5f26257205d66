"""Calendar feeds in PostgreSQL: the feeds of each tenant and the rooms they show."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from service.domain.calendar import CalendarFeed, FeedEntry
from service.storage.base import StoreBase, room_of, translate_errors
from service.storage.queries import QUERIES

# The most rooms one feed shows.
MAX_FEED_ROOMS = 1000


def _feed_of(row: asyncpg.Record) -> CalendarFeed:
    return CalendarFeed(
        feed_id=row["feed_id"],
        room_id=row["room_id"] or "",
        user_id=row["user_id"] or "",
        create_time=row["create_time"],
    )


class CalendarStore(StoreBase):
    @translate_errors
    async def create_feed(
        self, *, tenant: str, feed: CalendarFeed, secret_hash: bytes
    ) -> CalendarFeed:
        await self._pool.execute(
            QUERIES["create_calendar_feed"],
            tenant,
            feed.feed_id,
            secret_hash,
            feed.room_id or None,
            feed.user_id or None,
            feed.create_time,
        )
        return feed

    @translate_errors
    async def list_feeds(
        self, *, tenant: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[CalendarFeed]:
        rows = await self._pool.fetch(
            QUERIES["list_calendar_feeds"],
            tenant,
            after[0] if after else None,
            after[1] if after else "",
            limit,
        )
        return [_feed_of(row) for row in rows]

    @translate_errors
    async def delete_feed(self, *, tenant: str, feed_id: str) -> bool:
        return (
            await self._pool.fetchval(QUERIES["delete_calendar_feed"], tenant, feed_id)
        ) is not None

    @translate_errors
    async def find_feed(self, *, tenant: str, feed_id: str) -> tuple[CalendarFeed, bytes] | None:
        """The feed and its secret's hash."""
        row = await self._pool.fetchrow(QUERIES["find_calendar_feed"], tenant, feed_id)
        return (_feed_of(row), bytes(row["secret_hash"])) if row is not None else None

    @translate_errors
    async def feed_entries(self, *, tenant: str, feed: CalendarFeed) -> list[FeedEntry]:
        """The rooms a feed shows: its room (deleted ones while their tombstone lasts),
        or the identity's rooms and those it was removed from."""
        if feed.room_id:
            rows = await self._pool.fetch(QUERIES["calendar_room"], tenant, feed.room_id)
        else:
            rows = await self._pool.fetch(
                QUERIES["calendar_user_rooms"], tenant, feed.user_id, MAX_FEED_ROOMS
            )
        return [
            FeedEntry(room_of(row), cancelled=row["removed"] or row["delete_time"] is not None)
            for row in rows
        ]
