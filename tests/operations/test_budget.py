"""The suite's connection budget, from outside: a server that cannot give the suite
its budget stops the run at the start with one line; a run whose peak passes the
budget fails, even when every test passed."""

from __future__ import annotations

import os
import sys

import pytest

from support.database import ROOT
from tests.shared.commands import run

pytestmark = pytest.mark.processes

# Tests that start a server (a pool, a LISTEN and a health connection) for seconds.
SAMPLE = "tests/admission"


async def _pytest(budget: int) -> tuple[int, str]:
    """A run of SAMPLE on a database server of its own (as `make test` chooses one),
    so that this run's connections do not count there."""
    env = {**os.environ, "ROOMS_TEST_CONNECTION_BUDGET": str(budget)}
    for inherited in ("ROOMS_TEST_DATABASE_URL", "ROOMS_TEST_CITUS", "PYTEST_XDIST_WORKER"):
        env.pop(inherited, None)
    return await run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        SAMPLE,
        cwd=ROOT,
        env=env,
        within=120,
    )


async def test_a_server_without_room_for_the_budget_stops_the_run_in_one_line() -> None:
    status, output = await _pytest(100_000)
    assert status == 3, output
    lines = [line for line in output.splitlines() if "rooms tests need 100000" in line]
    assert len(lines) == 1, output
    assert "max_connections" in lines[0] and "ROOMS_TEST_DATABASE_URL" in lines[0]
    assert " passed" not in output


async def test_a_peak_over_the_budget_fails_a_run_whose_tests_passed() -> None:
    status, output = await _pytest(1)
    assert " passed" in output and " failed" not in output, output
    assert "rooms: at most" in output and "(budget 1," in output, output
    assert status == pytest.ExitCode.TESTS_FAILED, output
