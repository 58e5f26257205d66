"""The processes a benchmark measures: our server (`python -m service`) and the
references (bench/reference.py) on loopback ports, the CPU and memory they use, and the
PostgreSQL backends that serve them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent

# ---- processes and their CPU ---------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    """A server process (ours or a reference) on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    metrics_url: str | None
    workers: int
    rss_max: dict[int, float] = field(default_factory=dict)
    _sampling: bool = True

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return [self.process.pid, *_children(self.process.pid)]

    def sample(self) -> None:
        while self._sampling:
            for pid in self.pids():
                self.rss_max[pid] = max(self.rss_max.get(pid, 0.0), rss_mb(pid))
            time.sleep(0.25)

    def codes(self) -> dict[str, float]:
        """Finished calls by status code, from the server's own /metrics."""
        found: dict[str, float] = {}
        if self.metrics_url is None:
            return found
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("rooms_grpc_calls_total{"):
                    labels, value = line.rsplit(" ", 1)
                    code = labels.split('code="', 1)[1].split('"', 1)[0]
                    found[code] = found.get(code, 0.0) + float(value)
        return found

    def stop(self) -> None:
        self._sampling = False
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_serving(server: Server, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    with grpc.insecure_channel(server.target) as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {log_path}")
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=2).status == 1:
                    break
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the server did not become SERVING; see {log_path}")
            time.sleep(0.2)
    time.sleep(0.5 * server.workers)  # let every worker finish starting
    threading.Thread(target=server.sample, daemon=True).start()


def start_ours(dsn: str, workers: int, log_path: Path, root: Path = ROOT) -> Server:
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "ROOMS_DATABASE_URL": dsn,
        "ROOMS_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "ROOMS_WORKERS": str(workers),
        "ROOMS_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "ROOMS_LOG_FORMAT": "json",
        "ROOMS_LIFECYCLE_INTERVAL_SECONDS": "0",
    }
    for name in ("ROOMS_API_KEYS", "ROOMS_API_KEYS_FILE", "ROOMS_ACCESS_LOG"):
        env.pop(name, None)  # default settings: no keys (tenant "default"), access log default
    with log_path.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service"], env=env, cwd=root, stdout=out, stderr=out
        )
    server = Server(process, port, f"http://127.0.0.1:{metrics_port}/metrics", workers)
    _wait_serving(server, log_path)
    return server


def start_reference(
    dsn: str | None, log_path: Path, header: bool = False, variant: str = "registered"
) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.reference", "--port", str(port), "--variant", variant]
    if dsn:
        command += ["--dsn", dsn]
    if header:
        command += ["--header"]
    with log_path.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=out)
    server = Server(process, port, None, 1)
    _wait_serving(server, log_path)
    return server


# ---- PostgreSQL's share --------------------------------------------------------------


async def _backend_pids(admin: str, database: str) -> list[int]:
    connection = await asyncpg.connect(admin)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


def backend_pids(admin: str, database: str) -> list[int]:
    """The PostgreSQL backends serving our database (their CPU is readable when the
    server runs on this machine; 0 otherwise)."""
    return asyncio.run(_backend_pids(admin, database))
