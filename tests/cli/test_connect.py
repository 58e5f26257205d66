"""Where and how the `rooms` tool connects: the address, mutual TLS and the API key
from the environment or flags; and the installed console script as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.security.keys import new_key
from service.server import RunningServer
from tests.cli.in_process import invoke
from tests.conftest import ServerFactory
from tests.shared.fixtures import Certificates

pytestmark = pytest.mark.processes


async def test_the_address_from_the_environment(server: RunningServer) -> None:
    result = await invoke("roles", env={"ROOMS_ADDRESS": f"127.0.0.1:{server.port}"})
    assert result.exit_code == 0, result.stderr
    unreachable = await invoke("--timeout", "2", "roles", env={"ROOMS_ADDRESS": "127.0.0.1:1"})
    assert unreachable.exit_code == 1
    assert unreachable.stderr.startswith("error: UNAVAILABLE: ")


async def test_mutual_tls_and_api_key_from_the_environment_or_flags(
    start: ServerFactory, certificates: Certificates
) -> None:
    key, entry = new_key("acme", "cli-tests")
    running = await start(api_keys=entry.line(), **certificates.served(mutual=True))
    env = {
        "ROOMS_ADDRESS": f"127.0.0.1:{running.port}",
        "ROOMS_API_KEY": key,
        "ROOMS_TLS_CA": str(certificates.ca),
        "ROOMS_TLS_CERT": str(certificates.client_cert),
        "ROOMS_TLS_KEY": str(certificates.client_key),
    }
    created = await invoke("create", "--json", env=env)
    assert created.exit_code == 0, created.stderr
    room_id = json.loads(created.stdout)["roomId"]

    flags = [
        "--address", f"127.0.0.1:{running.port}", "--api-key", key,
        "--tls-ca", str(certificates.ca), "--tls-cert", str(certificates.client_cert),
        "--tls-key", str(certificates.client_key),
    ]  # fmt: skip
    shown = await invoke(*flags, "show", room_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["roomId"] == room_id

    no_key = await invoke("show", room_id, env={**env, "ROOMS_API_KEY": None})
    assert no_key.exit_code == 1
    assert no_key.stderr.startswith("error: UNAUTHENTICATED (UNAUTHENTICATED): ")
    no_cert = await invoke(
        "--timeout",
        "3",
        "show",
        room_id,
        env={**env, "ROOMS_TLS_CERT": None, "ROOMS_TLS_KEY": None},
    )
    assert no_cert.exit_code == 1
    assert no_cert.stderr.startswith("error: UNAVAILABLE: ")
    half = await invoke("show", room_id, env={**env, "ROOMS_TLS_KEY": None})
    assert half.exit_code == 1
    assert "both a client certificate and its private key" in half.stderr


async def test_the_console_script(server: RunningServer) -> None:
    script = Path(sys.executable).parent / "rooms"
    assert script.exists(), "the rooms console script is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    env["ROOMS_ADDRESS"] = f"127.0.0.1:{server.port}"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(script), "create", "--attendee", "someone", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    room = json.loads(done.stdout)
    assert room["participantCount"] == 1
    failed = await asyncio.to_thread(
        subprocess.run,
        [str(script), "show", "no-such-room"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: ROOM_NOT_FOUND (NOT_FOUND): ")
