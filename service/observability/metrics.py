"""Prometheus metrics: per-method calls by status code, latency, calls in flight, and the
database pool's usage; exported over HTTP on `ROOMS_METRICS_ADDRESS`, which also serves
the JSON Web Key Set of rooms' credentials at `/.well-known/jwks.json`.

The metric objects live in the process-wide default registry (one set per process). With
`ROOMS_WORKERS=N` every worker process exports its own figures, worker `i` on the
configured port + `i`, so a scraper sees each process.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import asyncpg
from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app
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
IN_FLIGHT = Gauge("rooms_grpc_calls_in_flight", "Calls being handled now.", ["method"])


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
REGISTRY.register(_POOLS)


def observe_pool(pool: asyncpg.Pool) -> None:
    """Report this pool's usage in the `rooms_db_pool_*` gauges."""
    _POOLS.add(pool)


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


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _app(jwks: Callable[[], str] | None) -> Callable[..., Iterable[bytes]]:
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == JWKS_PATH and jwks is not None:
            body = jwks().encode()
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


def start_exporter(
    address: str, worker: int = 0, jwks: Callable[[], str] | None = None
) -> MetricsExporter | None:
    """Serve /metrics (and, given `jwks`, /.well-known/jwks.json) on `address` (its
    port + `worker`); None when `address` is empty."""
    if not address:
        return None
    host, port = split_address(address)
    if port:
        port += worker

    class Server(ThreadingWSGIServer):
        address_family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    server = make_server(host, port, _app(jwks), Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bound: int = server.server_port
    log.info("metrics on http://%s:%d/metrics", host, bound)
    return MetricsExporter(server, thread, bound)
