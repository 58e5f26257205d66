"""rooms.v1.CalendarService, and RoomsService.ListOccurrences: convert, call the use
case, convert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import empty_pb2, timestamp_pb2
from rooms.v1 import calendar_service_pb2, calendar_service_pb2_grpc, room_pb2, rooms_service_pb2

from service.domain.calendar import CalendarFeed
from service.domain.errors import Violations
from service.domain.models import state_at
from service.transport import convert
from service.transport.auth import current_caller
from service.transport.errors import answers_errors
from service.transport.vocabulary import ROOM_STATES
from service.usecases.calendar import CalendarUseCases

Context = grpc.aio.ServicerContext[Any, Any]


def _instant_in(
    violations: Violations, field: str, message: Any, value: timestamp_pb2.Timestamp
) -> datetime | None:
    if not message.HasField(field):
        return None
    return convert._timestamp_in(violations, field, value)


async def list_occurrences(
    usecases: CalendarUseCases, request: rooms_service_pb2.ListOccurrencesRequest
) -> rooms_service_pb2.ListOccurrencesResponse:
    violations = Violations()
    start = _instant_in(violations, "start_time", request, request.start_time)
    end = _instant_in(violations, "end_time", request, request.end_time)
    if start is not None and end is not None and end <= start:
        violations.add("end_time", "must be after start_time")
    violations.raise_if_any()
    page, now = await usecases.list_occurrences(
        current_caller(), request.room_id, start, end, request.page_size, request.page_token
    )
    return rooms_service_pb2.ListOccurrencesResponse(
        occurrences=[
            room_pb2.Occurrence(
                start_time=convert.timestamp(o.start),
                end_time=convert.timestamp(o.end),
                state=ROOM_STATES.out(state_at(o.start, o.end, now)),
            )
            for o in page.items
        ],
        next_page_token=page.next_page_token,
    )


def feed_out(feed: CalendarFeed, url: str = "") -> calendar_service_pb2.CalendarFeed:
    return calendar_service_pb2.CalendarFeed(
        feed_id=feed.feed_id,
        room_id=feed.room_id,
        user_id=feed.user_id,
        url=url,
        create_time=convert.timestamp(feed.create_time),
    )


@dataclass(frozen=True, kw_only=True)
class CalendarServicer(calendar_service_pb2_grpc.CalendarServiceServicer):
    """rooms.v1.CalendarService, on the calendar area."""

    calendar: CalendarUseCases

    @answers_errors
    async def CreateCalendarFeed(
        self, request: calendar_service_pb2.CreateCalendarFeedRequest, context: Context
    ) -> calendar_service_pb2.CalendarFeed:
        feed, url = await self.calendar.create_feed(
            current_caller(), request.feed.room_id, request.feed.user_id
        )
        return feed_out(feed, url)

    @answers_errors
    async def ListCalendarFeeds(
        self, request: calendar_service_pb2.ListCalendarFeedsRequest, context: Context
    ) -> calendar_service_pb2.ListCalendarFeedsResponse:
        page = await self.calendar.list_feeds(
            current_caller(), request.page_size, request.page_token
        )
        return calendar_service_pb2.ListCalendarFeedsResponse(
            feeds=[feed_out(feed) for feed in page.items], next_page_token=page.next_page_token
        )

    @answers_errors
    async def DeleteCalendarFeed(
        self, request: calendar_service_pb2.DeleteCalendarFeedRequest, context: Context
    ) -> empty_pb2.Empty:
        await self.calendar.delete_feed(current_caller(), request.feed_id)
        return empty_pb2.Empty()
