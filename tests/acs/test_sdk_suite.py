"""The Azure SDK's own tests against rooms: the 57 tests shipped in the sdist of
azure-communication-rooms 1.2.0 (test_rooms_client.py, test_rooms_client_async.py,
test_hmac.py), unchanged, in live mode, with the stand-in for devtools_testutils in
tests/acs/sdk/. The sdist comes from PyPI (pip download) at test time."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tarfile
from pathlib import Path

import asyncpg
import pytest

from service.server import RunningServer
from tests.acs.conftest import Tls, endpoint_of, new_connection_string
from tests.shared.commands import run

SDK = "azure-communication-rooms==1.2.0"
STAND_IN = Path(__file__).with_name("sdk")
SUITE = ("test_rooms_client.py", "test_rooms_client_async.py", "test_hmac.py")


async def _run(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    status, text = await run(*command, cwd=cwd, env=env, within=600)
    assert status == 0, f"{command[:4]} exited with {status}:\n{text}"
    return text


async def sdk_tests(folder: Path) -> Path:
    """The sdist's tests/ folder, downloaded and unpacked into `folder`."""
    await _run(
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", ":all:", SDK, "-d", str(folder),
    )  # fmt: skip
    return await asyncio.to_thread(_unpack, folder)


def _unpack(folder: Path) -> Path:
    (archive,) = folder.glob("azure_communication_rooms-1.2.0.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "azure_communication_rooms-1.2.0" / "tests"


@pytest.mark.processes
async def test_the_sdk_own_suite_passes_live_against_rooms(
    acs_server: RunningServer, pool: asyncpg.Pool, acs_tls: Tls, tmp_path: Path
) -> None:
    tests = await sdk_tests(tmp_path)
    connection, _ = await new_connection_string(pool, "sdk-suite", endpoint_of(acs_server))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ROOMS_", "PYTEST_"))},
        "AZURE_TEST_RUN_LIVE": "true",
        "AZURE_SKIP_LIVE_RECORDING": "true",
        "COMMUNICATION_CONNECTION_STRING_ROOMS": connection,
        # The sync client (requests) and the async one (aiohttp, OpenSSL's defaults).
        "REQUESTS_CA_BUNDLE": str(acs_tls.ca),
        "SSL_CERT_FILE": str(acs_tls.ca),
        "PYTHONPATH": str(STAND_IN),
    }
    output = await _run(
        sys.executable, "-m", "pytest", "-q", "-c", str(STAND_IN / "pytest.ini"),
        "--rootdir", str(tests), *(str(tests / name) for name in SUITE),
        cwd=tests, env=env,
    )  # fmt: skip
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b57 passed\b", summary), output
    assert not re.search(r"failed|error|skipped", summary), output
    # The key never reaches the output (the SDK logs requests at its default level).
    assert connection.rpartition("accesskey=")[2] not in output
