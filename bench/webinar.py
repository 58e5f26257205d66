"""`python -m bench.webinar`: a webinar's opening minute, from outside (issue 26).

A real server (`ROOMS_WORKERS` 2, `ROOMS_MAX_PARTICIPANTS` 4000) on a fresh database;
one open room of `max_participants` 4,000 with 20 seats reserved for presenters (the
20 presenters rostered). 5,000 distinct attendees call AuthorizeJoin without a claim
(the baseline), then 5,000 others with `claim_seat`, 256 in flight from 4 client
processes; then the presenters claim. Printed: both rates, the claim storm per 1,000
answers in order, and the seats (which must be exact: 3,980 attendees, 1,020 ROOM_FULL,
every presenter seated, no error).

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
from pathlib import Path

from rooms.client import RoomsClient
from rooms.v1 import admission_pb2 as ad

from bench.processes import ROOT, start_ours
from support.database import admin_dsn, scratch_database

PROCESSES = 4
ROOM_FULL = ad.JOIN_DECISION_REASON_ROOM_FULL


async def worker(
    target: str, room_id: str, users: list[str], claim: bool, in_flight: int, at: float
) -> None:
    """One client process: its users at `in_flight`, starting at `at`; a JSON line of
    (completion time, outcome) per call on stdout."""
    async with RoomsClient(target, timeout=120) as client:
        gate = asyncio.Semaphore(in_flight)
        out: list[tuple[float, str]] = []

        async def one(user: str) -> None:
            async with gate:
                try:
                    answer = await client.authorize_join(room_id, user, claim_seat=claim)
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
    target: str, room_id: str, users: list[str], claim: bool, in_flight: int
) -> tuple[float, list[tuple[float, str]]]:
    """The users from PROCESSES client processes at once: (start, answers by time)."""
    at = time.time() + 2.0
    slices = [users[i::PROCESSES] for i in range(PROCESSES)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.webinar",
                "--worker",
                target,
                room_id,
                json.dumps(part),
                "1" if claim else "0",
                str(in_flight // PROCESSES),
                str(at),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        for part in slices
    ]
    answers = [tuple(a) for p in procs for a in json.loads(p.communicate()[0])]
    return at, sorted(answers)


def report(label: str, start: float, answers: list[tuple[float, str]]) -> None:
    elapsed = answers[-1][0] - start
    print(f"{label}: {len(answers)} calls in {elapsed:.2f} s = {len(answers) / elapsed:.0f}/s")
    marks = [start] + [answers[i - 1][0] for i in range(1000, len(answers) + 1, 1000)]
    rates = [f"{1000 / (b - a):.0f}" for a, b in itertools.pairwise(marks)]
    print(f"  per 1,000 answers in order (/s): {', '.join(rates)}")
    outcomes: dict[str, int] = {}
    for _, outcome in answers:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"  outcomes: {outcomes}")


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


def migrate_with(root: Path, dsn: str) -> None:
    subprocess.run([sys.executable, "-c", MIGRATE, dsn], cwd=root, check=True)


async def main(root: Path, users: int, in_flight: int) -> None:
    os.environ["ROOMS_MAX_PARTICIPANTS"] = "4000"
    with admin_dsn() as (admin, source):
        print(f"PostgreSQL from: {source}; server from {root}")
        async with scratch_database(admin, "rooms_webinar") as dsn:
            await asyncio.to_thread(migrate_with, root, dsn)
            log = ROOT / ".data" / "webinar-server.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            server = start_ours(dsn, 2, log, root=root)
            try:
                async with RoomsClient(server.target, timeout=60) as client:
                    presenters = [f"presenter-{i:02}" for i in range(20)]
                    room = await client.create_room(
                        join_policy="open",
                        max_participants=4000,
                        role_capacity={"presenter": (0, 20)},
                        participants=dict.fromkeys(presenters, "presenter"),
                    )
                plain = [f"visitor-{i:05}" for i in range(users)]
                start, answers = await asyncio.to_thread(
                    wave, server.target, room.room_id, plain, False, in_flight
                )
                report("AuthorizeJoin without a claim", start, answers)
                attendees = [f"attendee-{i:05}" for i in range(users)]
                start, answers = await asyncio.to_thread(
                    wave, server.target, room.room_id, attendees, True, in_flight
                )
                report("AuthorizeJoin with claim_seat", start, answers)
                start, answers = await asyncio.to_thread(
                    wave, server.target, room.room_id, presenters, True, PROCESSES
                )
                report("presenters claiming", start, answers)
            finally:
                server.process.terminate()
                server.process.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        target, room_id, users, claim, in_flight, at = sys.argv[2:8]
        asyncio.run(
            worker(target, room_id, json.loads(users), claim == "1", int(in_flight), float(at))
        )
        sys.exit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=256)
    args = parser.parse_args()
    asyncio.run(main(args.root.resolve(), args.users, args.in_flight))
