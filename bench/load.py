"""A multi-process gRPC load generator: closed loops at a fixed number of calls in
flight, or an open loop at a fixed rate. Requests are serialized up front and responses
left undecoded, so the client spends as little CPU as a Python client can; every loop is
bounded by a duration and a call count. Only loopback targets are accepted."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from array import array
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import grpc

LOOPBACK = ("127.0.0.1:", "localhost:", "[::1]:")
CALL_TIMEOUT = 10.0


def _check_target(target: str) -> None:
    if not target.startswith(LOOPBACK):
        raise ValueError(f"the load generator targets loopback only, not {target!r}")


@dataclass
class Result:
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    elapsed: float = 0.0
    acknowledged: list[bytes] = field(default_factory=list)

    def merge(self, other: Result) -> None:
        self.ok += other.ok
        self.errors.update(other.errors)
        self.latencies.extend(other.latencies)
        self.elapsed = max(self.elapsed, other.elapsed)
        self.acknowledged.extend(other.acknowledged)


async def _timed(stub: Any, body: bytes, result: Result) -> bool:
    """One call, counted in `result`: its latency if it succeeds, its code if not."""
    t0 = time.perf_counter()
    try:
        await stub(body, timeout=CALL_TIMEOUT)
    except grpc.aio.AioRpcError as error:
        result.errors[error.code().name] += 1
        return False
    result.latencies.append(time.perf_counter() - t0)
    result.ok += 1
    return True


def _channels(target: str, count: int) -> list[grpc.aio.Channel]:
    # A local subchannel pool gives every channel its own TCP connection, so that
    # SO_REUSEPORT can spread them over the server's worker processes.
    return [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(count)
    ]


async def _closed_loop(
    target: str,
    method: str,
    bodies: list[bytes],
    in_flight: int,
    connections: int,
    start_at: float,
    duration: float,
    max_calls: int,
) -> Result:
    channels = _channels(target, connections)
    stubs: list[Any] = [ch.unary_unary(method) for ch in channels]  # bytes in, bytes out
    result = Result()
    for stub in stubs:  # connect and warm up before the clock starts
        await stub(bodies[0], timeout=CALL_TIMEOUT)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    began = time.perf_counter()
    end = began + duration
    budget = itertools.count()

    async def loop(index: int) -> None:
        stub = stubs[index % len(stubs)]
        rng = random.Random(index)
        while time.perf_counter() < end and next(budget) < max_calls:
            await _timed(stub, bodies[rng.randrange(len(bodies))], result)

    await asyncio.gather(*(loop(i) for i in range(in_flight)))
    result.elapsed = time.perf_counter() - began
    for channel in channels:
        await channel.close()
    return result


def _run_closed(args: tuple[Any, ...]) -> Result:
    import uvloop

    return uvloop.run(_closed_loop(*args))


@dataclass(frozen=True)
class Mixed:
    """One kind of call in an open-loop mix: a method, its weight, its request bodies.
    `acknowledge` keeps the bodies of the calls that succeeded (to check them later)."""

    method: str
    weight: int
    bodies: tuple[bytes, ...]
    acknowledge: bool = False


async def _open_loop(
    target: str,
    mix: list[Mixed],
    rate: float,
    connections: int,
    start_at: float,
    duration: float,
    seed: int,
) -> dict[str, Result]:
    channels = _channels(target, connections)
    stubs: dict[str, list[Any]] = {
        m.method: [ch.unary_unary(m.method) for ch in channels] for m in mix
    }
    results = {m.method: Result() for m in mix}
    choices = [m for m in mix for _ in range(m.weight)]
    rng = random.Random(seed)
    for channel in channels:
        await channel.channel_ready()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    began = time.perf_counter()
    tasks: set[asyncio.Task[None]] = set()

    async def call(kind: Mixed, body: bytes, n: int) -> None:
        result = results[kind.method]
        if await _timed(stubs[kind.method][n % len(channels)], body, result) and kind.acknowledge:
            result.acknowledged.append(body)

    total = int(rate * duration)
    used: Counter[str] = Counter()
    for n in range(total):  # bounded: exactly rate x duration calls
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        kind = choices[rng.randrange(len(choices))]
        body = kind.bodies[used[kind.method] % len(kind.bodies)]
        used[kind.method] += 1
        task = asyncio.create_task(call(kind, body, n))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    elapsed = time.perf_counter() - began
    for result in results.values():
        result.elapsed = elapsed
    for channel in channels:
        await channel.close()
    return results


def _run_open(args: tuple[Any, ...]) -> dict[str, Result]:
    import uvloop

    return uvloop.run(_open_loop(*args))


class LoadGenerator:
    """A pool of client processes, reused across measurements."""

    def __init__(self, processes: int = 2) -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(processes, mp_context=get_context("spawn"))

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)

    def closed(
        self,
        target: str,
        method: str,
        bodies: list[bytes],
        in_flight: int,
        duration: float,
        max_calls: int = 2_000_000,
        connections_per_process: int = 4,
    ) -> Result:
        """`in_flight` calls outstanding at all times, for `duration` seconds."""
        _check_target(target)
        processes = 1 if in_flight < self.processes * 4 else self.processes
        start_at = time.time() + 1.0
        futures: list[Future[Result]] = []
        for p in range(processes):
            share = in_flight // processes + (1 if p < in_flight % processes else 0)
            conns = min(connections_per_process, share)
            futures.append(
                self._pool.submit(
                    _run_closed,
                    (
                        target,
                        method,
                        bodies,
                        share,
                        conns,
                        start_at,
                        duration,
                        max_calls // processes,
                    ),
                )
            )
        total = Result()
        for future in futures:
            total.merge(future.result(timeout=duration + 120))
        return total

    def open(
        self,
        target: str,
        mix: list[Mixed],
        rate: float,
        duration: float,
        connections_per_process: int = 2,
    ) -> dict[str, Result]:
        """`rate` calls per second in total, drawn from `mix`, for `duration` seconds."""
        _check_target(target)
        start_at = time.time() + 1.5
        futures = []
        for p in range(self.processes):
            # Each process gets its own slice of the bodies (unique creates stay unique).
            share = [
                Mixed(m.method, m.weight, m.bodies[p :: self.processes] or m.bodies, m.acknowledge)
                for m in mix
            ]
            futures.append(
                self._pool.submit(
                    _run_open,
                    (
                        target,
                        share,
                        rate / self.processes,
                        connections_per_process,
                        start_at,
                        duration,
                        os.getpid() + p,
                    ),
                )
            )
        totals = {m.method: Result() for m in mix}
        for future in futures:
            for method, result in future.result(timeout=duration + 120).items():
                totals[method].merge(result)
        return totals
