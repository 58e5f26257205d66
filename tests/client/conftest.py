"""The Python client (`rooms.client.RoomsClient`) on the real server, and the same
server behind a recording proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from rooms.client import RoomsClient

from service.server import RunningServer
from tests.client.proxy import Proxy


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[RoomsClient]:
    async with RoomsClient(f"127.0.0.1:{server.port}") as client:
        yield client


@pytest.fixture
async def proxy(server: RunningServer) -> AsyncIterator[Proxy]:
    async with Proxy(f"127.0.0.1:{server.port}") as proxy:
        yield proxy
