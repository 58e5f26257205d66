"""The webhook tests' fixtures: a server whose caller is a tenant of its own, and a
real HTTP receiver that verifies every signature."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.shared.calls import bearer, connect
from tests.shared.receivers import WebhookReceiver
from tests.webhooks.api import Api

_tenants = iter(range(1_000_000))


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
    async with connect(running.port) as stubs:
        yield Api(running, stubs.rooms, stubs.participants, stubs.webhooks, bearer(key))


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    await receiver.stop()
