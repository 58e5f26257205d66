"""The distribution tests' server: a real server whose pool records every statement
(tests/shared/statements.py), with two tenants' keys."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

import service.database
from service.security.keys import new_key
from service.server import RunningServer
from service.storage.db import create_pool
from tests.conftest import ServerFactory
from tests.shared.statements import StatementLog

if TYPE_CHECKING:
    pass


@pytest.fixture
async def recording(
    start: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[RunningServer, StatementLog, dict[str, str]]]:
    """A real server whose pool records every statement, with two tenants' keys."""
    log = StatementLog()
    monkeypatch.setattr(
        service.database,
        "create_pool",
        functools.partial(create_pool, connection_class=log.connection_class()),
    )
    keys = {}
    lines = []
    for tenant in ("tenant-a", "tenant-b"):
        key, entry = new_key(tenant, "caller")
        keys[tenant] = key
        lines.append(entry.line())
    running = await start(api_keys=",".join(lines), lifecycle_batch_size=3)
    yield running, log, keys
    await running.stop(0)
