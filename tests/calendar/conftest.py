"""One server with two tenants and the calendar feed server, for the whole package."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import pytest
from multidict import CIMultiDict
from rooms.v1 import (
    calendar_service_pb2_grpc,
    participants_service_pb2_grpc,
    rooms_service_pb2_grpc,
    webhooks_service_pb2_grpc,
)

from service.security.keys import new_key
from service.server import RunningServer
from tests.conftest import ServerFactory
from tests.shared.calls import Metadata, bearer


@dataclass(frozen=True)
class Side:
    """One tenant's view: its name, call metadata and stubs."""

    tenant: str
    auth: Metadata
    # The async stubs (their precise types exist for type checkers only).
    rooms: Any
    calendar: Any
    participants: Any
    webhooks: Any


@dataclass(frozen=True)
class Calendar:
    running: RunningServer
    a: Side
    b: Side
    http: aiohttp.ClientSession

    async def get(self, url: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
        """Status, headers (case-insensitive) and body of a GET."""
        async with self.http.get(url, headers=headers) as response:
            return response.status, CIMultiDict(response.headers), await response.read()


@pytest.fixture(scope="package")
async def cal(start: ServerFactory) -> AsyncIterator[Calendar]:
    suffix = uuid.uuid4().hex[:8]
    made = {letter: new_key(f"cal-{letter}-{suffix}", "k1") for letter in "ab"}
    running = await start(
        api_keys=",".join(entry.line() for _, entry in made.values()),
        http_listen_address="127.0.0.1:0",
        webhook_allowed_http_hosts="127.0.0.1",
    )
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
        aiohttp.ClientSession() as http,
    ):
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        calendar = calendar_service_pb2_grpc.CalendarServiceStub(channel)
        people = participants_service_pb2_grpc.ParticipantsServiceStub(channel)
        hooks = webhooks_service_pb2_grpc.WebhooksServiceStub(channel)
        a, b = (
            Side(entry.caller.tenant, bearer(key), rooms, calendar, people, hooks)
            for key, entry in made.values()
        )
        yield Calendar(running, a, b, http)
    await running.stop(0)
