"""WebhooksService end to end: create (the secret shown once), URL and filter checks,
caller-chosen ids, the per-tenant limit, updates with etags, paging, delete, and
another tenant's view."""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2
from rooms.v1 import webhooks_service_pb2 as ws

from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.shared.calls import bearer, connect
from tests.shared.errors import expect_error
from tests.webhooks.api import Api, T


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
    async with connect(running.port) as stubs:
        stub = stubs.webhooks
        await expect_error(
            stub.GetWebhook(
                ws.GetWebhookRequest(webhook_id=created.webhook_id),
                metadata=bearer(other_key),
            ),
            grpc.StatusCode.NOT_FOUND,
            "WEBHOOK_NOT_FOUND",
        )
