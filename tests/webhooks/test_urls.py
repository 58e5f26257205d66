"""Webhook URLs that can never be delivered to are refused from outside, on create and
on update: INVALID_ARGUMENT, ErrorInfo WEBHOOK_URL_NOT_ALLOWED with rule MALFORMED, and a
BadRequest naming `webhook.url`; the URLs at the limits are accepted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import field_mask_pb2
from rooms.v1 import webhooks_service_pb2 as ws

from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.shared.calls import Webhooks, bearer, connect
from tests.shared.errors import expect_error

LABEL_63 = "a" * 63
HOST_253 = ".".join([LABEL_63] * 3 + ["b" * 61])  # 3 * 64 + 61 characters

NEVER_DELIVERED = [
    "https://hooks.example.com:0/x",  # port 0
    "https://hooks..example.com/x",  # an empty label
    "https://.hooks.example.com/x",
    f"https://{LABEL_63}a.example.com/x",  # a label of 64 characters
    f"https://{HOST_253}c/x",  # a host of 254 characters
    f"https://{'ü' * 60}.example/x",  # 64 characters as `xn--` + punycode
    "https://0x7f000001/x",  # numbers some resolvers read as 127.0.0.1
    "https://2130706433/x",
    "https://127.1/x",
    "https://0177.0.0.1/x",
    "http://127.0.0.1./x",  # not the allowed host as written
]
DELIVERABLE = [
    f"https://{LABEL_63}.example.com/x",
    f"https://{HOST_253}/x",
    f"https://{HOST_253}./x",  # a trailing dot does not count
    "https://hooks.example.com:65535/x",
    "https://127.0.0.1/x",  # loopback over https, as before
    "https://[::1]:8443/x",
    "http://127.0.0.1:8080/x",  # plain http to an allowed host, as before
]


@dataclass
class Hooks:
    stub: Webhooks
    metadata: tuple[tuple[str, str], ...]

    async def create(self, url: str) -> ws.Webhook:
        webhook: ws.Webhook = await self.stub.CreateWebhook(
            ws.CreateWebhookRequest(webhook=ws.Webhook(url=url)), metadata=self.metadata
        )
        return webhook

    async def update(self, webhook_id: str, url: str) -> ws.Webhook:
        webhook: ws.Webhook = await self.stub.UpdateWebhook(
            ws.UpdateWebhookRequest(
                webhook=ws.Webhook(webhook_id=webhook_id, url=url),
                update_mask=field_mask_pb2.FieldMask(paths=["url"]),
            ),
            metadata=self.metadata,
        )
        return webhook

    async def delete(self, webhook_id: str) -> None:
        await self.stub.DeleteWebhook(
            ws.DeleteWebhookRequest(webhook_id=webhook_id), metadata=self.metadata
        )


@pytest.fixture(scope="module")
async def hooks(start: ServerFactory) -> AsyncIterator[Hooks]:
    """A tenant of its own on a server that allows plain http to 127.0.0.1 only."""
    key, entry = new_key(f"urls-{uuid.uuid4().hex[:8]}", "tests")
    running = await start(api_keys=entry.line(), webhook_allowed_http_hosts="127.0.0.1")
    async with connect(running.port) as stubs:
        stub = stubs.webhooks
        yield Hooks(stub, bearer(key))


@pytest.mark.parametrize("url", NEVER_DELIVERED)
async def test_a_url_that_can_never_be_delivered_to_is_refused(hooks: Hooks, url: str) -> None:
    created = await expect_error(
        hooks.create(url), grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_URL_NOT_ALLOWED"
    )
    assert created.fields == ["webhook.url"], url
    assert created.metadata["rule"] == "MALFORMED", url
    assert created.metadata["field"] == "webhook.url", url

    webhook = await hooks.create("https://hooks.example.com/ok")
    try:
        updated = await expect_error(
            hooks.update(webhook.webhook_id, url),
            grpc.StatusCode.INVALID_ARGUMENT,
            "WEBHOOK_URL_NOT_ALLOWED",
        )
        assert (updated.fields, updated.metadata["rule"]) == (["webhook.url"], "MALFORMED")
    finally:
        await hooks.delete(webhook.webhook_id)


async def test_urls_at_the_limits_are_accepted(hooks: Hooks) -> None:
    for url in DELIVERABLE:
        webhook = await hooks.create(url)
        assert webhook.url == url
        await hooks.delete(webhook.webhook_id)
