"""`python -m bench`: start a real server and database, seed, drive load, report.

    python -m bench                       # 1,000 rooms; workers 1 and 2; 60 s soak
    python -m bench --scale both          # also 1,000,000 rooms / 5,000,000 participants
    python -m bench --soak 0 --duration 2 # a quick look

The database is a fresh one on ROOMS_BENCH_ADMIN_URL, else on the PostgreSQL at
127.0.0.1:5432 (user postgres), else on the embedded PostgreSQL; it is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rooms.v1 import participant_pb2, room_pb2
from rooms.v1 import participants_service_pb2 as ps
from rooms.v1 import rooms_service_pb2 as rs

from bench.load import LoadGenerator, Mixed, Result
from bench.seed import TENANT, room_id, seed, user_id
from service.domain.models import JoinPolicy, NewRoom, Role, RosterEntry
from service.storage.db import create_pool, migrate
from service.storage.repository import PgRoomStore
from tests import database as test_database
from tests.database import with_database
from tests.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".data" / "bench"
PER_ROOM = 5
SCALES = {"small": 1_000, "big": 1_000_000}
PAGE_SIZE = 50
DEEP_PAGE = 1_000

HEALTH = "/grpc.health.v1.Health/Check"
AUTHORIZE = "/rooms.v1.RoomsService/AuthorizeJoin"
GET_ROOM = "/rooms.v1.RoomsService/GetRoom"
LIST_ROOMS = "/rooms.v1.RoomsService/ListRooms"
CREATE = "/rooms.v1.RoomsService/CreateRoom"
LIST_PARTICIPANTS = "/rooms.v1.ParticipantsService/ListParticipants"
UPSERT = "/rooms.v1.ParticipantsService/AddOrUpdateParticipants"
DEEP_LISTS = [LIST_ROOMS + " page 1", LIST_ROOMS + " deep"]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- database -------------------------------------------------------------------


def admin_dsn() -> contextlib.AbstractContextManager[tuple[str, str]]:
    """The benchmark's PostgreSQL: ROOMS_BENCH_ADMIN_URL, else the local server, else an
    embedded one (the tests' chooser, without containers)."""
    return test_database.admin_dsn("ROOMS_BENCH_ADMIN_URL", WORK / "embedded", containers=False)


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    name = f"rooms_bench_{secrets.token_hex(4)}"

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin, name)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _prepare(dsn: str, rooms: int, now: datetime) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    await seed(dsn, rooms, PER_ROOM, now)


# ---- server process and memory --------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    target: str
    metrics: list[str]
    workers: int
    rss_max: dict[int, float] = field(default_factory=dict)
    _sampling: bool = True
    _thread: threading.Thread | None = None

    def pids(self) -> list[int]:
        if self.workers == 1:
            return [self.process.pid]
        return _children(self.process.pid)

    def sample(self) -> None:
        while self._sampling:
            for pid in self.pids():
                self.rss_max[pid] = max(self.rss_max.get(pid, 0.0), _rss_mb(pid))
            time.sleep(0.25)

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(pid) for pid in self.pids())

    def server_side_codes(self) -> dict[str, float]:
        """Calls by status code, summed over the workers' /metrics."""
        codes: dict[str, float] = {}
        for url in self.metrics:
            with urllib.request.urlopen(url, timeout=5) as response:
                for line in response.read().decode().splitlines():
                    if line.startswith("rooms_grpc_calls_total{"):
                        labels, value = line.rsplit(" ", 1)
                        code = labels.split('code="', 1)[1].split('"', 1)[0]
                        codes[code] = codes.get(code, 0.0) + float(value)
        return codes

    def stop(self) -> None:
        self._sampling = False
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(dsn: str, workers: int, log_path: Path) -> Server:
    port, metrics_port = free_port(), free_port()
    while workers > 1 and metrics_port + 1 == port:
        metrics_port = free_port()
    env = {
        **os.environ,
        "ROOMS_DATABASE_URL": dsn,
        "ROOMS_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "ROOMS_WORKERS": str(workers),
        "ROOMS_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "ROOMS_LOG_FORMAT": "json",
    }
    env.pop("ROOMS_API_KEYS", None)
    env.pop("ROOMS_API_KEYS_FILE", None)
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "service"], env=env, cwd=ROOT, stdout=log_file, stderr=log_file
    )
    log_file.close()
    target = f"127.0.0.1:{port}"
    server = Server(
        process,
        target,
        [f"http://127.0.0.1:{metrics_port + i}/metrics" for i in range(workers)],
        workers,
    )
    deadline = time.monotonic() + 90
    with grpc.insecure_channel(target) as channel:
        health: Any = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None:
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
    time.sleep(0.5 * workers)  # let every worker finish starting
    server._thread = threading.Thread(target=server.sample, daemon=True)
    server._thread.start()
    return server


