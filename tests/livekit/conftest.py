"""The stand-in LiveKit the push tests talk to, with the admin secret it checks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from service.server import RunningServer
from tests.shared.receivers import FakeLiveKit

SECRET = "lk-secret-that-must-stay-private-0123456789"


@pytest.fixture
async def livekit() -> AsyncIterator[FakeLiveKit]:
    fake = FakeLiveKit(api_key="APIrooms", api_secret=SECRET)
    await fake.start()
    yield fake
    await fake.stop()


async def deliver(running: RunningServer) -> None:
    """Delivery passes until nothing is due (ten at the most)."""
    for _ in range(10):
        if not (await running.delivery.run_once()).claimed:
            break
