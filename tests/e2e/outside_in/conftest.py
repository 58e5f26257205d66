"""One server with two tenants (one key each) for the whole package; plain http
webhooks allowed to the IPv4 loopback only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from rooms.v1 import credentials_service_pb2_grpc as cs_grpc

from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.e2e.outside_in.callers import Caller, Two
from tests.shared.calls import bearer, connect


@pytest.fixture(scope="package")
async def two(start: ServerFactory) -> AsyncIterator[Two]:
    suffix = uuid.uuid4().hex[:8]
    key_a, entry_a = new_key(f"outside-a-{suffix}", "k")
    key_b, entry_b = new_key(f"outside-b-{suffix}", "k")
    running = await start(
        api_keys=f"{entry_a.line()},{entry_b.line()}",
        # Only the IPv4 loopback: "localhost" and "[::1]" are not allowed plain http.
        webhook_allowed_http_hosts="127.0.0.1",
    )
    async with connect(running.port) as stubs:

        def caller(key: str) -> Caller:
            return Caller(
                stubs.rooms,
                stubs.participants,
                stubs.webhooks,
                cs_grpc.CredentialsServiceStub(stubs.channel),
                bearer(key),
            )

        yield Two(caller(key_a), caller(key_b), running.port, running)
