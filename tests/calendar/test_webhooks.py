"""Webhooks follow the occurrences: OPENED and ENDED of each occurrence reach a real
receiver that verifies every signature (Standard Webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from rooms.v1 import events_pb2
from rooms.v1 import webhooks_service_pb2 as ws

from service.domain.clock import ManualClock
from tests.calendar.conftest import Calendar
from tests.calendar.helpers import recurring_room
from tests.shared.receivers import WebhookReceiver

FIRST = datetime(2026, 6, 2, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_each_occurrence_reaches_the_webhook(
    cal: Calendar, clock: ManualClock, receiver: WebhookReceiver
) -> None:
    room = await recurring_room(cal.a, FIRST, HOUR, ["RRULE:FREQ=DAILY;COUNT=2"])
    hook = await cal.a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(
            webhook=ws.Webhook(
                url=receiver.url,
                room_ids=[room.room_id],
                event_types=[
                    events_pb2.ROOM_EVENT_TYPE_OPENED,
                    events_pb2.ROOM_EVENT_TYPE_ENDED,
                ],
            )
        ),
        metadata=cal.a.auth,
    )
    receiver.secret = hook.secret
    for moment in (HOUR / 2, 2 * HOUR, timedelta(days=1, minutes=1), timedelta(days=2)):
        clock.set(FIRST + moment)
        await cal.running.lifecycle.run_once()
        for _ in range(5):
            await cal.running.delivery.run_once()
    await receiver.wait_for(lambda: len(receiver.deliveries) >= 4, within=10)
    got = [(d.payload["type"], d.payload["data"]["eventTime"]) for d in receiver.deliveries]
    assert got == [
        ("room.opened", "2026-06-02T09:00:00Z"),
        ("room.ended", "2026-06-02T10:00:00Z"),
        ("room.opened", "2026-06-03T09:00:00Z"),
        ("room.ended", "2026-06-03T10:00:00Z"),
    ]
    assert receiver.rejected == 0