# ---- requests --------------------------------------------------------------------


def _bodies(rooms: int) -> dict[str, list[bytes]]:
    import random

    rng = random.Random(7)
    picks = [rng.randrange(1, rooms + 1) for _ in range(4096)]
    roles = list(participant_pb2.Role.values())[1:]
    return {
        HEALTH: [health_pb2.HealthCheckRequest().SerializeToString()],
        AUTHORIZE: [
            rs.AuthorizeJoinRequest(
                room_id=room_id(i), user_id=user_id(i, rng.randrange(1, PER_ROOM + 1))
            ).SerializeToString()
            for i in picks
        ],
        GET_ROOM: [rs.GetRoomRequest(room_id=room_id(i)).SerializeToString() for i in picks],
        LIST_PARTICIPANTS: [
            ps.ListParticipantsRequest(room_id=room_id(i)).SerializeToString() for i in picks
        ],
        CREATE: [
            rs.CreateRoomRequest(
                participants=[
                    participant_pb2.Participant(user_id="host", role=participant_pb2.ROLE_PRESENTER)
                ]
            ).SerializeToString()
        ],
        UPSERT: [
            ps.AddOrUpdateParticipantsRequest(
                room_id=room_id(i),
                participants=[
                    participant_pb2.Participant(
                        user_id=f"bench-{rng.randrange(50)}", role=rng.choice(roles)
                    )
                ],
            ).SerializeToString()
            for i in picks
        ],
    }


def _deep_token(target: str, page: int) -> tuple[bytes, int]:
    """The request for page `page` of ListRooms (or the last page), by walking there."""
    token = ""
    reached = 1
    with grpc.insecure_channel(target) as channel:
        call: Any = channel.unary_unary(
            LIST_ROOMS, response_deserializer=rs.ListRoomsResponse.FromString
        )
        while reached < page:
            response = call(
                rs.ListRoomsRequest(page_size=PAGE_SIZE, page_token=token).SerializeToString(),
                timeout=10,
            )
            if not response.next_page_token:
                break
            token = response.next_page_token
            reached += 1
    return rs.ListRoomsRequest(page_size=PAGE_SIZE, page_token=token).SerializeToString(), reached


async def _repeat(operation: Callable[[], Awaitable[Any]], end: float) -> int:
    done = 0
    while time.perf_counter() < end:
        await operation()
        done += 1
    return done


# ---- the storage layer alone (same SQL, no gRPC) -----------------------------------


