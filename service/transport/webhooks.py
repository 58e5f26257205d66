"""rooms.v1.WebhooksService: convert, call the use case, convert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2
from rooms.v1 import webhooks_service_pb2 as ws
from rooms.v1 import webhooks_service_pb2_grpc

from service.domain.errors import Violations, checked
from service.domain.webhooks import Webhook, WebhookSettings
from service.transport import convert
from service.transport.auth import current_caller
from service.transport.errors import answers_errors
from service.transport.vocabulary import EVENT_TYPES
from service.usecases.webhooks import WebhookUseCases

Context = grpc.aio.ServicerContext[Any, Any]


def settings_in(violations: Violations, prefix: str, webhook: ws.Webhook) -> WebhookSettings:
    return WebhookSettings(
        url=webhook.url,
        event_types=tuple(
            convert.event_types_in(violations, f"{prefix}event_types", webhook.event_types)
        ),
        room_ids=tuple(webhook.room_ids),
    )


def webhook_out(webhook: Webhook) -> ws.Webhook:
    delivery = webhook.delivery
    state = ws.WebhookDeliveryState(
        status=ws.WEBHOOK_STATUS_FAILING if delivery.failing_since else ws.WEBHOOK_STATUS_ACTIVE,
        last_error=delivery.last_error,
        pending_events=delivery.pending_events,
    )
    if delivery.last_success_time is not None:
        state.last_success_time.CopyFrom(convert.timestamp(delivery.last_success_time))
    if delivery.last_error_time is not None:
        state.last_error_time.CopyFrom(convert.timestamp(delivery.last_error_time))
    if delivery.failing_since is not None:
        state.failing_since.CopyFrom(convert.timestamp(delivery.failing_since))
    if delivery.oldest_pending_age is not None:
        state.oldest_pending_age.FromTimedelta(delivery.oldest_pending_age)
    return ws.Webhook(
        webhook_id=webhook.webhook_id,
        url=webhook.url,
        event_types=[EVENT_TYPES.out(t) for t in webhook.event_types],
        room_ids=webhook.room_ids,
        create_time=convert.timestamp(webhook.create_time),
        update_time=convert.timestamp(webhook.update_time),
        etag=webhook.etag,
        secret=webhook.secret,
        delivery=state,
    )


@dataclass(frozen=True, kw_only=True)
class WebhooksServicer(webhooks_service_pb2_grpc.WebhooksServiceServicer):
    """rooms.v1.WebhooksService, on the webhooks area."""

    webhooks: WebhookUseCases

    @answers_errors
    async def CreateWebhook(self, request: ws.CreateWebhookRequest, context: Context) -> ws.Webhook:
        settings = checked(settings_in, "webhook.", request.webhook)
        created = await self.webhooks.create(current_caller(), request.webhook_id, settings)
        return webhook_out(created)

    @answers_errors
    async def GetWebhook(self, request: ws.GetWebhookRequest, context: Context) -> ws.Webhook:
        return webhook_out(await self.webhooks.get(current_caller(), request.webhook_id))

    @answers_errors
    async def ListWebhooks(
        self, request: ws.ListWebhooksRequest, context: Context
    ) -> ws.ListWebhooksResponse:
        page = await self.webhooks.list(current_caller(), request.page_size, request.page_token)
        return ws.ListWebhooksResponse(
            webhooks=[webhook_out(webhook) for webhook in page.items],
            next_page_token=page.next_page_token,
        )

    @answers_errors
    async def UpdateWebhook(self, request: ws.UpdateWebhookRequest, context: Context) -> ws.Webhook:
        settings = checked(settings_in, "webhook.", request.webhook)
        updated = await self.webhooks.update(
            current_caller(),
            request.webhook.webhook_id,
            request.webhook.etag,
            settings,
            list(request.update_mask.paths),
        )
        return webhook_out(updated)

    @answers_errors
    async def DeleteWebhook(
        self, request: ws.DeleteWebhookRequest, context: Context
    ) -> empty_pb2.Empty:
        await self.webhooks.delete(current_caller(), request.webhook_id, request.etag)
        return empty_pb2.Empty()
