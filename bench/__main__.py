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
the PostgreSQL at 127.0.0.1:5432, else an embedded one; it is dropped at the end. (On
a Citus cluster from support/citus.py: docs/scaling.md has the command.)

Here: the run (a database per scale, the servers, the cells). The calls and their
bodies are in bench/calls.py, the server processes and their CPU in
bench/processes.py, h2load in bench/h2load.py, the Python generator in bench/load.py,
one cell's measurement in bench/measure.py, the Markdown in bench/report.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.calls import HEALTH, PER_ROOM, UPSERT, fixed_cells, upsert_bodies
from bench.load import LoadGenerator
from bench.measure import measure, median_cell
from bench.processes import ROOT, Server, start_ours, start_reference
from bench.reference import VARIANTS
from bench.seed import seed
from bench.webinar import run_webinar
from service.storage.db import migrate
from support import citus
from support.database import admin_dsn as choose_admin_dsn
from support.database import with_database

WORK = ROOT / ".data" / "bench"
SCALES = {"small": 1_000, "big": 1_000_000}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- the run -------------------------------------------------------------------------


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
    # On a Citus coordinator (support/citus.py sets ROOMS_TEST_CITUS=1): the database on
    # every node, the workers registered, so that the migrations distribute the schema.
    on_citus = os.environ.get("ROOMS_TEST_CITUS") == "1"
    try:
        if on_citus:
            asyncio.run(citus.create_on_workers(admin, name))
            dsn = with_database(admin, name)
            asyncio.run(citus.register(dsn, asyncio.run(citus.workers_of(admin))))
        yield with_database(admin, name), name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if on_citus:
            asyncio.run(citus.drop_on_workers(admin, name))


async def _prepare(dsn: str, rooms: int) -> None:
    await _migrated(dsn)
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
                    cell = median_cell(runs)
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
            references: dict[str, dict[str, Any]] = {}
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
            # The other ways of writing the minimal server, to show none is cheaper.
            variants: dict[str, dict[str, Any]] = {}
            for variant, label in VARIANTS.items():
                if args.only and "variants" not in args.only:
                    continue  # "registered" again, minutes later: the table's own base
                ref = start_reference(None, WORK / "reference.log", False, variant)
                try:
                    variants |= cells_of(ref, [(label, HEALTH, [b""])], [64])
                finally:
                    ref.stop()
            results["variants"] = variants
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


async def _migrated(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection)
    finally:
        await connection.close()


def webinar_cell(admin: str, args: argparse.Namespace) -> dict[str, Any]:
    """The webinar's opening minute and the waiting-room burst (bench/webinar.py), on a
    fresh database of their own."""
    with fresh_database(admin) as (dsn, database):
        asyncio.run(_migrated(dsn))
        log("webinar: 5,000 AuthorizeJoin, 5,000 claims, 500 knocks and admits")
        found = run_webinar(admin, dsn, database, WORK / "server-webinar.log", args.server_root)
        for label, wave in found.items():
            log(
                f"webinar {label}: {wave['rate']:,.0f}/s in {wave['seconds']:.2f} s,"
                f" server {wave['server_cpu_us']:.0f} µs/call pg {wave['pg_cpu_us']:.0f}"
                f" µs/call {wave['outcomes']}"
            )
        return found


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
        with choose_admin_dsn(
            "ROOMS_BENCH_ADMIN_URL", WORK / "embedded", containers=False, cluster=False
        ) as (
            admin,
            source,
        ):
            results["database"] = source
            for scale in scales:
                results["scales"][scale] = run_scale(admin, SCALES[scale], args, load)
            if not args.only or "webinar" in args.only:
                results["webinar"] = webinar_cell(admin, args)
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
