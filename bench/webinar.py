"""A webinar's opening minute, from outside (issue 26): a cell of `make bench`, and
`python -m bench.webinar` on its own.

A real server (`ROOMS_WORKERS` 2, `ROOMS_MAX_PARTICIPANTS` 4000) on a fresh database;
one open room of `max_participants` 4,000 with 20 seats reserved for presenters (the
20 presenters rostered). 5,000 distinct attendees call AuthorizeJoin without a claim
(the baseline), then 5,000 others with `claim_seat`, 256 in flight from 4 client
processes; then the presenters claim. Then the waiting-room burst: in a room with a
waiting room, 500 guests knock, then a host admits them, 64 admits in flight, and each
admitted guest asks again at once with `claim_seat` (the README's guest flow).
Measured: both rates, the claim storm per 1,000 answers in order, server and
PostgreSQL CPU per call of each wave (from /proc), the seats (which must be exact:
3,980 attendees, 1,020 ROOM_FULL, every presenter seated, no error), and the time from
the first admit to the last guest seated.

    python -m bench.webinar [--root DIR]    # DIR: another checkout's server (before/after)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rooms.client import RoomsClient
from rooms.v1 import admission_pb2 as ad

from bench.processes import ROOT, Server, backend_pids, cpu_seconds, start_ours
from support.database import admin_dsn, scratch_database

PROCESSES = 4
ROOM_FULL = ad.JOIN_DECISION_REASON_ROOM_FULL
PRESENTERS = 20


async def worker(target: str, room_id: str, users: list[str], mode: str, in_flight: int) -> None:
    """One client process: once ready (its imports done, its channel up) it says so on
    stdout and reads the start time from stdin; then its users at `in_flight`,
    starting then; a JSON list of (completion time, outcome) per user on stdout.
    `mode`: "plain" (AuthorizeJoin), "claim" (with claim_seat), "admit"
    (AdmitParticipant, then the guest's claim)."""
    async with RoomsClient(target, timeout=120) as client:
        print("ready", flush=True)
        at = float(sys.stdin.readline())
        gate = asyncio.Semaphore(in_flight)
        out: list[tuple[float, str]] = []

        async def one(user: str) -> None:
            async with gate:
                try:
                    if mode == "admit":
                        await client.admit_participant(room_id, user)
                    answer = await client.authorize_join(room_id, user, claim_seat=mode != "plain")
                except Exception as error:  # counted and reported
                    out.append((time.time(), f"error {type(error).__name__}"))
                    return
                if answer.allowed:
                    outcome = "seat" if answer.HasField("seat") else "allowed"
                else:
                    outcome = "full" if answer.reason == ROOM_FULL else f"refused {answer.reason}"
                out.append((time.time(), outcome))

        await asyncio.sleep(max(0.0, at - time.time()))
        await asyncio.gather(*(one(user) for user in users))
    print(json.dumps(out))


def wave(
    server: Server,
    pg: tuple[str, str],
    room_id: str,
    users: list[str],
    mode: str,
    in_flight: int,
) -> dict[str, Any]:
    """The users from PROCESSES client processes at once: rate, answers per 1,000 in
    order, outcomes, CPU per call of the server and of PostgreSQL. The clients start
    together once all are ready (on a busy machine, starting a Python process takes
    seconds: a fixed delay let some start late, and their lateness was counted)."""
    slices = [users[i::PROCESSES] for i in range(PROCESSES)]
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.webinar", "--worker", server.target, room_id),
                *(json.dumps(part), mode, str(max(1, in_flight // PROCESSES))),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for part in slices
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    at = time.time() + 0.2
    pg_pids = backend_pids(*pg)
    cpu_before, pg_before = cpu_seconds(server.pids()), cpu_seconds(pg_pids)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{at}\n")
        proc.stdin.flush()
    answers = sorted(tuple(a) for p in procs for a in json.loads(p.communicate()[0]))
    server_cpu = cpu_seconds(server.pids()) - cpu_before
    pg_cpu = cpu_seconds(backend_pids(*pg)) - pg_before  # the backends that took part
    elapsed = answers[-1][0] - at
    marks = [at] + [answers[i - 1][0] for i in range(1000, len(answers) + 1, 1000)]
    return {
        "calls": len(answers),
        "seconds": elapsed,
        "rate": len(answers) / elapsed,
        "first_seconds": answers[0][0] - at,
        "deciles": [answers[len(answers) * k // 10 - 1][0] - at for k in range(1, 11)],
        "per_1000": [1000 / (b - a) for a, b in itertools.pairwise(marks)],
        "outcomes": dict(Counter(outcome for _, outcome in answers)),
        # Over the whole wave, idle client start included: an upper bound per call.
        "server_cpu_us": server_cpu / len(answers) * 1e6,
        "pg_cpu_us": pg_cpu / len(answers) * 1e6,
    }


def report(label: str, result: dict[str, Any]) -> None:
    print(
        f"{label}: {result['calls']} calls in {result['seconds']:.2f} s ="
        f" {result['rate']:.0f}/s; server {result['server_cpu_us']:.0f} µs/call,"
        f" PostgreSQL {result['pg_cpu_us']:.0f} µs/call"
    )
    print(f"  first answer {result['first_seconds']:.2f} s after the start")
    deciles = ", ".join(f"{t:.2f}" for t in result["deciles"])
    print(f"  each tenth of the answers in by (s): {deciles}")
    if result["per_1000"]:
        rates = ", ".join(f"{r:.0f}" for r in result["per_1000"])
        print(f"  per 1,000 answers in order (/s): {rates}")
    print(f"  outcomes: {result['outcomes']}")


async def _rooms(target: str) -> tuple[str, str]:
    async with RoomsClient(target, timeout=60) as client:
        presenters = [f"presenter-{i:02}" for i in range(PRESENTERS)]
        webinar = await client.create_room(
            join_policy="open",
            max_participants=4000,
            role_capacity={"presenter": (0, PRESENTERS)},
            participants=dict.fromkeys(presenters, "presenter"),
        )
        lobby = await client.create_room(
            join_policy="open", waiting_room_enabled=True, max_participants=4000
        )
    return webinar.room_id, lobby.room_id


def run_webinar(
    admin: str,
    dsn: str,
    database: str,
    log: Path,
    root: Path = ROOT,
    users: int = 5000,
    in_flight: int = 256,
    guests: int = 500,
) -> dict[str, Any]:
    """The storm and the burst on a migrated `dsn` (the database `database` on the
    server `admin`); the figures of each wave."""
    os.environ["ROOMS_MAX_PARTICIPANTS"] = "4000"
    server = start_ours(dsn, 2, log, root=root)
    pg = (admin, database)
    try:
        webinar, lobby = asyncio.run(_rooms(server.target))
        visitors = [f"visitor-{i:05}" for i in range(users)]
        attendees = [f"attendee-{i:05}" for i in range(users)]
        presenters = [f"presenter-{i:02}" for i in range(PRESENTERS)]
        results = {
            "plain": wave(server, pg, webinar, visitors, "plain", in_flight),
            "claim": wave(server, pg, webinar, attendees, "claim", in_flight),
            "presenters": wave(server, pg, webinar, presenters, "claim", PROCESSES),
        }
        guest_ids = [f"guest-{i:04}" for i in range(guests)]
        results["knocks"] = wave(server, pg, lobby, guest_ids, "claim", 64)
        results["burst"] = wave(server, pg, lobby, guest_ids, "admit", 64)
    finally:
        server.stop()
        os.environ.pop("ROOMS_MAX_PARTICIPANTS", None)
    return results


# The schema of the server measured (another checkout's, for a before/after).
MIGRATE = """
import asyncio, sys, asyncpg
from service.storage.db import migrate
async def run():
    connection = await asyncpg.connect(sys.argv[1])
    await migrate(connection)
    await connection.close()
asyncio.run(run())
"""


def main(root: Path, users: int, in_flight: int) -> None:
    with admin_dsn() as (admin, source):
        print(f"PostgreSQL from: {source}; server from {root}")
        results = asyncio.run(_measure(admin, root, users, in_flight))
    for label, result in results.items():
        report(label, result)


async def _measure(admin: str, root: Path, users: int, in_flight: int) -> dict[str, Any]:
    async with scratch_database(admin, "rooms_webinar") as dsn:
        command = [sys.executable, "-c", MIGRATE, dsn]
        await asyncio.to_thread(subprocess.run, command, cwd=root, check=True)
        log = ROOT / ".data" / "webinar-server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        database = dsn.rsplit("/", 1)[1].split("?", 1)[0]
        results: dict[str, Any] = await asyncio.to_thread(
            run_webinar, admin, dsn, database, log, root, users, in_flight
        )
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        target, room_id, users, mode, in_flight = sys.argv[2:7]
        asyncio.run(worker(target, room_id, json.loads(users), mode, int(in_flight)))
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=256)
    args = parser.parse_args()
    main(args.root.resolve(), args.users, args.in_flight)
