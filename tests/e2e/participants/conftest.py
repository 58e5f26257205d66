"""The participants tests' second server, with a small roster and a small batch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from rooms.v1 import participants_service_pb2_grpc, rooms_service_pb2_grpc

from tests.conftest import ServerFactory
from tests.e2e.participants.roster import SMALL_BATCH, SMALL_ROSTER
from tests.helpers import People, Rooms


@pytest.fixture(scope="module")
async def small(start: ServerFactory) -> AsyncIterator[tuple[Rooms, People]]:
    """A second server whose roster holds 3 identities and whose batches hold 2."""
    running = await start(max_roster_size=SMALL_ROSTER, max_batch_size=SMALL_BATCH)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield (
            rooms_service_pb2_grpc.RoomsServiceStub(channel),
            participants_service_pb2_grpc.ParticipantsServiceStub(channel),
        )
