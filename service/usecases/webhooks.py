"""The use cases of rooms.v1.WebhooksService (no grpc, no asyncpg)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from service.domain import rules, webhooks
from service.domain.errors import Violations
from service.domain.models import Caller, Page, expected_version, new_id
from service.domain.paging import by_key
from service.domain.webhooks import Webhook, WebhookSettings, WebhookStore
from service.usecases.deps import Deps


class WebhookUseCases:
    """CreateWebhook, GetWebhook, ListWebhooks, UpdateWebhook and DeleteWebhook, on a
    store of their own (`store`): the HTTP hosts allowed besides https and each tenant's
    maximum come from the settings."""

    def __init__(
        self,
        deps: Deps,
        *,
        store: WebhookStore,
        allowed_http_hosts: Collection[str],
        max_webhooks: int,
    ) -> None:
        self._store = store
        self._clock = deps.clock
        self._pages = deps.pages
        self._allowed = frozenset(host.lower() for host in allowed_http_hosts)
        self._max = max_webhooks

    async def create(self, caller: Caller, webhook_id: str, settings: WebhookSettings) -> Webhook:
        violations = Violations()
        if webhook_id:
            rules.check_room_id(violations, "webhook_id", webhook_id)
        webhooks.check_settings(
            violations, "webhook.", settings, webhooks.UPDATABLE_FIELDS, self._allowed
        )
        violations.raise_if_any()
        return await self._store.create(
            tenant=caller.tenant,
            webhook_id=webhook_id or new_id(),
            settings=settings,
            secret=webhooks.new_secret(),
            now=self._clock.now(),
            max_webhooks=self._max,
        )

    async def get(self, caller: Caller, webhook_id: str) -> Webhook:
        rules.require_room_id(webhook_id, "webhook_id")
        found = await self._store.get(
            tenant=caller.tenant, webhook_id=webhook_id, now=self._clock.now()
        )
        if found is None:
            raise webhooks.webhook_not_found(webhook_id)
        return found

    async def list(self, caller: Caller, page_size: int, page_token: str) -> Page[Webhook]:
        now = self._clock.now()
        page = await self._pages.page(
            ["webhooks", caller.tenant],
            page_size,
            page_token,
            by_key(lambda webhook: webhook.webhook_id),
            lambda after, n: self._store.list(
                tenant=caller.tenant, after_id=after, limit=n, now=now
            ),
        )
        assert page is not None  # a tenant's list of webhooks always exists
        return page

    async def update(
        self,
        caller: Caller,
        webhook_id: str,
        etag: str,
        settings: WebhookSettings,
        paths: Sequence[str],
    ) -> Webhook:
        violations = Violations()
        rules.check_room_id(violations, "webhook.webhook_id", webhook_id)
        rules.check_etag(violations, "webhook.etag", etag)
        violations.raise_if_any()
        fields = webhooks.resolve_mask(paths, settings)
        webhooks.check_settings(violations, "webhook.", settings, fields, self._allowed)
        violations.raise_if_any()
        changes: dict[str, Any] = {name: getattr(settings, name) for name in fields}
        return await self._store.update(
            tenant=caller.tenant,
            webhook_id=webhook_id,
            expected_version=expected_version(etag),
            changes=changes,
            now=self._clock.now(),
        )

    async def delete(self, caller: Caller, webhook_id: str, etag: str) -> None:
        violations = Violations()
        rules.check_room_id(violations, "webhook_id", webhook_id)
        rules.check_etag(violations, "etag", etag)
        violations.raise_if_any()
        await self._store.delete(
            tenant=caller.tenant, webhook_id=webhook_id, expected_version=expected_version(etag)
        )