async def _storage_rates(
    dsn: str, rooms: int, duration: float, in_flights: list[int]
) -> dict[tuple[str, int], dict[str, float]]:
    import random

    pool = await create_pool(dsn, min_size=10, max_size=10, command_timeout=10)
    store = PgRoomStore(pool)
    now = datetime.now(UTC)
    deep_offset = min(PAGE_SIZE * (DEEP_PAGE - 1), rooms - PAGE_SIZE)
    cursor = await pool.fetchrow(
        """SELECT create_time, room_id FROM rooms WHERE tenant = $1 AND delete_time IS NULL
           ORDER BY create_time DESC, room_id DESC OFFSET $2 LIMIT 1""",
        TENANT,
        deep_offset - 1,
    )
    assert cursor is not None
    deep = (cursor["create_time"], cursor["room_id"])
    rng = random.Random(3)

    def with_actor(method: Callable[..., Any], **kwargs: Any) -> Awaitable[Any]:
        if "actor" in inspect.signature(method).parameters:
            kwargs["actor"] = "bench"
        result: Awaitable[Any] = method(**kwargs)
        return result

    def pick() -> int:
        return rng.randrange(1, rooms + 1)

    def new_room() -> Awaitable[Any]:
        return with_actor(
            store.create_room,
            tenant=TENANT,
            room=NewRoom(
                room_id=secrets.token_hex(13),
                valid_from=now,
                valid_until=now + timedelta(days=30),
                pstn_dial_out_enabled=False,
                join_policy=JoinPolicy.INVITE_ONLY,
                metadata={},
                open_join_role=Role.ATTENDEE,
                early_entry=timedelta(0),
            ),
            roster=[RosterEntry("host", Role.PRESENTER)],
            now=now,
            request_id="",
            request_hash="",
        )

    def upsert() -> Awaitable[Any]:
        return with_actor(
            store.upsert_participants,
            tenant=TENANT,
            room_id=room_id(pick()),
            roster=[RosterEntry(f"bench-{rng.randrange(50)}", rng.choice(list(Role)))],
            expected_revision=None,
            max_roster_size=10_000,
            now=now,
        )

    operations: dict[str, Callable[[], Awaitable[Any]]] = {
        AUTHORIZE: lambda: store.get_participant(
            TENANT, room_id(i := pick()), user_id(i, rng.randrange(1, PER_ROOM + 1))
        ),
        GET_ROOM: lambda: store.get_room(TENANT, room_id(pick())),
        LIST_PARTICIPANTS: lambda: store.list_participants(
            TENANT, room_id(pick()), None, None, PAGE_SIZE + 1
        ),
        LIST_ROOMS + " page 1": lambda: store.list_rooms(TENANT, None, now, None, PAGE_SIZE + 1),
        LIST_ROOMS + " deep": lambda: store.list_rooms(TENANT, None, now, deep, PAGE_SIZE + 1),
        CREATE: new_room,
        UPSERT: upsert,
    }
    rates: dict[tuple[str, int], dict[str, float]] = {}
    try:
        for name, operation in operations.items():
            for in_flight in in_flights:
                began = time.perf_counter()
                counts = await asyncio.gather(
                    *(_repeat(operation, began + duration) for _ in range(in_flight))
                )
                done = sum(counts)
                rates[(name, in_flight)] = {"rps": done / (time.perf_counter() - began)}
    finally:
        await pool.close()
    return rates


# ---- measuring ---------------------------------------------------------------------


def summarize(result: Result) -> dict[str, float]:
    latencies = sorted(result.latencies)

    def quantile(q: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "rps": result.ok / result.elapsed if result.elapsed else 0.0,
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
        "calls": float(result.ok),
        "errors": float(sum(result.errors.values())),
        "error_codes": dict(result.errors),  # type: ignore[dict-item]
    }


