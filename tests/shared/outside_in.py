"""Two tenants as the outside-in tests see them (the `two` fixture: one server with one
key per tenant for each test module; plain http webhooks allowed to the IPv4 loopback
only), and what every refusal must be: a precise status with an ErrorInfo of the
`rooms.v1` domain, and no error logged. A plugin of tests/conftest.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from rooms.v1 import credentials_service_pb2_grpc as cs_grpc
from rooms.v1 import participant_pb2 as pp
from rooms.v1 import room_pb2
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import webhooks_service_pb2 as ws

from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory
from tests.shared.calls import bearer, connect, unique
from tests.shared.errors import LoggedErrors, RichError, rich_error

Code = grpc.StatusCode
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)


@dataclass
class Caller:
    rooms: Any
    participants: Any
    webhooks: Any
    credentials: Any
    metadata: tuple[tuple[str, str], ...]


@dataclass
class Two:
    a: Caller
    b: Caller
    port: int
    running: RunningServer


async def refused(call: Awaitable[Any], code: Code = Code.INVALID_ARGUMENT) -> RichError:
    """The call fails with `code` and an ErrorInfo of our domain."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        rich = rich_error(error)
    else:
        raise AssertionError("the call succeeded")
    assert rich.code == code, rich
    assert rich.domain == "rooms.v1", rich
    assert rich.reason, rich
    return rich


def no_errors(server_errors: LoggedErrors) -> None:
    assert not server_errors.records, [r.getMessage() for r in server_errors.records]


async def open_room(caller: Caller, **settings: Any) -> str:
    room_id = unique("outside")
    await caller.rooms.CreateRoom(
        rs.CreateRoomRequest(
            room_id=room_id,
            room=room_pb2.Room(join_policy=room_pb2.JOIN_POLICY_OPEN, **settings),
            participants=[pp.Participant(user_id="host", role=pp.ROLE_PRESENTER)],
        ),
        metadata=caller.metadata,
    )
    return room_id


async def delete_webhooks(caller: Caller, *, but: str = "") -> None:
    """Delete every webhook of `caller` (but the one named), so that the delivery passes
    of later tests deliver nothing of it."""
    listed = await caller.webhooks.ListWebhooks(ws.ListWebhooksRequest(), metadata=caller.metadata)
    for hook in listed.webhooks:
        if hook.webhook_id != but:
            await caller.webhooks.DeleteWebhook(
                ws.DeleteWebhookRequest(webhook_id=hook.webhook_id), metadata=caller.metadata
            )


@pytest.fixture(scope="module")
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
