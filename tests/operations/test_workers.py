"""`ROOMS_WORKERS=2`: two server processes on one port, both answering, one metrics
endpoint (the parent's) summing both workers, and all of them stopping cleanly on
SIGTERM to the parent."""

from __future__ import annotations

import asyncio
import signal
import urllib.request
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import rooms_service_pb2_grpc

from support.processes import free_port
from tests.shared.processes import TEST_POOL, server_process

pytestmark = pytest.mark.processes


def _scrape(url: str) -> dict[str, float]:
    """The samples of the metrics endpoint, by name with labels."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


NOT_FOUND = 'rooms_grpc_calls_total{code="NOT_FOUND",method="/rooms.v1.RoomsService/GetRoom"}'
POOL_MAX = "rooms_db_pool_connections_max"


async def _scrape_when_up(url: str) -> dict[str, float]:
    for _ in range(600):
        try:
            return await asyncio.to_thread(_scrape, url)
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


async def test_two_workers_share_one_port_and_stop_together(database_url: str) -> None:
    port, metrics_port = free_port(), free_port()
    async with server_process(
        database_url,
        port,
        ROOMS_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}",
        ROOMS_WORKERS="2",
        ROOMS_ACCESS_LOG="off",
    ) as process:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        # Both workers are up once each publishes its pool (the tests' pool size at
        # most) into the one endpoint, which sums the live workers.
        both = 2 * int(TEST_POOL["ROOMS_DB_POOL_MAX_SIZE"])
        for _ in range(600):  # polling another process's endpoint: no event to wait on
            if (await _scrape_when_up(url)).get(POOL_MAX, 0) >= both:
                break
            await asyncio.sleep(0.1)
        # Separate connections are spread over the workers by the kernel.
        calls = 20
        for _ in range(calls):
            options = [("grpc.use_local_subchannel_pool", 1)]
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as ch:
                health: Any = health_pb2_grpc.HealthStub(ch)
                await asyncio.wait_for(ch.channel_ready(), 30)
                status = (await health.Check(health_pb2.HealthCheckRequest(), timeout=10)).status
                assert status == health_pb2.HealthCheckResponse.SERVING
                try:
                    await rooms_service_pb2_grpc.RoomsServiceStub(ch).GetRoom(
                        rs.GetRoomRequest(room_id="absent"), timeout=10
                    )
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.NOT_FOUND
        scraped = await asyncio.to_thread(_scrape, url)
        assert scraped[NOT_FOUND] == calls, "every worker's calls, at one endpoint"
        assert scraped[POOL_MAX] == both
        with pytest.raises(OSError):  # no per-worker endpoints any more
            await asyncio.to_thread(_scrape, f"http://127.0.0.1:{metrics_port + 1}/metrics")
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    assert output.decode().count("stopped") >= 3  # two workers and the parent
