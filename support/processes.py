"""Real server processes for tests: `python -m service` on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import BinaryIO

from support.database import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_file(folder: str, port: int) -> BinaryIO:
    return open(os.path.join(folder, f"server-{port}.log"), "ab")


async def spawn_server(
    database_url: str, port: int, *, output: int = asyncio.subprocess.PIPE, **settings: str
) -> asyncio.subprocess.Process:
    """Start `python -m service` on 127.0.0.1:`port` against `database_url`, with more
    `ROOMS_*` settings by keyword (e.g. ROOMS_WORKERS="2")."""
    env = {
        **os.environ,
        "ROOMS_DATABASE_URL": database_url,
        "ROOMS_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        # The wall clock: leave the rooms other tests made at the test clock alone.
        "ROOMS_LIFECYCLE_INTERVAL_SECONDS": "0",
        **settings,
    }
    # Output nobody reads goes to a file there instead, in JSON lines, when the run checks
    # every server's log afterwards (`make test-citus`: tests/citus/errors.py).
    logs = os.environ.get("ROOMS_TEST_SERVER_LOGS")
    if logs and output == asyncio.subprocess.DEVNULL:
        env.setdefault("ROOMS_LOG_FORMAT", "json")
        log = _log_file(logs, port)
        try:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "service", env=env, cwd=ROOT, stdout=log, stderr=log
            )
        finally:
            log.close()  # the process has its own copy
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        env=env,
        cwd=ROOT,
        stdout=output,
        stderr=asyncio.subprocess.STDOUT,
    )
