"""The `rooms` command line tool against the real server, run in-process with
click's CliRunner in a worker thread (each invocation runs its own event loop while
the server keeps serving on the test's loop)."""

from __future__ import annotations

import pytest

from service.server import RunningServer
from tests.cli.in_process import Cli


@pytest.fixture
def rooms_cli(server: RunningServer) -> Cli:
    return Cli(server.port)
