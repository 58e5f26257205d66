"""The seat tests' client: the real generated client on the session's server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from rooms.client import RoomsClient

from service.server import RunningServer


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RoomsClient]:
    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        yield client
