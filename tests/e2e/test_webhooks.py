"""Webhooks end to end: the API, and delivery to a real HTTP receiver that verifies
every signature with the `standardwebhooks` library. Time is the test clock: a
delivery pass is `running.delivery.run_once()`, and retries come due when the test
moves the clock."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from prometheus_client import REGISTRY
from rooms.v1 import events_pb2 as ev
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import (
    participants_service_pb2_grpc,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from service.domain.clock import ManualClock
from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory
from tests.helpers import bearer, expect_error
from tests.receivers import WebhookReceiver, assert_in_order_without_loss

if TYPE_CHECKING:
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub
    from rooms.v1.webhooks_service_pb2_grpc import WebhooksServiceAsyncStub

T = ev.RoomEventType
HOUR = timedelta(hours=1)
_tenants = iter(range(1_000_000))


@dataclass
class Api:
    running: RunningServer
    rooms: RoomsServiceAsyncStub
    participants: ParticipantsServiceAsyncStub
    webhooks: WebhooksServiceAsyncStub
    metadata: tuple[tuple[str, str], ...]

    async def create_room(self, room_id: str) -> None:
        await self.rooms.CreateRoom(rs.CreateRoomRequest(room_id=room_id), metadata=self.metadata)

    async def add(self, room_id: str, *users: str) -> None:
        await self.participants.AddOrUpdateParticipants(
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id, participants=[pp.Participant(user_id=u) for u in users]
            ),
            metadata=self.metadata,
        )

    async def create_webhook(self, url: str, **fields: Any) -> ws.Webhook:
        webhook: ws.Webhook = await self.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=url, **fields)), metadata=self.metadata
        )
        return webhook

    async def get_webhook(self, webhook_id: str) -> ws.Webhook:
        webhook: ws.Webhook = await self.webhooks.GetWebhook(
            ws.GetWebhookRequest(webhook_id=webhook_id), metadata=self.metadata
        )
        return webhook

    async def events(self, room_id: str) -> list[int]:
        page = await self.rooms.ListRoomEvents(
            rs.ListRoomEventsRequest(room_id=room_id, page_size=500), metadata=self.metadata
        )
        return [event.revision for event in page.events]


@pytest.fixture
async def api(start: ServerFactory) -> AsyncIterator[Api]:
    """A server whose caller is a tenant of its own (so no other test's rooms reach
    these webhooks), allowing plain http to loopback."""
    key, entry = new_key(f"hooks{next(_tenants)}", "tests")
    running = await start(
        api_keys=entry.line(),
        webhook_allowed_http_hosts="127.0.0.1,localhost",
        webhook_retry_period_seconds=6 * 3600,
        max_webhooks_per_tenant=3,
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield Api(
            running,
            rooms_service_pb2_grpc.RoomsServiceStub(channel),
            participants_service_pb2_grpc.ParticipantsServiceStub(channel),
            webhooks_service_pb2_grpc.WebhooksServiceStub(channel),
            bearer(key),
        )


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    await receiver.stop()


async def drain(api: Api, clock: ManualClock, rounds: int = 20) -> None:
    """Delivery passes, moving the clock past any backoff, until nothing is claimed."""
    for _ in range(rounds):
        result = await api.running.delivery.run_once()
        if not result.claimed:
            clock.advance(2 * HOUR)
            if not (await api.running.delivery.run_once()).claimed:
                return


# ---- the API -------------------------------------------------------------------


async def test_create_returns_the_secret_once_and_the_resource_everywhere(api: Api) -> None:
    created = await api.create_webhook(
        "https://hooks.example.com/rooms",
        event_types=[T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED],
        room_ids=["visit-42"],
    )
    assert created.secret.startswith("whsec_") and len(created.secret) > 40
    assert created.webhook_id and created.etag
    assert created.delivery.status == ws.WEBHOOK_STATUS_ACTIVE
    got = await api.get_webhook(created.webhook_id)
    assert got.secret == ""
    assert (got.url, list(got.event_types), list(got.room_ids)) == (
        "https://hooks.example.com/rooms",
        [T.ROOM_EVENT_TYPE_PARTICIPANT_REMOVED],
        ["visit-42"],
    )
    listed = await api.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=api.metadata)
    assert [w.webhook_id for w in listed.webhooks] == [created.webhook_id]
    assert all(w.secret == "" for w in listed.webhooks)


async def test_urls_must_be_https_unless_the_host_is_allowed(api: Api) -> None:
    for url, rule in (
        ("http://hooks.example.com/x", "SCHEME"),
        ("ftp://hooks.example.com/x", "SCHEME"),
        ("https://user:pw@hooks.example.com/x", "MALFORMED"),
        ("https://hooks.example.com/x#frag", "MALFORMED"),
        ("https://hooks.example.com/" + "x" * 3000, "TOO_LONG"),
    ):
        error = await expect_error(
            api.create_webhook(url),
            grpc.StatusCode.INVALID_ARGUMENT,
            "WEBHOOK_URL_NOT_ALLOWED",
        )
        assert error.fields == ["webhook.url"], url
        assert error.metadata["rule"] == rule, url
    error = await expect_error(
        api.create_webhook(""), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT"
    )
    assert error.fields == ["webhook.url"]
    error = await expect_error(
        api.create_webhook("https://ok.example.com", room_ids=["ok", "not ok"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["webhook.room_ids[1]"]
    error = await expect_error(
        api.create_webhook("https://ok.example.com", event_types=[99]),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["webhook.event_types[0]"]
    allowed = await api.create_webhook("http://127.0.0.1:9/x")
    assert allowed.url == "http://127.0.0.1:9/x"


async def test_ids_limits_updates_and_etags(api: Api) -> None:
    first: ws.Webhook = await api.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook_id="billing", webhook=ws.Webhook(url="https://a.example")),
        metadata=api.metadata,
    )
    assert first.webhook_id == "billing"
    await expect_error(
        api.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(
                webhook_id="billing", webhook=ws.Webhook(url="https://a.example")
            ),
            metadata=api.metadata,
        ),
        grpc.StatusCode.ALREADY_EXISTS,
        "WEBHOOK_ALREADY_EXISTS",
    )
    await api.create_webhook("https://b.example")
    await api.create_webhook("https://c.example")
    error = await expect_error(
        api.create_webhook("https://d.example"),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_MANY_WEBHOOKS",
    )
    assert error.metadata == {"limit": "3"}

    updated: ws.Webhook = await api.webhooks.UpdateWebhook(
        ws.UpdateWebhookRequest(
            webhook=ws.Webhook(webhook_id="billing", url="https://new.example", etag=first.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["url"]),
        ),
        metadata=api.metadata,
    )
    assert updated.url == "https://new.example" and updated.etag != first.etag
    assert updated.secret == ""
    error = await expect_error(
        api.webhooks.UpdateWebhook(
            ws.UpdateWebhookRequest(
                webhook=ws.Webhook(webhook_id="billing", room_ids=["r1"], etag=first.etag)
            ),
            metadata=api.metadata,
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert error.metadata == {"webhook_id": "billing", "etag": updated.etag}
    error = await expect_error(
        api.webhooks.UpdateWebhook(
            ws.UpdateWebhookRequest(
                webhook=ws.Webhook(webhook_id="billing"),
                update_mask=field_mask_pb2.FieldMask(paths=["secret"]),
            ),
            metadata=api.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )
    assert error.fields == ["update_mask.paths[0]"]
    page = await api.webhooks.ListWebhooks(
        ws.ListWebhooksRequest(page_size=2), metadata=api.metadata
    )
    rest = await api.webhooks.ListWebhooks(
        ws.ListWebhooksRequest(page_size=2, page_token=page.next_page_token),
        metadata=api.metadata,
    )
    assert len(page.webhooks) == 2 and len(rest.webhooks) == 1 and not rest.next_page_token
    await api.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id="billing"), metadata=api.metadata
    )
    for call in (
        api.get_webhook("billing"),
        api.webhooks.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id="billing"), metadata=api.metadata
        ),
    ):
        error = await expect_error(call, grpc.StatusCode.NOT_FOUND, "WEBHOOK_NOT_FOUND")
        assert error.metadata == {"webhook_id": "billing"}


async def test_another_tenant_cannot_see_a_webhook(start: ServerFactory, api: Api) -> None:
    created = await api.create_webhook("https://a.example")
    other_key, other_entry = new_key("hooks-other", "x")
    running = await start(api_keys=other_entry.line(), webhook_allowed_http_hosts="127.0.0.1")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub: WebhooksServiceAsyncStub = webhooks_service_pb2_grpc.WebhooksServiceStub(channel)
        await expect_error(
            stub.GetWebhook(
                ws.GetWebhookRequest(webhook_id=created.webhook_id),
                metadata=bearer(other_key),
            ),
            grpc.StatusCode.NOT_FOUND,
            "WEBHOOK_NOT_FOUND",
        )


# ---- delivery ------------------------------------------------------------------


async def test_down_then_erroring_then_recovering_loses_nothing_and_keeps_order(
    api: Api, receiver: WebhookReceiver, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.port = 0
    await receiver.start()  # learn a port, then go down
    await receiver.stop()
    webhook = await api.create_webhook(receiver.url)
    receiver.secret = webhook.secret
    rooms = ["alpha", "beta", "gamma"]
    for room_id in rooms:
        await api.create_room(room_id)
    for round_ in range(3):
        for room_id in rooms:
            await api.add(room_id, f"user-{round_}")

    # Down: nothing arrives; the state says why and how much waits.
    await api.running.delivery.run_once()
    state = (await api.get_webhook(webhook.webhook_id)).delivery
    assert state.status == ws.WEBHOOK_STATUS_ACTIVE
    assert state.last_error.startswith("connection failed")
    assert state.pending_events == 3 * 4
    assert state.HasField("oldest_pending_age") and not state.HasField("last_success_time")

    # Erroring: every attempt reaches the receiver and is answered 500.
    await receiver.start()
    receiver.mode = "error"
    clock.advance(2 * HOUR)
    await api.running.delivery.run_once()
    assert len(receiver.deliveries) == 3  # one head event per room, no more
    clock.advance(2 * HOUR)
    await api.running.delivery.run_once()
    assert len(receiver.deliveries) == 6
    assert (await api.get_webhook(webhook.webhook_id)).delivery.last_error == "HTTP 500"
    # Writes go on meanwhile.
    for room_id in rooms:
        await api.add(room_id, "late")

    # Recovering: everything arrives, per room in order.
    receiver.mode = "ok"
    await drain(api, clock)
    expected = {room_id: await api.events(room_id) for room_id in rooms}
    assert all(len(revisions) == 5 for revisions in expected.values())
    repeats = assert_in_order_without_loss(receiver, expected)
    assert repeats == 6  # exactly the answered-500 ones came again
    assert receiver.rejected == 0
    state = (await api.get_webhook(webhook.webhook_id)).delivery
    assert state.pending_events == 0 and not state.HasField("oldest_pending_age")
    assert state.HasField("last_success_time")

    # The body: the envelope and the RoomEvent in the protobuf JSON mapping.
    first = receiver.by_room()["alpha"][0].payload
    assert first["type"] == "room.created" and first["roomId"] == "alpha"
    assert first["revision"] == 1 and first["timestamp"].endswith("Z")
    assert first["data"]["type"] == "ROOM_EVENT_TYPE_CREATED"
    assert first["data"]["revision"] == "1"
    # The secret is never logged.
    assert webhook.secret not in caplog.text
    assert webhook.secret.removeprefix("whsec_") not in caplog.text
    assert "not-a-secret" not in state.last_error


async def test_a_failing_room_holds_back_only_its_own_events(
    api: Api, receiver: WebhookReceiver, clock: ManualClock
) -> None:
    await receiver.start()
    webhook = await api.create_webhook(receiver.url)
    receiver.secret = webhook.secret
    receiver.mode, receiver.error_rooms = "error", {"stuck"}
    await api.create_room("stuck")
    await api.create_room("flowing")
    await api.add("stuck", "a", "b")
    await api.add("flowing", "a", "b")
    await api.running.delivery.run_once()
    got = receiver.by_room()
    assert [d.revision for d in got["flowing"]] == [1, 2, 3]
    assert [d.revision for d in got["stuck"]] == [1]


async def test_after_the_retry_period_the_webhook_fails_until_updated(
    api: Api, receiver: WebhookReceiver, clock: ManualClock
) -> None:
    await receiver.start()
    webhook = await api.create_webhook(receiver.url)
    receiver.secret = webhook.secret
    receiver.mode = "error"
    await api.create_room("doomed")
    for _ in range(5):  # well past the 6-hour retry period of this server
        clock.advance(2 * HOUR)
        await api.running.delivery.run_once()
    state = (await api.get_webhook(webhook.webhook_id)).delivery
    assert state.status == ws.WEBHOOK_STATUS_FAILING
    assert state.HasField("failing_since") and state.pending_events == 1
    attempts = len(receiver.deliveries)
    receiver.mode = "ok"
    await api.add("doomed", "someone")
    clock.advance(2 * HOUR)
    await api.running.delivery.run_once()
    assert len(receiver.deliveries) == attempts  # stopped: nothing is sent
    assert (await api.get_webhook(webhook.webhook_id)).delivery.pending_events == 2
    before = sample("rooms_delivery_gave_up_total", sink="webhook")
    assert before >= 1

    # Any update resumes it, and what waited is delivered in order.
    resumed: ws.Webhook = await api.webhooks.UpdateWebhook(
        ws.UpdateWebhookRequest(webhook=ws.Webhook(webhook_id=webhook.webhook_id)),
        metadata=api.metadata,
    )
    assert resumed.delivery.status == ws.WEBHOOK_STATUS_ACTIVE
    await drain(api, clock)
    assert_in_order_without_loss(receiver, {"doomed": [1, 2]})
    assert (await api.get_webhook(webhook.webhook_id)).delivery.pending_events == 0


async def test_filters_by_event_type_and_room(
    api: Api, receiver: WebhookReceiver, clock: ManualClock
) -> None:
    await receiver.start()
    webhook = await api.create_webhook(
        receiver.url,
        event_types=[T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED],
        room_ids=["wanted"],
    )
    receiver.secret = webhook.secret
    for room_id in ("wanted", "ignored"):
        await api.create_room(room_id)
        await api.add(room_id, "x", "y")
    await drain(api, clock)
    assert {d.room_id for d in receiver.deliveries} == {"wanted"}
    assert [d.payload["type"] for d in receiver.deliveries] == ["room.participant_added"] * 2
    assert (await api.get_webhook(webhook.webhook_id)).delivery.pending_events == 0

    # A room taken out of the filter gets nothing more, though its cursor exists.
    await api.webhooks.UpdateWebhook(
        ws.UpdateWebhookRequest(
            webhook=ws.Webhook(webhook_id=webhook.webhook_id, room_ids=["ignored"]),
            update_mask=field_mask_pb2.FieldMask(paths=["room_ids"]),
        ),
        metadata=api.metadata,
    )
    await api.add("wanted", "z")
    await api.add("ignored", "z")
    await drain(api, clock)
    assert [(d.room_id, d.revision) for d in receiver.deliveries[2:]] == [("ignored", 4)]


async def test_events_before_the_webhook_existed_are_not_sent(
    api: Api, receiver: WebhookReceiver, clock: ManualClock
) -> None:
    await receiver.start()
    await api.create_room("older")
    webhook = await api.create_webhook(receiver.url)
    receiver.secret = webhook.secret
    await api.add("older", "new-user")
    await drain(api, clock)
    assert [(d.room_id, d.revision) for d in receiver.deliveries] == [("older", 2)]
    assert sample("rooms_delivery_attempts_total", sink="webhook", outcome="delivered") >= 1


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0
