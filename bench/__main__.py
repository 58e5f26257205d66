"""`python -m bench`: a real server and database, load from h2load, a report.

    python -m bench                        # every cell, 1 and 2 workers, 1,000 rooms
    python -m bench --scale both           # also AuthorizeJoin/GetRoom at 1,000,000 rooms
    python -m bench --duration 3           # shorter cells
    python -m bench --repeat 3             # each cell 3 times; the median is reported

Load: h2load (Debian's `nghttp2-client`, a load generator written in C) with gRPC frames
encoded in advance, for every call whose body can stay the same; a Python (grpc.aio)
generator only for AddOrUpdateParticipants, whose every call needs another body. Every
cell is checked against the server's own `rooms_grpc_calls_total` (h2load sees HTTP
status 200 for every gRPC answer, error or not). The two references (bench/reference.py)
are measured in the same run. The database is a fresh one on ROOMS_BENCH_ADMIN_URL, else
the PostgreSQL at 127.0.0.1:5432, else an embedded one; it is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import credentials_pb2, participant_pb2
from rooms.v1 import credentials_service_pb2 as cs
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from bench.load import LoadGenerator
from bench.seed import room_id, seed, user_id
from service.storage.db import migrate
from support.database import admin_dsn as choose_admin_dsn
from support.database import with_database
from support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".data" / "bench"
PER_ROOM = 5
SCALES = {"small": 1_000, "big": 1_000_000}
H2LOAD_PROCESSES = 8  # at 64 in flight: 8 h2load processes x 1 connection x 8 streams

HEALTH = "/grpc.health.v1.Health/Check"
AUTHORIZE = "/rooms.v1.RoomsService/AuthorizeJoin"
GET_ROOM = "/rooms.v1.RoomsService/GetRoom"
CREATE = "/rooms.v1.RoomsService/CreateRoom"
UPSERT = "/rooms.v1.ParticipantsService/AddOrUpdateParticipants"
INTROSPECT = "/rooms.v1.CredentialsService/IntrospectCredential"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def frame(message: bytes) -> bytes:
    """One gRPC message as it goes on the wire: not compressed, its length, itself."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


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


def start_reference(dsn: str | None, log_path: Path, header: bool = False) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.reference", "--port", str(port)]
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


# ---- load ----------------------------------------------------------------------------


@dataclass
class Cell:
    name: str
    calls: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    server_cpu_us: float = 0.0
    pg_cpu_us: float = 0.0
    errors: int = 0
    codes: dict[str, float] = field(default_factory=dict)
    # Each server process's share of the server CPU (how evenly workers share calls).
    cpu_split: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


def _h2load_command(
    target: str, path: str, data: Path, streams: int, calls: int, log_file: Path | None
) -> list[str]:
    """h2load with one connection, `streams` calls in flight on it, `calls` calls in all
    (a count, not a duration: a timed run would cut the calls in flight at its end, and
    the server would count them CANCELLED)."""
    command = ["h2load", "-n", str(calls), "-c1", f"-m{streams}", "-t1"]
    if log_file is not None:
        command += ["--log-file", str(log_file)]
    return [
        *command,
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        "-d",
        str(data),
        f"http://{target}{path}",
    ]


