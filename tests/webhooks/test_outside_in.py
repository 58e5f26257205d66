"""Webhooks attacked from outside: URL edge cases, IPv6, event type numbers and
repeats are refused and not stored; the README's promise that `last_error` never holds
the URL or a secret."""

from __future__ import annotations

import pytest
from rooms.v1 import webhooks_service_pb2 as ws

from tests.shared.errors import LoggedErrors
from tests.shared.outside_in import (
    INT32_MAX,
    INT32_MIN,
    Two,
    delete_webhooks,
    no_errors,
    open_room,
    refused,
)

WEBHOOK_URLS = [
    "http://localhost/x",  # not in the allowed hosts of this server
    "http://[::1]/x",
    "http://127.0.0.1.nip.io/x",
    "http://127.0.0.1@evil.example/x",
    "https://@hooks.example.com/x",
    "https://user@hooks.example.com/x",
    "https://hooks.example.com:99999/x",
    "https://hooks.example.com:-1/x",
    "https://",
    "https:///x",
    "https://hooks.example.com/x y",
    "https://hooks.example.com/\nx",
    "https://hooks.example.com/" + "x" * 10_000,
    "javascript:alert(1)",
    "//hooks.example.com/x",
    "hooks.example.com",
    " https://hooks.example.com/x",
    "https://hooks.example.com/\x00",
    "https://[::1/x",
    "https://[zz::1]/x",
]


@pytest.mark.parametrize("url", WEBHOOK_URLS, ids=lambda url: repr(url[:40]))
async def test_webhook_urls_at_the_edges_are_refused_and_not_stored(
    two: Two, url: str, server_errors: LoggedErrors
) -> None:
    a = two.a
    error = await refused(
        a.webhooks.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=url)), metadata=a.metadata
        )
    )
    assert error.fields == ["webhook.url"], (url[:40], error)
    listed = await a.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=a.metadata)
    assert url not in [w.url for w in listed.webhooks]
    no_errors(server_errors)


async def test_webhook_ipv6_and_event_type_numbers(two: Two, server_errors: LoggedErrors) -> None:
    a = two.a
    created = await a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://[2001:db8::1]:8443/hook")),
        metadata=a.metadata,
    )
    assert created.url == "https://[2001:db8::1]:8443/hook"
    for number in (-1, 999, INT32_MAX, INT32_MIN):
        error = await refused(
            a.webhooks.CreateWebhook(
                ws.CreateWebhookRequest(
                    webhook=ws.Webhook(url="https://ok.example", event_types=[number])  # type: ignore[list-item]
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["webhook.event_types[0]"], (number, error)
    # A set of types: one type 50,000 times is refused, not stored 50,000 times.
    for event_types in ([1] * 50_000, [1, 2, 1]):
        error = await refused(
            a.webhooks.CreateWebhook(
                ws.CreateWebhookRequest(
                    webhook=ws.Webhook(url="https://ok.example", event_types=event_types)  # type: ignore[arg-type]
                ),
                metadata=a.metadata,
            )
        )
        assert error.fields == ["webhook.event_types"], error
    twice = ws.UpdateWebhookRequest(
        webhook=ws.Webhook(webhook_id=created.webhook_id, event_types=[1, 1])  # type: ignore[list-item]
    )
    twice.update_mask.paths.append("event_types")
    await refused(a.webhooks.UpdateWebhook(twice, metadata=a.metadata))
    # Unspecified is documented as "every type" in a filter: stored as no filter.
    every = await a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url="https://ok.example", event_types=[0])),  # type: ignore[list-item]
        metadata=a.metadata,
    )
    assert list(every.event_types) == []
    await a.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id=every.webhook_id), metadata=a.metadata
    )
    update = ws.UpdateWebhookRequest(
        webhook=ws.Webhook(webhook_id=created.webhook_id, event_types=[999])  # type: ignore[list-item]
    )
    update.update_mask.paths.append("event_types")
    await refused(a.webhooks.UpdateWebhook(update, metadata=a.metadata))
    bad_mask = ws.UpdateWebhookRequest(webhook=ws.Webhook(webhook_id=created.webhook_id))
    bad_mask.update_mask.paths.extend(["secret"])
    await refused(a.webhooks.UpdateWebhook(bad_mask, metadata=a.metadata))
    got = await a.webhooks.GetWebhook(
        ws.GetWebhookRequest(webhook_id=created.webhook_id), metadata=a.metadata
    )
    assert list(got.event_types) == [] and got.etag == created.etag
    for webhook_id in ("", "x" * 10_000, "../x", "\x00"):
        await refused(
            a.webhooks.GetWebhook(ws.GetWebhookRequest(webhook_id=webhook_id), metadata=a.metadata)
        )
    await a.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id=created.webhook_id), metadata=a.metadata
    )
    no_errors(server_errors)


async def test_readme_last_error_never_holds_the_url_or_a_secret(two: Two) -> None:
    """README, webhook "State": 'last_error (an HTTP status, a timeout or a connection
    failure; never the URL or a secret)'."""
    a = two.a
    url = "http://127.0.0.1:9/path-marker?token=query-secret"  # port 9: nothing listens
    webhook = await a.webhooks.CreateWebhook(
        ws.CreateWebhookRequest(webhook=ws.Webhook(url=url)), metadata=a.metadata
    )
    for caller in (a, two.b):  # only this webhook is delivered to
        await delete_webhooks(caller, but=webhook.webhook_id)
    await open_room(a)
    await two.running.delivery.run_once()
    state = (
        await a.webhooks.GetWebhook(
            ws.GetWebhookRequest(webhook_id=webhook.webhook_id), metadata=a.metadata
        )
    ).delivery
    assert state.last_error, state
    for leak in ("path-marker", "query-secret", "127.0.0.1", ":9", webhook.secret):
        assert leak not in state.last_error, (leak, state.last_error)
    await a.webhooks.DeleteWebhook(
        ws.DeleteWebhookRequest(webhook_id=webhook.webhook_id), metadata=a.metadata
    )
