"""Real server processes for tests: support/processes.py's `spawn_server` (the
benchmarks use it too) with the tests' small pool, one process that a test drives and
stops itself, and replicas (several processes on one database) until they all serve."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from support.processes import free_port
from support.processes import spawn_server as spawn_any_server
from tests.shared.started import POOL_MAX, POOL_MIN
from tests.shared.waiting import eventually

TEST_POOL = {"ROOMS_DB_POOL_MIN_SIZE": str(POOL_MIN), "ROOMS_DB_POOL_MAX_SIZE": str(POOL_MAX)}


async def spawn_server(
    database_url: str, port: int, *, output: int = asyncio.subprocess.PIPE, **settings: str
) -> asyncio.subprocess.Process:
    """`python -m service` on 127.0.0.1:`port` with the tests' small pool, and more
    `ROOMS_*` settings by keyword (see support/processes.py)."""
    return await spawn_any_server(database_url, port, output=output, **{**TEST_POOL, **settings})


@contextlib.asynccontextmanager
async def server_process(
    database_url: str, port: int, **settings: Any
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`spawn_server(database_url, port, **settings)` for the test to drive and stop;
    killed afterwards if the test left it running."""
    process = await spawn_server(database_url, port, **settings)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def wait_serving(port: int, *, within: float = 60) -> None:
    """Until the server on `port` takes connections and its health says SERVING."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await asyncio.wait_for(channel.channel_ready(), within)
        health: Any = health_pb2_grpc.HealthStub(channel)

        async def serving() -> bool:
            answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
            return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

        await eventually(serving, within=within, what=f"health SERVING on port {port}")


@contextlib.asynccontextmanager
async def replicas(database_url: str, count: int = 2, **settings: str) -> AsyncIterator[list[int]]:
    """`count` server processes on one database (their output discarded), each on its
    own free port and SERVING: their ports. Terminated afterwards."""
    ports = [free_port() for _ in range(count)]
    processes = [
        await spawn_server(database_url, port, output=asyncio.subprocess.DEVNULL, **settings)
        for port in ports
    ]
    try:
        for port in ports:
            await wait_serving(port)
        yield ports
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), 30)
