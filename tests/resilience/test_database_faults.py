"""The server against a PostgreSQL that goes away under load and comes back, and a
graceful shutdown under load. Bounded loops only; no timing assertions: "fails fast"
means the call answers UNAVAILABLE well inside its deadline instead of running into it."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs

from service.config import Settings
from service.observability import metrics
from service.server import RunningServer, start_server
from tests.resilience.conftest import OwnedPostgres
from tests.shared.calls import connect
from tests.shared.errors import rich_error
from tests.shared.waiting import eventually

pytestmark = pytest.mark.processes

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
CALL_TIMEOUT = 8.0  # far above the fail-fast answer; reaching it is a failure


async def _start(dsn: str) -> RunningServer:
    settings = Settings(
        _env_file=None,
        health_check_interval_seconds=0.2,
        shutdown_grace_seconds=5,
        db_command_timeout_seconds=5,
        access_log="errors",
    )
    return await start_server(settings, dsn, address="127.0.0.1:0")


@dataclass
class Load:
    """Writers creating rooms with unique ids; what was acknowledged and what failed."""

    rooms: Any
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    acknowledged: list[str] = field(default_factory=list)
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def writer(self, max_calls: int) -> None:
        for _ in range(max_calls):  # bounded; `stop` ends it sooner
            if self.stop.is_set():
                return
            room_id = f"{self.tag}-{next(self._ids)}"
            try:
                await self.rooms.CreateRoom(
                    rs.CreateRoomRequest(room_id=room_id, request_id=room_id),
                    timeout=CALL_TIMEOUT,
                )
            except grpc.aio.AioRpcError as error:
                self.failures[(error.code().name, _reason(error))] += 1
                await asyncio.sleep(0.02)
            else:
                self.acknowledged.append(room_id)


def _reason(error: grpc.aio.AioRpcError) -> str:
    try:
        return rich_error(error).reason
    except AssertionError:  # no ErrorInfo: refused by gRPC itself
        return "-"


async def _health(channel: grpc.aio.Channel) -> int:
    stub: Any = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT)
    status: int = response.status
    return status


async def _wait_for_health(channel: grpc.aio.Channel, wanted: int, attempts: int = 300) -> None:
    for _ in range(attempts):  # at most ~30 s
        if await _health(channel) == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"health never became {wanted}")


async def _missing(dsn: str, room_ids: list[str]) -> set[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT room_id FROM rooms WHERE room_id = ANY($1::text[])", room_ids
        )
    finally:
        await connection.close()
    return set(room_ids) - {row["room_id"] for row in rows}


async def test_a_database_restart_under_load_fails_fast_and_recovers_by_itself(
    owned_postgres: OwnedPostgres,
) -> None:
    running = await _start(owned_postgres.dsn)
    try:
        async with connect(running.port) as stubs:
            rooms = stubs.rooms
            load = Load(rooms)
            writers = [asyncio.create_task(load.writer(5_000)) for _ in range(8)]
            try:
                await eventually(lambda: bool(load.acknowledged), what="a write")
                before_fault = len(load.acknowledged)

                await asyncio.to_thread(owned_postgres.stop)
                await _wait_for_health(stubs.channel, NOT_SERVING)
                # While the database is down, calls answer UNAVAILABLE at once.
                for _ in range(5):
                    try:
                        await rooms.GetRoom(
                            rs.GetRoomRequest(room_id=load.acknowledged[0]), timeout=CALL_TIMEOUT
                        )
                    except grpc.aio.AioRpcError as error:
                        assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                        unavailable = rich_error(error)
                        assert unavailable.reason == "DATABASE_UNAVAILABLE"
                        assert unavailable.retry_delay_seconds == 1, "with a RetryInfo"
                    else:
                        raise AssertionError("a read succeeded with the database down")
                down = sum(load.failures.values())
                assert down > 0, "the writers saw no failure while the database was down"

                await asyncio.to_thread(owned_postgres.start)
                await _wait_for_health(stubs.channel, SERVING)
                # The writers recover without any help: wait for new acknowledgements.
                after_restart = len(load.acknowledged)
                for _ in range(300):
                    if len(load.acknowledged) > after_restart + 20:
                        break
                    await asyncio.sleep(0.1)
                assert len(load.acknowledged) > after_restart + 20, load.failures
            finally:
                load.stop.set()
                await asyncio.gather(*writers)
            got = await rooms.GetRoom(rs.GetRoomRequest(room_id=load.acknowledged[-1]))
            assert got.room_id == load.acknowledged[-1]
    finally:
        await running.stop(0)
    # Every failure was the documented retryable one: never INTERNAL, UNKNOWN or a hang.
    assert set(load.failures) <= {("UNAVAILABLE", "DATABASE_UNAVAILABLE")}, load.failures
    assert before_fault > 0
    # Every acknowledged write, before and after the restart, is there.
    assert await _missing(owned_postgres.dsn, load.acknowledged) == set()


_CODES = [code.name for code in grpc.StatusCode if code != grpc.StatusCode.OK]


def _server_side(code: str) -> float:
    total = 0.0
    for family in metrics.CALLS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels["code"] == code:
                total += sample.value
    return total


def _in_flight() -> float:
    """CreateRoom calls being handled now, by the server's own gauge."""
    return sum(
        sample.value
        for family in metrics.IN_FLIGHT.collect()
        for sample in family.samples
        if sample.labels["method"] == "/rooms.v1.RoomsService/CreateRoom"
    )


async def test_graceful_shutdown_under_load_loses_nothing_acknowledged(
    owned_postgres: OwnedPostgres,
) -> None:
    running = await _start(owned_postgres.dsn)
    codes_before = {code: _server_side(code) for code in _CODES}
    async with connect(running.port) as stubs:
        rooms = stubs.rooms
        load = Load(rooms)
        writers = [asyncio.create_task(load.writer(5_000)) for _ in range(16)]
        try:
            for _ in range(100):  # wait until calls are in flight, at most ~10 s
                if len(load.acknowledged) > 20 and _in_flight() > 0:
                    break
                await asyncio.sleep(0.1)
            assert _in_flight() > 0
            await running.stop(grace=5)
            stopped_at = len(load.acknowledged) + sum(load.failures.values())
            # New calls are refused once the server has stopped.
            for _ in range(50):
                if sum(load.failures.values()) > 0:
                    break
                await asyncio.sleep(0.1)
        finally:
            load.stop.set()
            await asyncio.gather(*writers)
    assert stopped_at > 0
    # Every call that reached the service, including those in flight when the shutdown
    # began, finished OK: none was cancelled or failed (the server's own count), except
    # those that arrived during the shutdown, refused UNAVAILABLE (SHUTTING_DOWN)...
    server_side = {code: _server_side(code) - codes_before[code] for code in _CODES}
    server_side.pop("UNAVAILABLE", None)
    assert server_side == dict.fromkeys(server_side, 0.0)
    # ...and the calls after it were refused, by the service (SHUTTING_DOWN) or by gRPC
    # once it stopped: UNAVAILABLE, or CANCELLED for a stream that raced the closing
    # connection.
    assert load.failures, "no call was refused after the shutdown"
    assert {code for code, _ in load.failures} <= {"UNAVAILABLE", "CANCELLED"}, load.failures
    assert {reason for _, reason in load.failures} <= {"-", "SHUTTING_DOWN"}, load.failures
    assert await _missing(owned_postgres.dsn, load.acknowledged) == set()
