"""CalendarService: capability URLs serving rooms as iCalendar feeds."""

# Every `timeout` here is the call's gRPC deadline, not a local wait.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncIterator

from rooms.connection import Channel
from rooms.v1 import calendar_service_pb2


class CalendarMethods(Channel):
    """The calls of rooms.v1.CalendarService."""

    async def create_calendar_feed(
        self, *, room_id: str = "", user_id: str = "", timeout: float | None = None
    ) -> calendar_service_pb2.CalendarFeed:
        """A feed of one room, or of every room `user_id` is on the roster of. The
        answer carries the feed's `url`: no other call returns it."""
        request = calendar_service_pb2.CreateCalendarFeedRequest(
            feed=calendar_service_pb2.CalendarFeed(room_id=room_id, user_id=user_id)
        )
        return await self._call(self._calendar.CreateCalendarFeed, request, timeout)

    async def list_calendar_feeds(
        self, *, page_size: int = 0, timeout: float | None = None
    ) -> AsyncIterator[calendar_service_pb2.CalendarFeed]:
        """Every feed, newest first, without its URL."""
        request = calendar_service_pb2.ListCalendarFeedsRequest(page_size=page_size)
        async for feed in self._pages(
            self._calendar.ListCalendarFeeds, request, lambda response: response.feeds, timeout
        ):
            yield feed

    async def delete_calendar_feed(self, feed_id: str, *, timeout: float | None = None) -> None:
        """Revoke a feed: its URL answers 404 from then on (`CalendarFeedNotFound`)."""
        request = calendar_service_pb2.DeleteCalendarFeedRequest(feed_id=feed_id)
        await self._call(self._calendar.DeleteCalendarFeed, request, timeout)
