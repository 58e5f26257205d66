"""Webhook delivery end to end, to a real HTTP receiver that verifies every signature
with the `standardwebhooks` library. Time is the test clock: a delivery pass is
`running.delivery.run_once()`, and retries come due when the test moves the clock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from google.protobuf import field_mask_pb2
from prometheus_client import REGISTRY
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import webhooks_service_pb2 as ws

from service.domain.clock import ManualClock
from tests.shared.calls import timestamp
from tests.shared.receivers import WebhookReceiver, assert_in_order_without_loss
from tests.webhooks.api import Api, T

HOUR = timedelta(hours=1)


async def drain(api: Api, clock: ManualClock, rounds: int = 20) -> None:
    """Delivery passes, moving the clock past any backoff, until nothing is claimed."""
    for _ in range(rounds):
        result = await api.running.delivery.run_once()
        if not result.claimed:
            clock.advance(2 * HOUR)
            if not (await api.running.delivery.run_once()).claimed:
                return


async def test_down_then_erroring_then_recovering_loses_nothing_and_keeps_order(
    api: Api, receiver: WebhookReceiver, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.port = 0
    await receiver.start()  # learn a port, then go down
    await receiver.stop()
    webhook = await api.subscribe(receiver)
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
    await api.subscribe(receiver)
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
    webhook = await api.subscribe(receiver)
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
    webhook = await api.subscribe(
        receiver, event_types=[T.ROOM_EVENT_TYPE_PARTICIPANT_ADDED], room_ids=["wanted"]
    )
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
    await api.subscribe(receiver)
    await api.add("older", "new-user")
    await drain(api, clock)
    assert [(d.room_id, d.revision) for d in receiver.deliveries] == [("older", 2)]
    assert sample("rooms_delivery_attempts_total", sink="webhook", outcome="delivered") >= 1


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0


async def test_a_moderation_and_a_window_change_reach_webhooks(
    api: Api, receiver: WebhookReceiver, clock: ManualClock
) -> None:
    await receiver.start()
    await api.subscribe(
        receiver,
        event_types=[
            T.ROOM_EVENT_TYPE_PARTICIPANT_MODERATED,
            T.ROOM_EVENT_TYPE_PARTICIPANT_WINDOW_CHANGED,
        ],
        room_ids=["moderated"],
    )
    await api.create_room("moderated")
    host = pp.Participant(user_id="host", role=pp.ROLE_PRESENTER)
    until = timestamp(clock.now() + HOUR)
    guest = pp.Participant(user_id="pat", valid_until=until)
    await api.add("moderated", "pat")
    await api.participants.AddOrUpdateParticipants(
        ps.AddOrUpdateParticipantsRequest(room_id="moderated", participants=[host, guest]),
        metadata=api.metadata,
    )
    await api.participants.ModerateParticipant(
        ps.ModerateParticipantRequest(
            room_id="moderated", actor_user_id="host", user_id="pat", muted=True, video=True
        ),
        metadata=api.metadata,
    )
    await drain(api, clock)
    assert [d.payload["type"] for d in receiver.deliveries] == [
        "room.participant_window_changed",
        "room.participant_moderated",
    ]
    changed, moderated = (d.payload["data"] for d in receiver.deliveries)
    assert changed["participant"]["validUntil"] == until.ToJsonString()
    assert moderated["participant"]["userId"] == "pat"
    assert moderated["moderation"] == {"actorUserId": "host", "muted": True, "video": True}
