"""Prometheus metrics: per-method calls by status code, latency, calls in flight, and the
database pool's usage; exported over HTTP on `ROOMS_METRICS_ADDRESS`, which also serves
the JSON Web Key Set of rooms' credentials at `/.well-known/jwks.json`.

The metric objects live in the process-wide default registry (one set per process). With
`ROOMS_WORKERS=N` the parent sets `PROMETHEUS_MULTIPROC_DIR` for its workers
(prometheus-client's multiprocess mode): each worker writes its figures to files there,
and the parent alone serves them, summed over the workers, on the one metrics address.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import asyncpg
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger(__name__)

CALLS = Counter(
    "rooms_grpc_calls",
    "Finished gRPC calls by method and status code.",
    ["method", "code"],
)
LATENCY = Histogram(
    "rooms_grpc_call_duration_seconds",
    "Time from the call reaching the service to its answer, by method.",
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Set (by the parent of ROOMS_WORKERS=N) before this module is imported: a worker.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

IN_FLIGHT = Gauge(
    "rooms_grpc_calls_in_flight",
    "Calls being handled now.",
    ["method"],
    multiprocess_mode="livesum",
)


class _PoolCollector(Collector):
    """Reads the size of every live pool at scrape time (no cost per call)."""

    def __init__(self) -> None:
        # asyncpg pools take no weak references: closed pools are dropped instead.
        self._pools: list[asyncpg.Pool] = []

    def _live(self) -> list[asyncpg.Pool]:
        self._pools = [pool for pool in self._pools if not pool.is_closing()]
        return self._pools

    def add(self, pool: asyncpg.Pool) -> None:
        self._live().append(pool)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        pools = list(self._live())
        size = sum(pool.get_size() for pool in pools)
        idle = sum(pool.get_idle_size() for pool in pools)
        maximum = sum(pool.get_max_size() for pool in pools)
        yield GaugeMetricFamily(
            "rooms_db_pool_connections", "Open database connections in the pool.", value=size
        )
        yield GaugeMetricFamily(
            "rooms_db_pool_connections_in_use",
            "Database connections lent to a call now.",
            value=size - idle,
        )
        yield GaugeMetricFamily(
            "rooms_db_pool_connections_max", "The pool's connection limit.", value=maximum
        )


_POOLS = _PoolCollector()
if MULTIPROCESS:
    # A worker cannot be asked at scrape time: it publishes its pools' figures every
    # second into gauges that the parent sums over the live workers.
    _POOL_GAUGES = {
        family.name: Gauge(family.name, family.documentation, multiprocess_mode="livesum")
        for family in _POOLS.collect()
    }
else:
    REGISTRY.register(_POOLS)


def observe_pool(pool: asyncpg.Pool) -> None:
    """Report this pool's usage in the `rooms_db_pool_*` gauges."""
    _POOLS.add(pool)


async def publish_pools(interval: float = 1.0) -> None:
    """In a worker of ROOMS_WORKERS=N: keep the pool gauges current (runs until cancelled)."""
    while True:
        for family in _POOLS.collect():
            _POOL_GAUGES[family.name].set(family.samples[0].value)
        await asyncio.sleep(interval)


def start_multiprocess_exporter(address: str, directory: str) -> MetricsExporter:
    """In the parent of ROOMS_WORKERS=N: serve every worker's metrics, from `directory`."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    exporter = _serve(address, registry, _published_jwks(directory))
    host = split_address(address)[0]
    log.info("metrics of all workers on http://%s:%d/metrics", host, exporter.port)
    return exporter


def worker_exited(pid: int, directory: str) -> None:
    """Forget a dead worker's live gauges (its counters stay in the sums)."""
    multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


@dataclass
class MetricsExporter:
    """The HTTP endpoint serving /metrics; `stop()` closes it."""

    server: WSGIServer
    thread: threading.Thread
    port: int

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def split_address(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:9100`) into its parts."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"metrics address must be host:port, got {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


JWKS_PATH = "/.well-known/jwks.json"
# With ROOMS_WORKERS=N, each worker writes the JWKS here in the shared metrics
# directory (every worker reads the same keys), and the parent serves it.
JWKS_FILE = "jwks.json"


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _app(
    registry: CollectorRegistry, jwks: Callable[[], str | None] | None
) -> Callable[..., Iterable[bytes]]:
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == JWKS_PATH and jwks is not None:
            text = jwks()
            if text is None:
                start_response("503 Service Unavailable", [("Content-Length", "0")])
                return [b""]
            body = text.encode()
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "max-age=60"),
                ],
            )
            return [body]
        result: Iterable[bytes] = metrics_app(environ, start_response)
        return result

    return app


def _serve(
    address: str, registry: CollectorRegistry, jwks: Callable[[], str | None] | None
) -> MetricsExporter:
    host, port = split_address(address)

    class Server(ThreadingWSGIServer):
        address_family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    server = make_server(host, port, _app(registry, jwks), Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return MetricsExporter(server, thread, server.server_port)


def start_exporter(address: str, jwks: Callable[[], str] | None = None) -> MetricsExporter | None:
    """Serve /metrics (and, given `jwks`, /.well-known/jwks.json) on `address`; None
    when `address` is empty or this process is a worker of ROOMS_WORKERS=N (whose
    parent serves the metrics of all workers, and the JWKS the workers publish)."""
    if not address or MULTIPROCESS:
        return None
    exporter = _serve(address, REGISTRY, jwks)
    log.info("metrics on http://%s:%d/metrics", split_address(address)[0], exporter.port)
    return exporter


def publish_jwks(text: str) -> None:
    """In a worker of ROOMS_WORKERS=N: hand the current JWKS to the parent (atomically)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = os.path.join(directory, JWKS_FILE)
    temporary = f"{path}.{os.getpid()}"
    with open(temporary, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def _published_jwks(directory: str) -> Callable[[], str | None]:
    def read() -> str | None:
        try:
            with open(os.path.join(directory, JWKS_FILE)) as file:
                return file.read()
        except FileNotFoundError:
            return None

    return read
