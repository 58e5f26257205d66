"""A configuration the server cannot run with: one line on the console that names the
ROOMS_* variable and what is wrong, exit status 2, no traceback, nothing else."""

from __future__ import annotations

import asyncio

import pytest

from support.processes import free_port
from tests.shared.processes import spawn_server

pytestmark = pytest.mark.processes

SECRET = "pa55-w0rd-never-shown"

CASES = {
    "workers-not-a-number": ({"ROOMS_WORKERS": "abc"}, "ROOMS_WORKERS"),
    "unreachable-database": (
        # A port nothing listens on (the password must not be shown).
        {"ROOMS_DATABASE_URL": f"postgresql://postgres:{SECRET}@127.0.0.1:{{free}}/rooms"},
        "ROOMS_DATABASE_URL",
    ),
    "missing-tls-file": (
        {
            "ROOMS_TLS_CERT_FILE": "/nonexistent/rooms-cert.pem",
            "ROOMS_TLS_KEY_FILE": "/nonexistent/rooms-key.pem",
        },
        "ROOMS_TLS_CERT_FILE",
    ),
    "no-keys-beyond-loopback": ({"ROOMS_LISTEN_ADDRESS": "0.0.0.0:{free}"}, "ROOMS_API_KEYS"),
    "no-keys-beyond-loopback-with-workers": (
        {"ROOMS_LISTEN_ADDRESS": "0.0.0.0:{free}", "ROOMS_WORKERS": "2"},
        "ROOMS_API_KEYS",
    ),
    "bad-key-entry": ({"ROOMS_API_KEYS": "sha256:nothex:acme:billing"}, "ROOMS_API_KEYS"),
    # The parent checks the database once before starting any worker: one line, not
    # one a worker and one of its own.
    "unreachable-database-with-workers": (
        {
            "ROOMS_DATABASE_URL": f"postgresql://postgres:{SECRET}@127.0.0.1:{{free}}/rooms",
            "ROOMS_WORKERS": "2",
        },
        "ROOMS_DATABASE_URL",
    ),
}


@pytest.fixture(scope="module")
async def outcomes(database_url: str) -> dict[str, tuple[int | None, str]]:
    """Every case's exit status and console output; the processes run at once."""

    async def run(env: dict[str, str]) -> tuple[int | None, str]:
        env = {name: value.replace("{free}", str(free_port())) for name, value in env.items()}
        process = await spawn_server(
            database_url, free_port(), output=asyncio.subprocess.PIPE, **env
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode, output.decode()

    results = await asyncio.gather(*(run(env) for env, _ in CASES.values()))
    return dict(zip(CASES, results, strict=True))


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_configuration_is_one_line_and_exit_status_2(
    outcomes: dict[str, tuple[int | None, str]], case: str
) -> None:
    status, text = outcomes[case]
    variable = CASES[case][1]
    lines = text.splitlines()
    assert status == 2, text
    assert len(lines) == 1, text
    assert lines[0].startswith(f"rooms: configuration error: {variable}: "), text
    assert "Traceback" not in text
    assert SECRET not in text
