"""`ROOMS_WORKERS=2`: two server processes on one port, each with its own metrics port,
both answering, and all of them stopping cleanly on SIGTERM to the parent."""

from __future__ import annotations

import asyncio
import signal
import urllib.request
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import rooms_service_pb2 as rs
from rooms.v1 import rooms_service_pb2_grpc

from tests.processes import free_port, spawn_server


def _calls(url: str) -> float:
    """How many GetRoom calls the worker exporting `url` answered NOT_FOUND."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    calls = 0.0
    for line in text.splitlines():
        if line.startswith('rooms_grpc_calls_total{code="NOT_FOUND",method="/rooms.v1.RoomsSe'):
            calls += float(line.split()[1])
    return calls


async def test_two_workers_share_one_port_and_stop_together(database_url: str) -> None:
    port, metrics_port = free_port(), free_port()
    process = await spawn_server(
        database_url,
        port,
        ROOMS_METRICS_ADDRESS=f"127.0.0.1:{metrics_port}",
        ROOMS_WORKERS="2",
        ROOMS_ACCESS_LOG="off",
    )
    try:
        urls = [f"http://127.0.0.1:{metrics_port + i}/metrics" for i in range(2)]
        for url in urls:  # each worker exports its own metrics once it is up
            for _ in range(300):
                try:
                    await asyncio.to_thread(_calls, url)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
        # Separate connections are spread over the workers by the kernel.
        for _ in range(20):
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
            seen = [await asyncio.to_thread(_calls, url) for url in urls]
            if all(calls > 0 for calls in seen):
                break
        assert all(calls > 0 for calls in seen), seen
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()
    assert output.decode().count("stopped") >= 3  # two workers and the parent
