"""One server with four tenants (one key each) for the whole package."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from service.security.keys import new_key
from tests.conftest import ServerFactory
from tests.shared.calls import bearer, connect
from tests.tenants.observe import Tenant, Tenants


@pytest.fixture(scope="package")
async def tenants(start: ServerFactory) -> AsyncIterator[Tenants]:
    """One server with four tenants (one key each); tenant names unique to this run."""
    suffix = uuid.uuid4().hex[:8]
    made = {letter: new_key(f"iso-{letter}-{suffix}", "k1") for letter in "abcd"}
    running = await start(api_keys=",".join(entry.line() for _, entry in made.values()))
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        participants = stubs.participants
        by_letter = {
            letter: Tenant(entry.caller.tenant, bearer(key), rooms, participants)
            for letter, (key, entry) in made.items()
        }
        yield Tenants(
            a=by_letter["a"],
            b=by_letter["b"],
            c=by_letter["c"],
            d=by_letter["d"],
            channel=stubs.channel,
            keys={letter: key for letter, (key, _) in made.items()},
        )
    await running.stop(0)