def measure_config(
    load: LoadGenerator,
    dsn: str,
    rooms: int,
    workers: int,
    in_flights: list[int],
    duration: float,
    methods: list[str] | None,
) -> dict[str, Any]:
    log_path = WORK / f"server-{rooms}-w{workers}.log"
    server = start_server(dsn, workers, log_path)
    out: dict[str, Any] = {"rooms": rooms, "workers": workers, "cells": {}}
    try:
        bodies = _bodies(rooms)
        deep_body, deep_page = _deep_token(server.target, DEEP_PAGE)
        out["deep_page"] = deep_page
        bodies[LIST_ROOMS + " page 1"] = [
            rs.ListRoomsRequest(page_size=PAGE_SIZE).SerializeToString()
        ]
        bodies[LIST_ROOMS + " deep"] = [deep_body]
        order = [
            HEALTH,
            AUTHORIZE,
            GET_ROOM,
            LIST_PARTICIPANTS,
            LIST_ROOMS + " page 1",
            LIST_ROOMS + " deep",
            CREATE,
            UPSERT,
        ]
        before = server.server_side_codes()
        for name in order:
            if methods is not None and name not in methods and name != HEALTH:
                continue
            method = name.split(" ")[0]
            for in_flight in in_flights:
                cpu = server.cpu_seconds()
                result = load.closed(server.target, method, bodies[name], in_flight, duration)
                cpu = server.cpu_seconds() - cpu
                cell = summarize(result)
                # Server CPU per call: steadier than req/s on a shared machine (it
                # includes the warm-up calls, a few per connection).
                cell["server_cpu_us"] = cpu / max(1.0, cell["calls"]) * 1e6
                out["cells"][f"{name}@{in_flight}"] = cell
                log(
                    f"{rooms} rooms, {workers} worker(s), {name} x{in_flight}: "
                    f"{cell['rps']:.0f}/s p50 {cell['p50_ms']:.2f} ms "
                    f"p99 {cell['p99_ms']:.2f} ms errors {cell['errors']:.0f} "
                    f"server CPU/call {cell['server_cpu_us']:.0f} us"
                )
        after = server.server_side_codes()
        out["server_codes"] = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    finally:
        server.stop()
        out["rss_mb"] = {str(pid): round(mb, 1) for pid, mb in server.rss_max.items()}
    log(f"server RSS max (MB): {out['rss_mb']}, server-side codes {out.get('server_codes')}")
    return out


def soak(load: LoadGenerator, dsn: str, rooms: int, duration: float, rate: float) -> dict[str, Any]:
    import random

    rng = random.Random(11)
    log_path = WORK / f"server-soak-{rooms}.log"
    server = start_server(dsn, 1, log_path)
    run = secrets.token_hex(3)
    creates = int(duration * rate * 0.15) + 100
    picks = [rng.randrange(1, rooms + 1) for _ in range(4096)]
    mix = [
        Mixed(
            AUTHORIZE,
            40,
            tuple(
                rs.AuthorizeJoinRequest(
                    room_id=room_id(i), user_id=user_id(i, 1 + i % PER_ROOM)
                ).SerializeToString()
                for i in picks
            ),
        ),
        Mixed(
            GET_ROOM,
            20,
            tuple(rs.GetRoomRequest(room_id=room_id(i)).SerializeToString() for i in picks),
        ),
        Mixed(
            LIST_PARTICIPANTS,
            10,
            tuple(
                ps.ListParticipantsRequest(room_id=room_id(i)).SerializeToString() for i in picks
            ),
        ),
        Mixed(LIST_ROOMS, 5, (rs.ListRoomsRequest(page_size=PAGE_SIZE).SerializeToString(),)),
        Mixed(
            CREATE,
            15,
            tuple(
                rs.CreateRoomRequest(
                    request_id=f"soak-{run}-{n}",
                    room_id=f"soak-{run}-{n}",
                    room=room_pb2.Room(metadata={"n": str(n)}),
                    participants=[participant_pb2.Participant(user_id=f"host-{n}")],
                ).SerializeToString()
                for n in range(creates)
            ),
            acknowledge=True,
        ),
        Mixed(
            UPSERT,
            10,
            tuple(
                ps.AddOrUpdateParticipantsRequest(
                    room_id=room_id(i),
                    participants=[participant_pb2.Participant(user_id=f"soak-{run}-{n}")],
                ).SerializeToString()
                for n, i in enumerate(picks)
            ),
            acknowledge=True,
        ),
    ]
    out: dict[str, Any] = {"rate": rate, "duration": duration}
    try:
        log(f"soak: {rate:.0f} calls/s for {duration:.0f} s")
        results = load.open(server.target, mix, rate, duration)
        out["methods"] = {method: summarize(result) for method, result in results.items()}
        out["server_codes"] = server.server_side_codes()
    finally:
        server.stop()
        out["rss_mb"] = {str(pid): round(mb, 1) for pid, mb in server.rss_max.items()}
    created = [rs.CreateRoomRequest.FromString(b).room_id for b in results[CREATE].acknowledged]
    upserted = [
        (r.room_id, r.participants[0].user_id)
        for r in map(ps.AddOrUpdateParticipantsRequest.FromString, results[UPSERT].acknowledged)
    ]

    async def readable() -> tuple[int, int]:
        connection = await asyncpg.connect(dsn)
        try:
            rooms_found = await connection.fetchval(
                """SELECT count(*) FROM rooms
                   WHERE tenant = $1 AND room_id = ANY($2::text[]) AND delete_time IS NULL""",
                TENANT,
                created,
            )
            members_found = await connection.fetchval(
                """SELECT count(*) FROM participants p
                   JOIN unnest($2::text[], $3::text[]) AS t(r, u)
                     ON p.room_id = t.r AND p.user_id = t.u
                   WHERE p.tenant = $1""",
                TENANT,
                [r for r, _ in upserted],
                [u for _, u in upserted],
            )
            return int(rooms_found), int(members_found)
        finally:
            await connection.close()

    rooms_found, members_found = asyncio.run(readable())
    out.update(
        creates_acknowledged=len(created),
        creates_readable=rooms_found,
        upserts_acknowledged=len(upserted),
        upserts_readable=members_found,
        errors=sum(m["errors"] for m in out["methods"].values()),
    )
    log(
        f"soak: errors {out['errors']:.0f}; creates acknowledged {len(created)}, readable "
        f"{rooms_found}; upserts acknowledged {len(upserted)}, readable {members_found}; "
        f"RSS max {out['rss_mb']}"
    )
    return out


