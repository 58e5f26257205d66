"""The official JavaScript client (@azure/communication-rooms 1.2.0, with
@azure/communication-identity) against the ACS API: tests/acs/node/check.js, installed
with npm from its package-lock.json at test time, trusting the CA by NODE_EXTRA_CA_CERTS."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest

from service.server import RunningServer
from tests.acs.conftest import Tls
from tests.acs.sdk_calls import new_tenant

CHECK = Path(__file__).with_name("node")

pytestmark = [
    pytest.mark.examples,
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="node and npm are not on PATH: the JavaScript client cannot run",
    ),
]


def _installed() -> Path:
    wanted = json.loads((CHECK / "package.json").read_text())["dependencies"]
    if not all((CHECK / "node_modules" / name).is_dir() for name in wanted):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=CHECK, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return CHECK


async def test_the_javascript_client_uses_every_method(
    acs_server: RunningServer, pool: asyncpg.Pool, acs_tls: Tls
) -> None:
    folder = await asyncio.to_thread(_installed)
    connection = await new_tenant(pool, acs_server, "node")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    env["NODE_EXTRA_CA_CERTS"] = str(acs_tls.ca)
    process = await asyncio.create_subprocess_exec(
        "node", "check.js", connection, cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["alice"].startswith("8:acs:") and result["alice"] != result["bob"]
    room = result["room"]
    assert (room["validFrom"], room["validUntil"]) == (
        result["sent"]["validFrom"],
        result["sent"]["validUntil"],
    )
    assert room["pstnDialOutEnabled"] is True and result["updatedPstn"] is False
    assert result["got"] == room["id"]
    assert result["participantPages"] == [2, 1]  # page size 2: two pages
    assert sorted(result["after"]) == sorted(
        [[result["bob"], "Collaborator"], ["8:acs:third", "Attendee"]]
    )
    assert result["roomPages"] == [2, 1] and result["listed"] == result["made"]
    assert result["deleted"] == {"status": 404, "code": "NotFound"}
    assert result["refused"] == {"status": 401, "code": "Denied"}
    assert connection.rpartition("accesskey=")[2] not in out.decode() + err.decode()