def _h2load_done(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("requests:"):
            # requests: N total, N started, N done, N succeeded, N failed, N errored, ...
            parts = [p.strip() for p in line.split(":", 1)[1].split(",")]
            return int(parts[2].split()[0])
    raise RuntimeError(f"no request count in h2load's output:\n{output}")


def run_h2load(
    server: Server, path: str, bodies: list[bytes], in_flight: int, duration: float
) -> tuple[int, float, list[float]]:
    """`in_flight` calls outstanding: 1 h2load process x 1 stream, or 8 processes x 1
    connection x 8 streams, each with its own body. Returns calls, seconds, latencies."""
    processes = 1 if in_flight == 1 else H2LOAD_PROCESSES
    streams = max(1, in_flight // processes)
    with tempfile.TemporaryDirectory(prefix="rooms-bench-") as scratch:
        files = []
        for i in range(processes):
            data = Path(scratch) / f"body-{i}"
            data.write_bytes(frame(bodies[i % len(bodies)]))
            files.append(data)
        # Warm-up (connections, prepared statements, caches), which also tells how
        # many calls fill the duration.
        warm_calls = max(streams * 25, 100)
        began = time.perf_counter()
        warm = [
            subprocess.Popen(
                _h2load_command(server.target, path, f, streams, warm_calls, None),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for f in files
        ]
        for process in warm:
            process.wait()
        per_process = warm_calls / (time.perf_counter() - began) * duration
        count = max(streams * 10, int(per_process) // streams * streams)
        logs = [Path(scratch) / f"log-{i}" for i in range(processes)]
        began = time.perf_counter()
        running = [
            subprocess.Popen(
                _h2load_command(server.target, path, f, streams, count, lf),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for f, lf in zip(files, logs, strict=True)
        ]
        calls = sum(_h2load_done(p.communicate()[0]) for p in running)
        seconds = time.perf_counter() - began
        latencies: list[float] = []
        for lf in logs:
            for line in lf.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000.0)
    return calls, seconds, latencies


def measure(
    server: Server,
    name: str,
    path: str,
    bodies: list[bytes],
    in_flight: int,
    duration: float,
    pg: tuple[str, str] | None,
    python_load: LoadGenerator | None = None,
) -> Cell:
    pg_pids = backend_pids(*pg) if pg else []
    codes_before = server.codes()
    pids = server.pids()
    per_pid_before = [cpu_seconds([pid]) for pid in pids]
    cpu_before = sum(per_pid_before)
    pg_before = cpu_seconds(pg_pids)
    if python_load is None:
        calls, seconds, latencies = run_h2load(server, path, bodies, in_flight, duration)
        client_errors = 0
    else:
        result = python_load.closed(server.target, path, bodies, in_flight, duration)
        calls, seconds = result.ok + sum(result.errors.values()), result.elapsed
        latencies = [x * 1000 for x in result.latencies]
        client_errors = sum(result.errors.values())
    per_pid = [cpu_seconds([pid]) - b for pid, b in zip(pids, per_pid_before, strict=True)]
    server_cpu = cpu_seconds(server.pids()) - cpu_before
    pg_cpu = cpu_seconds(backend_pids(*pg) if pg else []) - pg_before
    cell = Cell(name, calls, seconds)
    if server.workers > 1 and server_cpu > 0:
        cell.cpu_split = [round(x / server_cpu, 2) for x in per_pid]
    if latencies:
        latencies.sort()
        cell.p50_ms = latencies[len(latencies) // 2]
        cell.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    # The Python generator's warm-up calls (one per connection) are counted server-side.
    if calls:
        cell.server_cpu_us = server_cpu / calls * 1e6
        cell.pg_cpu_us = pg_cpu / calls * 1e6
    if server.metrics_url is not None:
        after = server.codes()
        cell.codes = {
            code: after.get(code, 0.0) - codes_before.get(code, 0.0)
            for code in after
            if after.get(code, 0.0) != codes_before.get(code, 0.0)
        }
        not_ok = sum(v for c, v in cell.codes.items() if c != "OK")
        # Every call h2load finished must be an OK call on the server (warm-up calls
        # included: every warm-up call too).
        ok = cell.codes.get("OK", 0.0)
        cell.errors = int(not_ok) + client_errors + (0 if ok >= calls else int(calls - ok))
    else:
        cell.errors = client_errors
    return cell


# ---- requests ------------------------------------------------------------------------


def _credential_token(target: str) -> str:
    with grpc.insecure_channel(target) as channel:
        call: Any = channel.unary_unary(
            AUTHORIZE, response_deserializer=rs.AuthorizeJoinResponse.FromString
        )
        response = call(
            rs.AuthorizeJoinRequest(
                room_id=room_id(1),
                user_id=user_id(1, 1),
                credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS,
            ).SerializeToString(),
            timeout=10,
        )
        token: str = response.credential.token
        return token


def fixed_cells(rooms: int, target: str) -> list[tuple[str, str, list[bytes]]]:
    """(name, method, bodies): one body per h2load process, each another room/user."""
    rng = random.Random(7)
    picks = [(rng.randrange(1, rooms + 1), rng.randrange(1, PER_ROOM + 1)) for _ in range(8)]

    def authorize(**more: Any) -> list[bytes]:
        return [
            rs.AuthorizeJoinRequest(
                room_id=room_id(i), user_id=user_id(i, k), **more
            ).SerializeToString()
            for i, k in picks
        ]

    token = _credential_token(target)
    return [
        (
            "Health/Check (our empty call)",
            HEALTH,
            [health_pb2.HealthCheckRequest().SerializeToString()],
        ),
        ("AuthorizeJoin", AUTHORIZE, authorize()),
        (
            "AuthorizeJoin + credential (ROOMS)",
            AUTHORIZE,
            authorize(credential_format=credentials_pb2.CREDENTIAL_FORMAT_ROOMS),
        ),
        ("AuthorizeJoin + claim_seat", AUTHORIZE, authorize(claim_seat=True)),
        (
            "IntrospectCredential",
            INTROSPECT,
            [cs.IntrospectCredentialRequest(token=token).SerializeToString()],
        ),
        (
            "GetRoom",
            GET_ROOM,
            [rs.GetRoomRequest(room_id=room_id(i)).SerializeToString() for i, _ in picks],
        ),
        (
            "CreateRoom (1 presenter)",
            CREATE,
            [
                rs.CreateRoomRequest(
                    participants=[
                        participant_pb2.Participant(
                            user_id="host", role=participant_pb2.ROLE_PRESENTER
                        )
                    ]
                ).SerializeToString()
            ],
        ),
    ]


def upsert_bodies(rooms: int) -> list[bytes]:
    rng = random.Random(11)
    roles = list(participant_pb2.Role.values())[1:]
    return [
        ps.AddOrUpdateParticipantsRequest(
            room_id=room_id(rng.randrange(1, rooms + 1)),
            participants=[
                participant_pb2.Participant(
                    user_id=f"bench-{rng.randrange(50)}", role=rng.choice(roles)
                )
            ],
        ).SerializeToString()
        for _ in range(4096)
    ]


# ---- the run -------------------------------------------------------------------------


def _median_cell(cells: list[Cell]) -> Cell:
    """The repetition with the median server CPU per call (its other figures with it)."""
    ordered = sorted(cells, key=lambda c: c.server_cpu_us)
    chosen = ordered[len(ordered) // 2]
    chosen.errors = sum(c.errors for c in cells)
    return chosen


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[tuple[str, str]]:
    name = f"rooms_bench_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin, name), name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _prepare(dsn: str, rooms: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    await seed(dsn, rooms, PER_ROOM, datetime.now(UTC))


def run_scale(
    admin: str, rooms: int, args: argparse.Namespace, load: LoadGenerator
) -> dict[str, Any]:
    results: dict[str, Any] = {"rooms": rooms, "configs": {}}
    with fresh_database(admin) as (dsn, database):
        began = time.monotonic()
        asyncio.run(_prepare(dsn, rooms))
        results["seed_seconds"] = time.monotonic() - began
        log(f"seeded {rooms:,} rooms in {results['seed_seconds']:.1f} s")
        pg = (admin, database)
        concurrency = [1, 64]

        def cells_of(
            server: Server,
            plan: list[tuple[str, str, list[bytes]]],
            flights: list[int],
            python: bool = False,
        ) -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for name, path, bodies in plan:
                if args.only and not any(word in name for word in args.only):
                    continue
                for n in flights:
                    runs = [
                        measure(
                            server,
                            name,
                            path,
                            bodies,
                            n,
                            args.duration,
                            pg,
                            load if python else None,
                        )
                        for _ in range(args.repeat)
                    ]
                    cell = _median_cell(runs)
                    log(
                        f"{name} @{n}: {cell.rate:,.0f}/s"
                        f" p50 {cell.p50_ms:.2f} ms p99 {cell.p99_ms:.2f} ms"
                        f" server {cell.server_cpu_us:.0f} µs/call pg {cell.pg_cpu_us:.0f} µs/call"
                        f" errors {cell.errors} codes {cell.codes}"
                        + (f" cpu split {cell.cpu_split}" if cell.cpu_split else "")
                    )
                    out[f"{name} @{n}"] = cell.__dict__ | {"rate": cell.rate, "in_flight": n}
            return out

        if rooms == SCALES["small"]:
            references = {}
            for label, with_db, header in (
                ("minimal grpc.aio + uvloop server", False, False),
                ("minimal server + x-request-id header", False, True),
                ("minimal server + one asyncpg fetchrow", True, False),
            ):
                ref = start_reference(dsn if with_db else None, WORK / "reference.log", header)
                try:
                    references |= cells_of(ref, [(label, HEALTH, [b""])], concurrency)
                finally:
                    ref.stop()
            results["references"] = references
        workers_list = [1, 2] if rooms == SCALES["small"] and not args.one_worker else [1]
        for workers in workers_list:
            server = start_ours(
                dsn, workers, WORK / f"server-{rooms}-{workers}.log", args.server_root
            )
            try:
                plan = fixed_cells(rooms, server.target)
                if rooms != SCALES["small"]:
                    big = ("Health/Check (our empty call)", "AuthorizeJoin", "GetRoom")
                    plan = [c for c in plan if c[0] in big]
                cells = cells_of(server, plan, concurrency)
                if rooms == SCALES["small"]:
                    cells |= cells_of(
                        server,
                        [("AddOrUpdateParticipants (Python load)", UPSERT, upsert_bodies(rooms))],
                        concurrency,
                        python=True,
                    )
                results["configs"][str(workers)] = {
                    "cells": cells,
                    "rss_max_mb": sorted(server.rss_max.values(), reverse=True)[: workers + 1],
                }
            finally:
                server.stop()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", choices=["small", "big", "both"], default="small")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per cell")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (median kept)")
    parser.add_argument("--one-worker", action="store_true", help="skip ROOMS_WORKERS=2")
    parser.add_argument("--write-doc", type=Path, help="rewrite the results block of this file")
    parser.add_argument(
        "--only", nargs="*", default=[], help="only the cells whose name contains a word"
    )
    parser.add_argument(
        "--server-root",
        type=Path,
        default=ROOT,
        help="run `python -m service` from this directory (e.g. an older tree from"
        " `git archive`, for an A/B comparison on the same machine state)",
    )
    args = parser.parse_args(argv)
    if shutil.which("h2load") is None:
        sys.exit("h2load is missing: apt-get install nghttp2-client (make bench does)")
    WORK.mkdir(parents=True, exist_ok=True)
    scales = ["small", "big"] if args.scale == "both" else [args.scale]
    load = LoadGenerator(processes=2)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "duration": args.duration,
        "repeat": args.repeat,
        "loadavg_before": os.getloadavg(),
        "scales": {},
    }
    try:
        with choose_admin_dsn("ROOMS_BENCH_ADMIN_URL", WORK / "embedded", containers=False) as (
            admin,
            source,
        ):
            results["database"] = source
            for scale in scales:
                results["scales"][scale] = run_scale(admin, SCALES[scale], args, load)
    finally:
        load.close()
    results["loadavg_after"] = os.getloadavg()
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    from bench.report import render, write_doc

    text = render(results)
    print(text)
    if args.write_doc:
        write_doc(args.write_doc, text)


if __name__ == "__main__":
    main()
