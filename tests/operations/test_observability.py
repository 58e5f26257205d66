"""Metrics and structured logs of a real server: every call counted by method and
status (refused ones too, and streams), timed, logged with a request id, never a key."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY, generate_latest
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import rooms_service_pb2_grpc

from service.observability import metrics
from service.observability.logging import configure
from service.security.keys import new_key
from tests.conftest import ServerFactory

GET_ROOM = "/rooms.v1.RoomsService/GetRoom"
CREATE = "/rooms.v1.RoomsService/CreateRoom"
WATCH = "/grpc.health.v1.Health/Watch"


def calls(method: str, code: str) -> float:
    value = REGISTRY.get_sample_value("rooms_grpc_calls_total", {"method": method, "code": code})
    return value or 0.0


def timed(method: str) -> float:
    value = REGISTRY.get_sample_value("rooms_grpc_call_duration_seconds_count", {"method": method})
    return value or 0.0


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, as JSON lines."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure("INFO", "json", stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


async def settled(condition: Callable[[], bool]) -> None:
    """Wait (at most 5 s) for `condition`; the assertion after it tells if it held."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)


def access_lines(log_lines: io.StringIO, request_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The access lines logged so far for `request_ids`, by request id."""
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    return {
        r["request_id"]: r
        for r in records
        if r["logger"] == "rooms.access" and r.get("request_id") in request_ids
    }


async def test_calls_are_counted_by_method_and_status_and_timed(start: ServerFactory) -> None:
    running = await start()
    before = (calls(CREATE, "OK"), calls(GET_ROOM, "NOT_FOUND"), timed(GET_ROOM))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        await rooms.CreateRoom(rs.CreateRoomRequest())
        with pytest.raises(grpc.aio.AioRpcError):
            await rooms.GetRoom(rs.GetRoomRequest(room_id="no-such-room"))
    # The server records a call just after sending its answer: wait for it.
    await settled(lambda: timed(GET_ROOM) == before[2] + 1)
    assert calls(CREATE, "OK") == before[0] + 1
    assert calls(GET_ROOM, "NOT_FOUND") == before[1] + 1
    assert timed(GET_ROOM) == before[2] + 1
    text = generate_latest(REGISTRY).decode()
    for name in (
        "rooms_grpc_calls_in_flight",
        "rooms_db_pool_connections ",
        "rooms_db_pool_connections_in_use",
        "rooms_db_pool_connections_max",
    ):
        assert name in text


async def test_refused_calls_are_counted_and_logged_without_the_key(
    start: ServerFactory, log_lines: io.StringIO
) -> None:
    key, entry = new_key("acme", "billing")
    running = await start(api_keys=entry.line())
    before = calls(GET_ROOM, "UNAUTHENTICATED")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError):
            await rooms.GetRoom(
                rs.GetRoomRequest(room_id="x"),
                metadata=[("authorization", "Bearer not-" + key), ("x-request-id", "refused-1")],
            )
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await rooms.GetRoom(
                rs.GetRoomRequest(room_id="x"),
                metadata=[("authorization", f"Bearer {key}"), ("x-request-id", "call-42")],
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    # The server counts and logs a call just after sending its answer: wait for both
    # access lines, so that neither arrives during the next test.
    await settled(lambda: len(access_lines(log_lines, {"refused-1", "call-42"})) == 2)
    assert calls(GET_ROOM, "UNAUTHENTICATED") == before + 1
    output = log_lines.getvalue()
    assert key not in output and "Bearer" not in output and "authorization" not in output
    access = access_lines(log_lines, {"refused-1", "call-42"})
    assert access["refused-1"]["code"] == "UNAUTHENTICATED"
    call = access["call-42"]
    assert (call["method"], call["code"], call["tenant"], call["key_name"]) == (
        GET_ROOM,
        "NOT_FOUND",
        "acme",
        "billing",
    )
    assert call["duration_ms"] >= 0
    assert call["level"] == "INFO" and call["time"]


async def test_every_call_gets_a_request_id_when_the_caller_sends_none(
    start: ServerFactory, log_lines: io.StringIO
) -> None:
    running = await start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        rooms = rooms_service_pb2_grpc.RoomsServiceStub(channel)
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError):
                await rooms.GetRoom(
                    rs.GetRoomRequest(room_id="absent"), metadata=[("x-request-id", "bad id!")]
                )

    def ids() -> list[str]:
        records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
        return [r["request_id"] for r in records if r.get("method") == GET_ROOM]

    await settled(lambda: len(ids()) >= 2)  # each is logged just after its answer
    assert len(ids()) == 2 and len(set(ids())) == 2 and "bad id!" not in ids()


async def test_server_streams_are_observed_when_they_end(start: ServerFactory) -> None:
    running = await start()
    before = calls(WATCH, "CANCELLED")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()
    # The server notices the cancellation asynchronously.
    await settled(lambda: calls(WATCH, "CANCELLED") > before)
    assert calls(WATCH, "CANCELLED") == before + 1


async def test_the_exporter_serves_metrics_over_http() -> None:
    exporter = metrics.start_exporter("127.0.0.1:0")
    assert exporter is not None
    try:
        url = f"http://127.0.0.1:{exporter.port}/metrics"

        def fetch() -> str:
            with urllib.request.urlopen(url, timeout=10) as response:
                body: bytes = response.read()
                return body.decode()

        assert "rooms_grpc_calls_total" in await asyncio.to_thread(fetch)
    finally:
        exporter.stop()
    assert metrics.start_exporter("") is None
