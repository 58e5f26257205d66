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
from support.database import ROOT, admin_dsn, scratch_database
from tests.shared.budget import BUDGET, ConnectionSampler, shortfall
from tests.shared.started import POOL_MAX, POOL_MIN, StartedServers

if TYPE_CHECKING:  # the async stub types exist for type checkers only
    from rooms.v1.participants_service_pb2_grpc import ParticipantsServiceAsyncStub
    from rooms.v1.rooms_service_pb2_grpc import RoomsServiceAsyncStub

# Fixtures every feature folder may use (modules of their own, loaded as plugins).
pytest_plugins = ["tests.shared.fixtures", "tests.shared.outside_in"]

# Tests run at a fixed instant; a test moves the clock instead of sleeping.
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    return "rooms: database chosen at session start (see support/database.py)"


_sampler: ConnectionSampler | None = None


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    global _sampler
    # Each pytest-xdist worker has an embedded server of its own (when it comes to that),
    # as it has a stock cluster of its own: the workers never share a server's limit.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    embedded = ROOT / ".data" / (f"test-{worker}" if worker else "test")
    with admin_dsn(embedded_dir=embedded) as (dsn, source):
        print(f"\n[rooms tests] PostgreSQL from: {source}")
        problem = shortfall(dsn, source)
        if problem:
            pytest.exit(problem, returncode=3)
        _sampler = ConnectionSampler(dsn)
        _sampler.start()
        try:
            yield dsn
        finally:
            _sampler.stop()


# The peaks each process of the run measured: this one's, and with pytest-xdist
# (`make test` runs two workers) each worker's, sent to the controller at its end.
_peaks: list[int] = []


def pytest_testnodedown(node: Any, error: object) -> None:
    peak = getattr(node, "workeroutput", {}).get("rooms_connections")
    if peak is not None:
        _peaks.append(int(peak))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    peaks = _peaks + ([_sampler.used] if _sampler is not None else [])
    if peaks:
        terminalreporter.write_line(
            f"rooms: at most {max(peaks)} database connections at once on one server"
            f" (budget {BUDGET}, a stock PostgreSQL allows 100)"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _sampler is not None and hasattr(session.config, "workeroutput"):
        session.config.workeroutput["rooms_connections"] = _sampler.used
    report = os.environ.get("ROOMS_TEST_CONNECTIONS_REPORT")  # a file for the peak's makeup
    if _sampler is not None and report:
        with open(report, "a") as out:
            out.write(f"peak {_sampler.used} in {_sampler.peak_test}: {_sampler.at_peak}\n")
    peaks = _peaks + ([_sampler.used] if _sampler is not None else [])
    if peaks and max(peaks) > BUDGET and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
        " knocks, seats, seat_counts, delivery_cursors, membership_epochs"
    )


ServerFactory = Callable[..., Awaitable[RunningServer]]

TEST_POOL = {"db_pool_min_size": POOL_MIN, "db_pool_max_size": POOL_MAX}


@pytest.fixture(scope="session")
def started_servers() -> StartedServers:
    return StartedServers()


@pytest.fixture(scope="module", autouse=True)
async def _stop_module_servers(started_servers: StartedServers) -> AsyncIterator[None]:
    yield
    await started_servers.stop("module", "class")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Only a coroutine test can start a server; a synchronous one is left without an
    # async fixture of ours (which would leave it no event loop of its own).
    for item in items:
        if item.get_closest_marker("asyncio") is not None:
            item.fixturenames.insert(0, "_stop_test_servers")  # type: ignore[attr-defined]


@pytest.fixture
async def _stop_test_servers(started_servers: StartedServers) -> AsyncIterator[None]:
    yield
    await started_servers.stop("function")


@pytest.fixture(scope="session")
async def start(
    database_url: str, clock: ManualClock, started_servers: StartedServers
) -> AsyncIterator[ServerFactory]:
    """Start a real server on an ephemeral port; settings overridable by keyword. It
    stops at the end of the test, module or session whose fixture started it."""

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
                **TEST_POOL,
                **overrides,
            },
        )
        address = None if "listen_address" in overrides else "127.0.0.1:0"
        running = await start_server(settings, database_url, clock=clock, address=address)
        started_servers.add(running)
        return running

    yield factory
    await started_servers.stop()


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
