"""A real Citus cluster on this machine for the tests (`make test-citus`): a coordinator
and two workers, each a stock PostgreSQL 15 (initdb's configuration, plus
`shared_preload_libraries=citus` and its own port; max_connections stays 100), in a
temporary directory.

    python -m support.citus run -- <command>   # start, run the command against it, stop
    python -m support.citus run --plain -- <command>   # one PostgreSQL alone, alike

The command gets ROOMS_TEST_DATABASE_URL (the coordinator's `postgres` database, with
the workers registered there) and ROOMS_TEST_CITUS=1, which makes the tests' database
fixture create each run's database on every node and distribute it by executing the SQL
block of docs/scaling.md (`distribute_as_documented`). Citus comes from the machine's
PostgreSQL (`pg_config --pkglibdir`/citus.so); when it is missing, from build.sh in
ROOMS_CITUS_SOURCE, else ../shared/citus beside the repository; when neither is here,
`run` prints one line and exits 0 (a skip), so the project builds anywhere.

PostgreSQL refuses to run as root, so as root every node runs as the `postgres` system
user (runuser). pytest-postgresql's process fixture was considered: it runs pg_ctl as
the calling user, so it cannot start a server as root.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from support.database import ROOT, scratch_database, with_database
from support.processes import free_port

PG_BIN = Path(os.environ.get("ROOMS_CITUS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SCALING = ROOT / "docs" / "scaling.md"
SYSTEM_USER = "postgres"  # who runs the nodes when we are root


def source_dir() -> Path:
    return Path(os.environ.get("ROOMS_CITUS_SOURCE") or ROOT.parent / "shared" / "citus")


def installed() -> bool:
    found = subprocess.run(
        [str(PG_BIN / "pg_config"), "--pkglibdir"], capture_output=True, text=True, check=True
    )
    return (Path(found.stdout.strip()) / "citus.so").exists()


def documented_block() -> str:
    """The SQL block of docs/scaling.md's "Distributing the schema", as written there."""
    text = SCALING.read_text()
    section = text.split("## Distributing the schema", 1)[1]
    match = re.search(r"```sql\n(.*?)```", section, re.S)
    assert match, "docs/scaling.md: no ```sql block under 'Distributing the schema'"
    return match[1]


def _as_node_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class Node:
    name: str
    port: int
    data: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        command = _as_node_user([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args])
        subprocess.run(command, check=True, timeout=120, stdout=subprocess.DEVNULL)


def _start_node(root: Path, name: str, citus: bool) -> Node:
    node = Node(name, free_port(), root / name)
    initdb = [str(PG_BIN / "initdb"), "-D", str(node.data), "-U", "postgres", "-A", "trust"]
    subprocess.run(_as_node_user([*initdb, "--no-sync"]), check=True, capture_output=True)
    options = f"-p {node.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root}" + (
        " -c shared_preload_libraries=citus" if citus else ""
    )
    node.pg_ctl("-w", "-l", str(root / f"{name}.log"), "-o", options, "start")
    return node


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def register(coordinator: str, workers: Sequence[tuple[str, int]]) -> None:
    """Citus in the database of `coordinator`, with `workers` added as its nodes (the
    same database on each worker must hold the extension already)."""
    port = int(coordinator.rsplit(":", 1)[1].split("/", 1)[0])
    await _execute(
        coordinator,
        "CREATE EXTENSION IF NOT EXISTS citus",
        f"SELECT citus_set_coordinator_host('127.0.0.1', {port})",
        *(f"SELECT citus_add_node('{host}', {p})" for host, p in workers),
    )


@contextlib.contextmanager
def cluster(workers: int = 2, *, citus: bool = True) -> Iterator[tuple[Node, list[Node]]]:
    """A coordinator and `workers` workers, Citus created and the workers registered in
    each node's `postgres` database; stopped and deleted afterwards. With `citus`
    false: one plain PostgreSQL alone, started the same way (for comparisons)."""
    root = Path(tempfile.mkdtemp(prefix="rooms-citus-"))
    shutil.chown(root, SYSTEM_USER) if os.geteuid() == 0 else None
    nodes: list[Node] = []
    names = ["coordinator", *(f"worker{i}" for i in range(1, workers + 1))] if citus else ["pg"]
    try:
        for name in names:
            nodes.append(_start_node(root, name, citus))
        if citus:
            for node in nodes[1:]:
                asyncio.run(_execute(node.dsn, "CREATE EXTENSION citus"))
            asyncio.run(register(nodes[0].dsn, [("127.0.0.1", n.port) for n in nodes[1:]]))
        yield nodes[0], nodes[1:]
    finally:
        for node in nodes:
            with contextlib.suppress(subprocess.SubprocessError):
                node.pg_ctl("-w", "-m", "immediate", "stop")
        for log in sorted(root.glob("*.log")):
            _summarize(log)
        shutil.rmtree(root, ignore_errors=True)


