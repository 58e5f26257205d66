"""`acs-keys` from the command line, and server processes: a key created while they run
works at once on every replica (one of them two workers on one port), and a revoked
key answers 401 on every replica within a second."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError

from support.database import ROOT
from support.processes import free_port
from tests.acs.conftest import Tls
from tests.acs.sdk_calls import client_of, off_loop
from tests.shared.processes import replicas

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("trust_ca")]


async def acs_keys(database_url: str, *args: str) -> tuple[int, list[str], str]:
    """`python -m service acs-keys ...`: status, stdout lines, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service", "acs-keys", *args,
        cwd=ROOT,
        env={**os.environ, "ROOMS_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines(), err.decode()


def _at(connection: str, port: int) -> str:
    return connection.replace("127.0.0.1:0", f"127.0.0.1:{port}")


async def test_keys_from_the_command_line_on_every_replica(database_url: str, acs_tls: Tls) -> None:
    ports = [free_port(), free_port()]
    tls = {"ROOMS_ACS_TLS_CERT_FILE": str(acs_tls.cert), "ROOMS_ACS_TLS_KEY_FILE": str(acs_tls.key)}
    status, lines, _ = await acs_keys(
        database_url, "create", "--tenant", "replicated", "--endpoint", "https://127.0.0.1:0"
    )
    assert status == 0 and len(lines) == 1 and lines[0].startswith("endpoint=https://127.0.0.1:0/;")
    connection = lines[0]
    status, ids, _ = await acs_keys(database_url, "list", "--tenant", "replicated")
    assert status == 0 and len(ids) == 1 and ids[0] not in connection
    first = {"ROOMS_ACS_LISTEN_ADDRESS": f"127.0.0.1:{ports[0]}", "ROOMS_WORKERS": "2", **tls}
    second = {"ROOMS_ACS_LISTEN_ADDRESS": f"127.0.0.1:{ports[1]}", **tls}
    async with replicas(database_url, 1, **first), replicas(database_url, 1, **second):
        # Several connections (clients) per replica: both workers of the first answer.
        clients = [client_of(_at(connection, port)) for port in ports for _ in range(4)]
        room = await off_loop(clients[0].create_room)
        for client in clients:
            assert (await off_loop(client.get_room, room.id)).id == room.id
        status, _, _ = await acs_keys(database_url, "revoke", "--tenant", "replicated", ids[0])
        revoked = time.monotonic()
        assert status == 0
        for client in clients:
            await _refused_within(functools.partial(client.get_room, room.id), revoked)
    status, ids, _ = await acs_keys(database_url, "list", "--tenant", "replicated")
    assert (status, ids) == (0, [])
    status, _, error = await acs_keys(database_url, "revoke", "--tenant", "replicated", "nope")
    assert status == 1 and "nope" in error


async def _refused_within(call: Callable[[], Any], since: float, seconds: float = 1.0) -> None:
    while True:
        try:
            await off_loop(call)
        except ClientAuthenticationError:
            return
        assert time.monotonic() - since < seconds, "a revoked key still works after 1 s"
