"""Shared fixtures: one real PostgreSQL database per run, a real server on an
ephemeral port with a controllable clock, and the generated client stubs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import grpc
import pytest
from rooms.v1 import participants_service_pb2_grpc, rooms_service_pb2_grpc

from service.config import Settings
from service.domain.clock import ManualClock
from service.server import RunningServer, start_server
from service.storage.db import create_pool, migrate
from support import citus
from tests.database import admin_dsn, scratch_database

if TYPE_CHECKING:  # the async stub types exist for type checkers only
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

# Tests run at a fixed instant; a test moves the clock instead of sleeping.
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    return "rooms: database chosen at session start (see tests/database.py)"


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    with admin_dsn() as (dsn, source):
        print(f"\n[rooms tests] PostgreSQL from: {source}")
        yield dsn


@pytest.fixture(scope="session")
async def database_url(admin_url: str) -> AsyncIterator[str]:
    """This run's own database, migrated; dropped at the end of the run. On a Citus
    cluster (ROOMS_TEST_CITUS=1, `make test-citus`): on every node, and distributed by
    the SQL block of docs/scaling.md once migrated, as an operator does."""
    on_citus = os.environ.get("ROOMS_TEST_CITUS") == "1"
    scratch = citus.citus_scratch_database(admin_url) if on_citus else scratch_database(admin_url)
    async with scratch as dsn:
        connection = await asyncpg.connect(dsn)
        try:
            await migrate(connection)
        finally:
            await connection.close()
        if on_citus:
            await citus.distribute_as_documented(dsn, admin_url)
        yield dsn


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(autouse=True)
def _reset_clock(clock: ManualClock) -> None:
    clock.set(T0)


@pytest.fixture
async def clean(pool: asyncpg.Pool) -> None:
    """Start the test with no rooms at all."""
    await pool.execute(
        "TRUNCATE rooms, participants, room_events, idempotency_keys, participant_removals,"
        " knocks, seats, delivery_cursors, membership_epochs"
    )


ServerFactory = Callable[..., Awaitable[RunningServer]]


@pytest.fixture(scope="session")
async def start(database_url: str, clock: ManualClock) -> AsyncIterator[ServerFactory]:
    """Start a real server on an ephemeral port; settings overridable by keyword."""
    started: list[RunningServer] = []

    async def factory(**overrides: Any) -> RunningServer:
        settings = Settings(
            _env_file=None,
            **{
                "health_check_interval_seconds": 0.2,
                "shutdown_grace_seconds": 2,
                # Tests run lifecycle passes themselves (running.lifecycle.run_once()),
                # and delivery passes too (running.delivery.run_once()).
                "lifecycle_interval_seconds": 0,
                "delivery_poll_seconds": 0,
                **overrides,
            },
        )
        address = None if "listen_address" in overrides else "127.0.0.1:0"
        running = await start_server(settings, database_url, clock=clock, address=address)
        started.append(running)
        return running

    yield factory
    for running in started:
        await running.stop(0)


@pytest.fixture(scope="session")
async def server(start: ServerFactory) -> RunningServer:
    return await start()


@pytest.fixture(scope="session")
async def channel(server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel


@pytest.fixture(scope="session")
def rooms(channel: grpc.aio.Channel) -> RoomsServiceAsyncStub:
    return rooms_service_pb2_grpc.RoomsServiceStub(channel)


@pytest.fixture(scope="session")
def participants(
    channel: grpc.aio.Channel,
) -> ParticipantsServiceAsyncStub:
    return participants_service_pb2_grpc.ParticipantsServiceStub(channel)