def _summarize(log: Path) -> None:
    """The node's ERROR, FATAL and PANIC lines, counted by message (the tests provoke
    many on purpose: refused writes, cancelled statements, killed connections)."""
    found: dict[str, int] = {}
    statements: dict[str, str] = {}  # the first statement each message was about
    message = ""
    for line in log.read_text(errors="replace").splitlines():
        match = re.search(r"\b(ERROR|FATAL|PANIC):  (.*)", line)
        if match:
            message = re.sub(r"\d+", "N", f"{match[1]}: {match[2]}")[:160]
            found[message] = found.get(message, 0) + 1
        elif message and (statement := re.search(r"\bSTATEMENT:  (.*)", line)):
            # Up to its first literal: a worker's copy of a statement has the values
            # written in (a webhook's secret, for one), and this is printed.
            statements.setdefault(message, " ".join(statement[1].split("'")[0].split())[:200])
            message = ""
    print(f"[citus] {log.name}: {sum(found.values())} ERROR/FATAL/PANIC lines", file=sys.stderr)
    for message, count in sorted(found.items(), key=lambda item: -item[1]):
        print(f"[citus]   {count:5d} {message}", file=sys.stderr)
        if message in statements:
            print(f"[citus]         in: {statements[message]}", file=sys.stderr)


async def workers_of(admin: str) -> list[tuple[str, int]]:
    """The active worker nodes registered in the database of `admin`."""
    connection = await asyncpg.connect(admin)
    try:
        rows = await connection.fetch(
            "SELECT nodename, nodeport FROM pg_dist_node"
            " WHERE groupid <> 0 AND isactive ORDER BY nodeport"
        )
    finally:
        await connection.close()
    return [(row["nodename"], row["nodeport"]) for row in rows]


async def _worker_admins(admin: str) -> list[str]:
    return [f"postgresql://postgres@{h}:{p}/postgres" for h, p in await workers_of(admin)]


async def create_on_workers(admin: str, name: str) -> None:
    """Database `name` on each worker of the coordinator of `admin`, with Citus."""
    for worker in await _worker_admins(admin):
        await _execute(worker, f'CREATE DATABASE "{name}"')
        await _execute(with_database(worker, name), "CREATE EXTENSION citus")


async def drop_on_workers(admin: str, name: str) -> None:
    for worker in await _worker_admins(admin):
        await _execute(worker, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def citus_scratch_database(admin: str) -> AsyncIterator[str]:
    """A fresh database on the coordinator of `admin` and on each of its workers (there
    with the citus extension, as docs/scaling.md asks). The coordinator's database has
    no extension yet: `distribute_as_documented` does that part, as an operator would."""
    async with scratch_database(admin) as dsn:
        name = dsn.rsplit("/", 1)[1]
        try:
            await create_on_workers(admin, name)
            yield dsn
        finally:
            await drop_on_workers(admin, name)


async def distribute_as_documented(dsn: str, admin: str) -> None:
    """What docs/scaling.md tells an operator to do on a migrated database: the citus
    extension, the workers (the block's commented `citus_add_node`), then the block."""
    await register(dsn, await workers_of(admin))
    await _execute(dsn, documented_block())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.citus")
    parser.add_argument("verb", choices=["run"])
    parser.add_argument(
        "--plain", action="store_true", help="one PostgreSQL without Citus, started alike"
    )
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args, command = parser.parse_args(argv[:split]), argv[split + 1 :]
    if not (PG_BIN / "initdb").exists():
        print(f"test-citus: skipped, no PostgreSQL 15 at {PG_BIN}")
        return 0
    if not args.plain and not installed():
        build = source_dir() / "build.sh"
        if not build.exists():
            print(f"test-citus: skipped, Citus is not installed and {build} is absent")
            return 0
        subprocess.run(["bash", str(build), str(PG_BIN / "pg_config")], check=True)
    on = cluster(citus=not args.plain)
    with on as (coordinator, workers), tempfile.TemporaryDirectory() as logs:
        ports = ", ".join(str(w.port) for w in workers)
        print(f"[citus] coordinator on {coordinator.port}, workers on {ports}", flush=True)
        print(f"[citus] running: {' '.join(command)}", flush=True)
        env = {
            **os.environ,
            "ROOMS_TEST_DATABASE_URL": coordinator.dsn,
            "ROOMS_TEST_CITUS": "0" if args.plain else "1",
            "ROOMS_TEST_SERVER_LOGS": logs,  # read by tests/citus/errors.py
        }
        return subprocess.run(command, env=env, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
