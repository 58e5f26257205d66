"""A rooms server driving the session's Janus, for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from service.domain.clock import ManualClock
from tests.conftest import ServerFactory
from tests.janus.drive.deployment import Deployment, deploy
from tests.janus.harness import JanusServer


@pytest.fixture
async def rooms_and_janus(
    start: ServerFactory, janus: JanusServer, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Deployment]:
    async for deployment in deploy(start, janus, tmp_path, clock):
        yield deployment
