"""The participants tests' second server, with a small roster and a small batch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import ServerFactory
from tests.participants.roster import SMALL_BATCH, SMALL_ROSTER
from tests.shared.calls import People, Rooms, connect


@pytest.fixture(scope="module")
async def small(start: ServerFactory) -> AsyncIterator[tuple[Rooms, People]]:
    """A second server whose roster holds 3 identities and whose batches hold 2."""
    running = await start(max_roster_size=SMALL_ROSTER, max_batch_size=SMALL_BATCH)
    async with connect(running.port) as stubs:
        yield stubs.rooms, stubs.participants
