"""WebhooksService: the endpoints that receive a tenant's room events."""

# Every `timeout` here is the call's gRPC deadline, not a local wait.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from google.protobuf import field_mask_pb2

from rooms.connection import Channel
from rooms.v1 import webhooks_service_pb2
from rooms.values import EventTypeLike, event_type_value


class WebhooksMethods(Channel):
    """The calls of rooms.v1.WebhooksService."""

    async def create_webhook(
        self,
        url: str,
        *,
        webhook_id: str = "",
        event_types: Iterable[EventTypeLike] = (),
        room_ids: Iterable[str] = (),
        timeout: float | None = None,
    ) -> webhooks_service_pb2.Webhook:
        """Create a webhook that receives the events of `event_types` (by name,
        `participant_removed`, or number; none: every type) of `room_ids` (none: every
        room). The answer carries the signing `secret`: no other call returns it."""
        request = webhooks_service_pb2.CreateWebhookRequest(
            webhook_id=webhook_id,
            webhook=webhooks_service_pb2.Webhook(
                url=url,
                event_types=[event_type_value(value) for value in event_types],
                room_ids=list(room_ids),
            ),
        )
        return await self._call(self._webhooks.CreateWebhook, request, timeout)

    async def get_webhook(
        self, webhook_id: str, *, timeout: float | None = None
    ) -> webhooks_service_pb2.Webhook:
        """One webhook with its delivery state (`WebhookNotFound` if there is none)."""
        request = webhooks_service_pb2.GetWebhookRequest(webhook_id=webhook_id)
        return await self._call(self._webhooks.GetWebhook, request, timeout)

    async def list_webhooks(
        self, *, page_size: int = 0, timeout: float | None = None
    ) -> AsyncIterator[webhooks_service_pb2.Webhook]:
        """Every webhook of the caller, by id, fetched a page at a time (`timeout` is
        per page)."""
        request = webhooks_service_pb2.ListWebhooksRequest(page_size=page_size)
        async for webhook in self._pages(
            self._webhooks.ListWebhooks, request, lambda response: response.webhooks, timeout
        ):
            yield webhook

    async def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        event_types: Iterable[EventTypeLike] | None = None,
        room_ids: Iterable[str] | None = None,
        etag: str = "",
        timeout: float | None = None,
    ) -> webhooks_service_pb2.Webhook:
        """Change the fields given (and only those; an empty `event_types` or `room_ids`
        means every type or room). With `etag`, only if the webhook has not changed
        since (`EtagMismatch`). Any update, even one naming no field, resumes a
        webhook that is failing."""
        webhook = webhooks_service_pb2.Webhook(webhook_id=webhook_id, etag=etag)
        paths: list[str] = []
        if url is not None:
            webhook.url = url
            paths.append("url")
        if event_types is not None:
            webhook.event_types.extend(event_type_value(value) for value in event_types)
            paths.append("event_types")
        if room_ids is not None:
            webhook.room_ids.extend(room_ids)
            paths.append("room_ids")
        request = webhooks_service_pb2.UpdateWebhookRequest(
            webhook=webhook, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        return await self._call(self._webhooks.UpdateWebhook, request, timeout)

    async def delete_webhook(
        self, webhook_id: str, *, etag: str = "", timeout: float | None = None
    ) -> None:
        """Delete a webhook; what was pending for it is dropped."""
        request = webhooks_service_pb2.DeleteWebhookRequest(webhook_id=webhook_id, etag=etag)
        await self._call(self._webhooks.DeleteWebhook, request, timeout)