# ---- report ----------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    from bench.report import render

    return render(results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scale",
        choices=["small", "big", "both"],
        default=os.environ.get("BENCH_SCALE", "small"),
        help="small: 1,000 rooms; big: 1,000,000 rooms and 5,000,000 participants",
    )
    parser.add_argument("--workers", default="1,2", help="server processes to compare")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--soak", type=float, default=60.0, help="soak seconds (0: none)")
    parser.add_argument("--soak-rate", type=float, default=300.0, help="soak calls per second")
    parser.add_argument("--soak-only", action="store_true", help="run only the soak")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--write-doc", type=Path, default=None, help="update this markdown file")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    workers_list = [int(w) for w in args.workers.split(",")]
    scales = ["small", "big"] if args.scale == "both" else [args.scale]
    in_flights = [1, 64]
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "duration": args.duration,
        "configs": [],
        "storage": {},
    }
    load = LoadGenerator(args.processes)
    try:
        with admin_dsn() as (admin, source):
            results["database"] = source
            log(f"database: {source}")
            for scale in scales:
                rooms = SCALES[scale]
                with fresh_database(admin) as dsn:
                    began = time.monotonic()
                    asyncio.run(_prepare(dsn, rooms, datetime.now(UTC)))
                    seeded = time.monotonic() - began
                    log(
                        f"seeded {rooms:,} rooms, {rooms * PER_ROOM:,} participants "
                        f"in {seeded:.0f} s"
                    )
                    results.setdefault("seed_seconds", {})[scale] = round(seeded, 1)
                    if not args.soak_only:
                        storage = asyncio.run(_storage_rates(dsn, rooms, args.duration, in_flights))
                        results["storage"][scale] = {
                            f"{name}@{n}": cell for (name, n), cell in storage.items()
                        }
                        for workers in workers_list if scale == "small" else [1]:
                            methods = None
                            if scale == "big":
                                methods = [
                                    AUTHORIZE,
                                    GET_ROOM,
                                    LIST_ROOMS + " page 1",
                                    LIST_ROOMS + " deep",
                                ]
                            results["configs"].append(
                                measure_config(
                                    load,
                                    dsn,
                                    rooms,
                                    workers,
                                    in_flights if workers == 1 else [64],
                                    args.duration,
                                    methods,
                                )
                            )
                    if scale == "small" and args.soak > 0:
                        results["soak"] = soak(load, dsn, rooms, args.soak, args.soak_rate)
    finally:
        load.close()
    (WORK / "results.json").write_text(json.dumps(results, indent=2, default=str))
    text = report(results)
    print(text)
    if args.write_doc is not None:
        from bench.report import write_doc

        write_doc(args.write_doc, text)
        log(f"wrote {args.write_doc}")


if __name__ == "__main__":
    main()
